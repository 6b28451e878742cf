package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"idxstream/applog"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoad(t *testing.T) {
	base := map[string]string{"MYSQL_PRODUCER_PASSWORD": "secret"}
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, c Config)
	}{
		{"defaults", nil, nil, func(t *testing.T, c Config) {
			want := Config{
				Topic: "trading_data", Brokers: []string{"127.0.0.1:9092"}, Interval: time.Second, Session: "continuous",
				KeyGroups: 6, MaxRecordTrades: 1000, IDBlock: 100000, Compression: "lz4",
				FlushTimeout: 30 * time.Second, Progress: 5 * time.Second, Log: applog.Settings{Level: "info", Format: "text"},
			}
			want.MySQL.Addr, want.MySQL.Database, want.MySQL.User, want.MySQL.Password = "127.0.0.1:3306", "trading", "trading_producer", "secret"
			if !reflect.DeepEqual(c, want) {
				t.Errorf("got  %+v\nwant %+v", c, want)
			}
		}},
		{"environment", map[string]string{
			"KAFKA_BOOTSTRAP_SERVERS": "a:1, b:2", "MYSQL_ADDR": "db:3307", "MYSQL_DATABASE": "d",
			"MYSQL_PRODUCER_USER": "u", "PRODUCER_RATE": "2500", "PRODUCER_INTERVAL": "250ms",
			"PRODUCER_SEED": "9", "PRODUCER_COMPRESSION": "zstd", "LOG_FORMAT": "json", "LOG_LEVEL": "debug",
			"PRODUCER_SESSION": "idx",
		}, nil, func(t *testing.T, c Config) {
			if !reflect.DeepEqual(c.Brokers, []string{"a:1", "b:2"}) || c.MySQL.Addr != "db:3307" || c.MySQL.Database != "d" || c.Session != "idx" ||
				c.MySQL.User != "u" || c.Rate != 2500 || c.Interval != 250*time.Millisecond || c.Seed != 9 ||
				c.Compression != "zstd" || c.Log != (applog.Settings{Level: "debug", Format: "json"}) {
				t.Errorf("environment not applied: %+v", c)
			}
		}},
		{"flags override environment", map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "a:1", "PRODUCER_RATE": "5", "PRODUCER_SESSION": "idx"},
			[]string{"--brokers", "b:2", "--rate", "100000", "--count", "500", "--duration", "1m", "--seed", "3", "--session", "continuous"},
			func(t *testing.T, c Config) {
				if c.Brokers[0] != "b:2" || c.Rate != 100000 || c.Count != 500 || c.Duration != time.Minute || c.Seed != 3 || c.Session != "continuous" {
					t.Errorf("flags not applied: %+v", c)
				}
			}},
		{"metrics address from the environment", map[string]string{"PRODUCER_METRICS_ADDR": "127.0.0.1:9464"}, nil, func(t *testing.T, c Config) {
			if c.MetricsAddr != "127.0.0.1:9464" {
				t.Errorf("metrics address %q", c.MetricsAddr)
			}
		}},
		{"metrics address flag wins", map[string]string{"PRODUCER_METRICS_ADDR": "127.0.0.1:9464"}, []string{"--metrics-addr", ":9500"}, func(t *testing.T, c Config) {
			if c.MetricsAddr != ":9500" {
				t.Errorf("metrics address %q", c.MetricsAddr)
			}
		}},
		{"topic before flags", nil, []string{"mytopic", "--count", "7"}, func(t *testing.T, c Config) {
			if c.Topic != "mytopic" || c.Count != 7 {
				t.Errorf("topic %q count %d", c.Topic, c.Count)
			}
		}},
		{"topic after flags", nil, []string{"-count=7", "mytopic"}, func(t *testing.T, c Config) {
			if c.Topic != "mytopic" || c.Count != 7 {
				t.Errorf("topic %q count %d", c.Topic, c.Count)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			c, err := Load(tc.args, envOf(env), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // every problem is reported
	}{
		{"unknown flag", nil, []string{"--bogus"}, []string{"flag provided but not defined: -bogus"}},
		{"bad flag value", nil, []string{"--rate", "fast"}, []string{"invalid value \"fast\" for flag -rate"}},
		{"two topics", nil, []string{"a", "b"}, []string{"one topic expected"}},
		{"bad topic", nil, []string{"bad topic!"}, []string{"topic \"bad topic!\""}},
		{"many problems at once", map[string]string{"MYSQL_PRODUCER_PASSWORD": ""},
			[]string{"--interval", "0s", "--rate", "-1", "--count", "-2", "--key-groups", "0", "--record-trades", "9000",
				"--compression", "brotli", "--log-format", "xml", "--log-level", "loud", "--id-block", "0", "--flush-timeout", "0s",
				"--session", "24/7"},
			[]string{"--interval 0s", "--rate -1", "--count -2", "--key-groups 0", "--record-trades 9000", "--compression \"brotli\"", "--session \"24/7\"",
				"LOG_FORMAT=\"xml\"", "LOG_LEVEL=\"loud\"", "--id-block 0", "--flush-timeout 0s", "MYSQL_PRODUCER_PASSWORD is empty"}},
		{"bad environment", map[string]string{"PRODUCER_RATE": "x", "PRODUCER_INTERVAL": "soon", "PRODUCER_SEED": "-1"}, nil,
			[]string{"PRODUCER_RATE=\"x\"", "PRODUCER_INTERVAL=\"soon\"", "PRODUCER_SEED=\"-1\""}},
		{"bad session in the environment", map[string]string{"PRODUCER_SESSION": "nyse"}, nil, []string{"--session \"nyse\" (PRODUCER_SESSION): want continuous or idx"}},
		{"bad metrics address", map[string]string{"PRODUCER_METRICS_ADDR": "9464"}, nil, []string{"--metrics-addr \"9464\" (PRODUCER_METRICS_ADDR): want host:port"}},
		{"empty brokers", map[string]string{"KAFKA_BOOTSTRAP_SERVERS": " , "}, nil, []string{"no Kafka bootstrap servers"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"MYSQL_PRODUCER_PASSWORD": "p"}
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := Load(tc.args, envOf(env), &bytes.Buffer{})
			if err == nil || errors.Is(err, flag.ErrHelp) {
				t.Fatalf("Load = %v, want the problems", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := Load([]string{"--help"}, envOf(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Load(--help) = %v, want flag.ErrHelp", err)
	}
	for _, w := range []string{"Usage: producer", "-rate", "-count", "-duration", "-seed", "-interval", "-brokers",
		"KAFKA_BOOTSTRAP_SERVERS", "MYSQL_PRODUCER_PASSWORD", "(default 1s)", "(default \"lz4\")",
		"-session", "PRODUCER_SESSION", "(default \"continuous\")", "reference_price",
		"-metrics-addr", "PRODUCER_METRICS_ADDR", "GET /metrics"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("help does not mention %q", w)
		}
	}
}

func TestLogValueHidesPassword(t *testing.T) {
	c, err := Load(nil, envOf(map[string]string{"MYSQL_PRODUCER_PASSWORD": "hunter2"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		h    func(io.Writer) slog.Handler
		want []string
	}{
		{"text", func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
			[]string{"config.mysql_password=[redacted]", "config.mysql=trading_producer@127.0.0.1:3306/trading", "config.log.level=info"}},
		{"json", func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
			[]string{`"mysql_password":"[redacted]"`, `"topic":"trading_data"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			slog.New(tt.h(&buf)).Info("x", "config", c)
			if strings.Contains(buf.String(), "hunter2") {
				t.Errorf("password logged: %s", buf.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("log lacks %q: %s", w, buf.String())
				}
			}
		})
	}
}
