package config

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaultsAndOverrides(t *testing.T) {
	c, err := Load([]string{"--raw-trigger", "5s", "my_topic"}, getenv(map[string]string{
		"MYSQL_JOB_PASSWORD": "pw", "SPARK_CONNECT_SECRET": "s", "CASSANDRA_JOB_PASSWORD": "c", "JOB_AGG_TRIGGER": "30s", "SPARK_KAFKA_BOOTSTRAP_SERVERS": "kafka:19092",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Topic != "my_topic" || c.RawTrigger != 5*time.Second || c.AggTrigger != 30*time.Second {
		t.Fatalf("topic/triggers: %+v", c)
	}
	if c.KafkaBootstrap != "127.0.0.1:9092" || c.SparkKafkaBootstrap != "kafka:19092" {
		t.Fatalf("brokers: driver %q, spark %q", c.KafkaBootstrap, c.SparkKafkaBootstrap)
	}
	if !strings.HasPrefix(c.SparkMySQLURL, "jdbc:mysql://127.0.0.1:3306/trading?") {
		t.Fatalf("JDBC URL %q not built from MYSQL_ADDR", c.SparkMySQLURL)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load([]string{"--market-tz", "Mars/Olympus", "--raw-trigger", "10ms"}, getenv(map[string]string{
		"SPARK_REMOTE": "http://x", "JOB_MAX_OFFSETS_PER_TRIGGER": "0",
	}), io.Discard)
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"sc://", "MARKET_TZ", "at least 1s", "max offsets", "MYSQL_JOB_PASSWORD", "SPARK_CONNECT_SECRET"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestLoadRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"unparsable duration in env", nil, map[string]string{"JOB_RAW_TRIGGER": "soon", "MYSQL_JOB_PASSWORD": "x"}},
		{"two topics", []string{"a", "b"}, map[string]string{"MYSQL_JOB_PASSWORD": "x"}},
		{"unknown flag", []string{"--nope"}, map[string]string{"MYSQL_JOB_PASSWORD": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Load(tt.args, getenv(tt.env), io.Discard); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := Load([]string{"--help"}, getenv(nil), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help gave %v, want flag.ErrHelp", err)
	}
}
