package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(t *testing.T, c Config)
		wantErr string // substring of Load's error
	}{
		{name: "defaults", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw"}, check: func(t *testing.T, c Config) {
			if c.Addr != "127.0.0.1:8501" || c.MarketTZ != "Asia/Jakarta" || c.MySQLAddr != "127.0.0.1:3306" ||
				c.MySQLDatabase != "trading" || c.MySQLUser != "trading_dashboard" || c.CassandraKeyspace != "trading" ||
				len(c.CassandraHosts) != 1 || c.CassandraHosts[0] != "127.0.0.1" || c.RawInterval != 5*time.Second ||
				c.AggInterval != 15*time.Second || c.AggTrigger != time.Minute || c.Location == nil || c.Location.String() != "Asia/Jakarta" ||
				c.CassandraUser != "trading_dashboard" || c.CassandraPassword != "" || c.CassandraConsistency != gocql.LocalQuorum {
				t.Errorf("unexpected defaults: %+v", c)
			}
		}},
		{name: "consistency", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw", "CASSANDRA_CONSISTENCY": "local_one"},
			check: func(t *testing.T, c Config) {
				if c.CassandraConsistency != gocql.LocalOne {
					t.Errorf("CassandraConsistency %v, want LOCAL_ONE", c.CassandraConsistency)
				}
			}},
		{name: "consistency flag wins", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw", "CASSANDRA_CONSISTENCY": "ONE"},
			args: []string{"-cassandra-consistency", "QUORUM"}, check: func(t *testing.T, c Config) {
				if c.CassandraConsistency != gocql.Quorum {
					t.Errorf("CassandraConsistency %v, want QUORUM", c.CassandraConsistency)
				}
			}},
		{name: "ANY is for writes", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw", "CASSANDRA_CONSISTENCY": "ANY"},
			wantErr: `CASSANDRA_CONSISTENCY (-cassandra-consistency): "ANY" is not a read consistency level`},
		{name: "serial levels refused", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw", "CASSANDRA_CONSISTENCY": "LOCAL_SERIAL"},
			wantErr: "want ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM or LOCAL_ONE"},
		{name: "unknown consistency", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw", "CASSANDRA_CONSISTENCY": "MOST"},
			wantErr: `"MOST"`},
		{name: "cassandra credentials", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw",
			"CASSANDRA_DASHBOARD_USER": " dash_ro ", "CASSANDRA_DASHBOARD_PASSWORD": " pass word "}, check: func(t *testing.T, c Config) {
			// the user is trimmed like every name; a password is taken exactly as given
			if c.CassandraUser != "dash_ro" || c.CassandraPassword != " pass word " {
				t.Errorf("CassandraUser %q, CassandraPassword %q", c.CassandraUser, string(c.CassandraPassword))
			}
		}},
		{name: "blank cassandra user falls back to the default", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw",
			"CASSANDRA_DASHBOARD_USER": "  ", "CASSANDRA_DASHBOARD_PASSWORD": "x"}, check: func(t *testing.T, c Config) {
			if c.CassandraUser != "trading_dashboard" {
				t.Errorf("CassandraUser %q, want trading_dashboard", c.CassandraUser)
			}
		}},
		{name: "env and flags", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw", "DASHBOARD_ADDR": "127.0.0.1:9000",
			"CASSANDRA_HOSTS": " a:9042, b ,", "DASHBOARD_RAW_INTERVAL": "2s"},
			args: []string{"-addr", "127.0.0.1:9100", "-agg-interval", "1m"}, check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:9100" || c.RawInterval != 2*time.Second || c.AggInterval != time.Minute ||
					strings.Join(c.CassandraHosts, "|") != "a:9042|b" {
					t.Errorf("flags or env not applied: %+v", c)
				}
			}},
		{name: "the job's aggregate trigger", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw", "JOB_AGG_TRIGGER": "2m"},
			check: func(t *testing.T, c Config) {
				if c.AggTrigger != 2*time.Minute {
					t.Errorf("AggTrigger %v, want 2m from JOB_AGG_TRIGGER", c.AggTrigger)
				}
			}},
		{name: "aggregate trigger flag wins", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw", "JOB_AGG_TRIGGER": "2m"},
			args: []string{"-agg-trigger", "30s"}, check: func(t *testing.T, c Config) {
				if c.AggTrigger != 30*time.Second {
					t.Errorf("AggTrigger %v, want 30s", c.AggTrigger)
				}
			}},
		{name: "aggregate trigger too short", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw", "JOB_AGG_TRIGGER": "10ms"}, wantErr: "JOB_AGG_TRIGGER"},
		{name: "bad duration", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw", "DASHBOARD_RAW_INTERVAL": "soon"}, wantErr: "DASHBOARD_RAW_INTERVAL"},
		{name: "missing password", env: map[string]string{}, wantErr: "MYSQL_DASHBOARD_PASSWORD is empty"},
		{name: "all problems at once", env: map[string]string{"MARKET_TZ": "Mars/Olympus", "DASHBOARD_ADDR": "nope",
			"DASHBOARD_AGG_INTERVAL": "1ms", "LOG_FORMAT": "xml"}, wantErr: "MARKET_TZ"},
		{name: "stray argument", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw"}, args: []string{"extra"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, envOf(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadReportsEverything(t *testing.T) {
	_, err := Load(nil, envOf(map[string]string{"MARKET_TZ": "Mars/Olympus", "DASHBOARD_ADDR": "nope",
		"DASHBOARD_AGG_INTERVAL": "1ms", "LOG_FORMAT": "xml", "LOG_LEVEL": "loud", "DASHBOARD_LATEST_TRADES": "many"}), io.Discard)
	for _, want := range []string{"DASHBOARD_ADDR", "MARKET_TZ", "MYSQL_DASHBOARD_PASSWORD", "DASHBOARD_AGG_INTERVAL",
		`LOG_FORMAT="xml"`, `LOG_LEVEL="loud"`, `DASHBOARD_LATEST_TRADES="many"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; does not mention %s", err, want)
		}
	}
}

func TestValidateCassandraUserWithPassword(t *testing.T) {
	tests := []struct {
		name       string
		user, pass Secret
		wantErr    bool
	}{
		{"no password, no user: no authentication", "", "", false},
		{"user and password", "u", "p", false},
		{"password without user", "", "p", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(nil, envOf(map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw"}), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			c.CassandraUser, c.CassandraPassword = string(tt.user), tt.pass
			err = c.Validate()
			if got := err != nil && strings.Contains(err.Error(), "CASSANDRA_DASHBOARD_USER is empty"); got != tt.wantErr {
				t.Errorf("Validate() = %v, want an error about CASSANDRA_DASHBOARD_USER: %v", err, tt.wantErr)
			}
		})
	}
}

// TestPasswordsNeverShown prints and logs a configuration every way a caller might and checks
// that neither password appears, while the non-secret parts do.
func TestPasswordsNeverShown(t *testing.T) {
	const mysqlPW, cassPW = "mysql-s3cret-value", "cass-s3cret-value"
	c, err := Load(nil, envOf(map[string]string{"MYSQL_DASHBOARD_PASSWORD": mysqlPW,
		"CASSANDRA_DASHBOARD_PASSWORD": cassPW, "CASSANDRA_HOSTS": "c1,c2"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	logged := func(newHandler func(io.Writer) slog.Handler, args ...any) string {
		var b bytes.Buffer
		slog.New(newHandler(&b)).Info("starting", args...)
		return b.String()
	}
	text := func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) }
	jsonH := func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) }
	marshalled, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, out string
		want      []string // non-secret parts that must be there
	}{
		{"String", c.String(), []string{"trading_dashboard@c1,c2/trading", "trading_dashboard@127.0.0.1:3306/trading"}},
		{"%v", fmt.Sprintf("%v", c), []string{"trading_dashboard@c1,c2"}},
		{"%+v", fmt.Sprintf("%+v", c), nil},
		{"%#v", fmt.Sprintf("%#v", c), []string{`CassandraPassword:"[redacted]"`}},
		{"%s of the secret", fmt.Sprintf("%s", c.CassandraPassword), []string{"[redacted]"}},
		{"%q of the secret", fmt.Sprintf("%q", c.CassandraPassword), []string{`"[redacted]"`}},
		{"%x of the secret", fmt.Sprintf("%x", c.CassandraPassword), []string{"[redacted]"}},
		{"%d of the secret (a bad verb)", fmt.Sprintf("%d", c.CassandraPassword), []string{"[redacted]"}},
		{"encoding/json", string(marshalled), []string{`"CassandraPassword":"[redacted]"`}},
		{"slog text, config", logged(text, "config", c), []string{"config.cassandra=trading_dashboard@c1,c2/trading", "config.cassandra_auth=true",
			"config.mysql_password=[redacted]", "config.cassandra_password=[redacted]", "config.log.level=info"}},
		{"slog json, config", logged(jsonH, "config", c), []string{`"cassandra":"trading_dashboard@c1,c2/trading"`, `"cassandra_auth":true`}},
		{"slog text, secret alone", logged(text, "pw", c.CassandraPassword), []string{"pw=[redacted]"}},
		{"slog json, secret alone", logged(jsonH, "pw", c.MySQLPassword), []string{`"pw":"[redacted]"`}},
		{"slog json, config as any", logged(jsonH, slog.Any("config", any(c))), []string{`"cassandra_auth":true`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pw := range []string{mysqlPW, cassPW} {
				if strings.Contains(tt.out, pw) {
					t.Errorf("output shows a password: %s", tt.out)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(tt.out, w) {
					t.Errorf("output lacks %q: %s", w, tt.out)
				}
			}
		})
	}
}

func TestNoCassandraPasswordMeansNoAuth(t *testing.T) {
	c, err := Load(nil, envOf(map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw"}), io.Discard)
	if err != nil {
		t.Fatalf("an empty CASSANDRA_DASHBOARD_PASSWORD must be valid (no authentication): %v", err)
	}
	// without a password the user is not shown: the dashboard will not use it
	if s := c.String(); !strings.Contains(s, "cassandra=127.0.0.1/trading") {
		t.Errorf("String() = %s, want cassandra=127.0.0.1/trading", s)
	}
	if got := fmt.Sprint(c.CassandraPassword); got != "" {
		t.Errorf("an empty secret prints as %q, want nothing", got)
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if _, err := Load([]string{"-h"}, envOf(nil), &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Load(-h) = %v, want flag.ErrHelp", err)
	}
	for _, w := range []string{"-addr", "DASHBOARD_ADDR", "-log-level", "LOG_LEVEL", "-log-format", "LOG_FORMAT"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("usage lacks %q:\n%s", w, out.String())
		}
	}
}
