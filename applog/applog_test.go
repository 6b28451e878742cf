package applog

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvAndFlags(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want Settings
	}{
		{"defaults", nil, nil, Settings{Level: "info", Format: "text"}},
		{"blank is unset", map[string]string{"LOG_LEVEL": "  ", "LOG_FORMAT": ""}, nil, Settings{Level: "info", Format: "text"}},
		{"environment", map[string]string{"LOG_LEVEL": "debug", "LOG_FORMAT": "json"}, nil, Settings{Level: "debug", Format: "json"}},
		{"flags win", map[string]string{"LOG_LEVEL": "debug", "LOG_FORMAT": "json"}, []string{"-log-level", "warn", "-log-format", "text"},
			Settings{Level: "warn", Format: "text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := FromEnv(envOf(tt.env))
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			s.Flags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if s != tt.want {
				t.Errorf("got %+v, want %+v", s, tt.want)
			}
			if err := s.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestValidateNamesTheVariableAndTheValues(t *testing.T) {
	tests := []struct {
		name string
		s    Settings
		want []string // all in the one error
	}{
		{"bad level", Settings{Level: "loud"}, []string{`LOG_LEVEL="loud"`, "debug, info, warn or error"}},
		{"bad format", Settings{Format: "xml"}, []string{`LOG_FORMAT="xml"`, "text or json"}},
		{"both at once", Settings{Level: "verbose", Format: "yaml"}, []string{`LOG_LEVEL="verbose"`, `LOG_FORMAT="yaml"`}},
		{"slog's offsets are not accepted", Settings{Level: "info+2"}, []string{`LOG_LEVEL="info+2"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if _, nerr := tt.s.New(io.Discard); nerr == nil || nerr.Error() != err.Error() {
				t.Errorf("New = %v, want Validate's error", nerr)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name      string
		s         Settings
		debugSeen bool
		infoSeen  bool
		json      bool
	}{
		{"zero value: info, text", Settings{}, false, true, false},
		{"debug json", Settings{Level: "debug", Format: "json"}, true, true, true},
		{"upper case", Settings{Level: "ERROR", Format: "JSON"}, false, false, true},
		{"warn text", Settings{Level: "warn", Format: "text"}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			l, err := tt.s.New(&b)
			if err != nil {
				t.Fatal(err)
			}
			l.Debug("d-line")
			l.Info("i-line")
			l.Error("e-line")
			out := b.String()
			if got := strings.Contains(out, "d-line"); got != tt.debugSeen {
				t.Errorf("debug logged %v, want %v:\n%s", got, tt.debugSeen, out)
			}
			if got := strings.Contains(out, "i-line"); got != tt.infoSeen {
				t.Errorf("info logged %v, want %v:\n%s", got, tt.infoSeen, out)
			}
			if !strings.Contains(out, "e-line") {
				t.Errorf("error not logged:\n%s", out)
			}
			first, _, _ := strings.Cut(out, "\n")
			if isJSON := json.Valid([]byte(first)); isJSON != tt.json {
				t.Errorf("line %q: JSON %v, want %v", first, isJSON, tt.json)
			}
		})
	}
}

func TestLogValues(t *testing.T) {
	var b bytes.Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "log", Settings{Level: "WARN"},
		"set", Redacted("hunter2"), "unset", Redacted(""))
	out := b.String()
	for _, w := range []string{"log.level=warn", "log.format=text", "set=[redacted]", `unset=""`} {
		if !strings.Contains(out, w) {
			t.Errorf("%q lacks %q", out, w)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("secret logged: %s", out)
	}
}
