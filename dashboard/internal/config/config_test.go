package config

import (
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(t *testing.T, c Config)
		wantErr string // substring of FromEnv's or Validate's error
	}{
		{name: "defaults", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw"}, check: func(t *testing.T, c Config) {
			if c.Addr != "127.0.0.1:8501" || c.MarketTZ != "Asia/Jakarta" || c.MySQLAddr != "127.0.0.1:3306" ||
				c.MySQLDatabase != "trading" || c.MySQLUser != "trading_dashboard" || c.CassandraKeyspace != "trading" ||
				len(c.CassandraHosts) != 1 || c.CassandraHosts[0] != "127.0.0.1" || c.RawInterval != 5*time.Second ||
				c.AggInterval != 15*time.Second || c.Location == nil || c.Location.String() != "Asia/Jakarta" {
				t.Errorf("unexpected defaults: %+v", c)
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
		{name: "bad duration", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw", "DASHBOARD_RAW_INTERVAL": "soon"}, wantErr: "DASHBOARD_RAW_INTERVAL"},
		{name: "missing password", env: map[string]string{}, wantErr: "MYSQL_DASHBOARD_PASSWORD is empty"},
		{name: "all problems at once", env: map[string]string{"MARKET_TZ": "Mars/Olympus", "DASHBOARD_ADDR": "nope",
			"DASHBOARD_AGG_INTERVAL": "1ms", "LOG_FORMAT": "xml"}, wantErr: "MARKET_TZ"},
		{name: "stray argument", env: map[string]string{"MYSQL_DASHBOARD_PASSWORD": "pw"}, args: []string{"extra"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(envOf(tt.env), tt.args)
			if err == nil {
				err = c.Validate()
			}
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

func TestValidateReportsEverything(t *testing.T) {
	c, err := FromEnv(envOf(map[string]string{"MARKET_TZ": "Mars/Olympus", "DASHBOARD_ADDR": "nope",
		"DASHBOARD_AGG_INTERVAL": "1ms", "LOG_FORMAT": "xml"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	for _, want := range []string{"DASHBOARD_ADDR", "MARKET_TZ", "MYSQL_DASHBOARD_PASSWORD", "DASHBOARD_AGG_INTERVAL", "LOG_FORMAT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; does not mention %s", err, want)
		}
	}
}

func TestStringHidesPassword(t *testing.T) {
	c, _ := FromEnv(envOf(map[string]string{"MYSQL_DASHBOARD_PASSWORD": "s3cret-value"}), nil)
	if strings.Contains(c.String(), "s3cret-value") {
		t.Errorf("String() leaks the password: %s", c)
	}
}
