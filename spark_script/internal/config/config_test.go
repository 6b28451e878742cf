package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"idxstream/applog"
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
	if got := c.SparkKafka(); got["kafka.bootstrap.servers"] != "kafka:19092" || got["kafka.default.api.timeout.ms"] != "10000" || got["kafka.request.timeout.ms"] != "5000" {
		t.Fatalf("Spark's Kafka options %v: want Spark's brokers and the 10 s default call bound", got)
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

func TestLoadReportsBadValuesTogether(t *testing.T) {
	_, err := Load([]string{"--agg-trigger", "0s"}, getenv(map[string]string{
		"JOB_RAW_TRIGGER": "soon", "JOB_SHUFFLE_PARTITIONS": "four", "JOB_LEASE_TTL": "1s", "JOB_KAFKA_API_TIMEOUT": "500ms",
		"LOG_LEVEL": "loud", "LOG_FORMAT": "xml", "MARKET_TZ": "Mars/Olympus",
	}), io.Discard)
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{`JOB_RAW_TRIGGER="soon"`, `JOB_SHUFFLE_PARTITIONS="four"`, "JOB_AGG_TRIGGER (--agg-trigger) must be at least 1s",
		"JOB_LEASE_TTL", "JOB_KAFKA_API_TIMEOUT=500ms", `LOG_LEVEL="loud"`, `LOG_FORMAT="xml"`, "MARKET_TZ", "MYSQL_JOB_PASSWORD", "CASSANDRA_JOB_PASSWORD", "SPARK_CONNECT_SECRET"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestLogFlags(t *testing.T) {
	env := map[string]string{"MYSQL_JOB_PASSWORD": "m", "SPARK_CONNECT_SECRET": "s", "CASSANDRA_JOB_PASSWORD": "c"}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want applog.Settings
	}{
		{"defaults", nil, nil, applog.Settings{Level: "info", Format: "text"}},
		{"environment", map[string]string{"LOG_FORMAT": "json", "LOG_LEVEL": "debug"}, nil, applog.Settings{Level: "debug", Format: "json"}},
		{"--log-json, kept for old scripts", nil, []string{"--log-json"}, applog.Settings{Level: "info", Format: "json"}},
		{"--log-format and --log-level", map[string]string{"LOG_FORMAT": "json"}, []string{"--log-format", "text", "--log-level", "warn"},
			applog.Settings{Level: "warn", Format: "text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			for k, v := range tt.env {
				e[k] = v
			}
			c, err := Load(tt.args, getenv(e), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.Log != tt.want {
				t.Errorf("Log = %+v, want %+v", c.Log, tt.want)
			}
		})
	}
}

func TestLogValueRedactsSecrets(t *testing.T) {
	const mysqlPW, cassPW, secret, urlPW = "my-s3cret", "cass-s3cret", "spark-s3cret", "url-s3cret"
	c, err := Load(nil, getenv(map[string]string{"MYSQL_JOB_PASSWORD": mysqlPW, "CASSANDRA_JOB_PASSWORD": cassPW,
		"SPARK_CONNECT_SECRET": secret, "SPARK_REMOTE": "sc://h:15002/;token=" + secret,
		"SPARK_MYSQL_URL": "jdbc:mysql://db:3306/trading?password=" + urlPW}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []func(io.Writer) slog.Handler{
		func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	} {
		var b bytes.Buffer
		slog.New(h(&b)).Info("starting", "config", c)
		out := b.String()
		for _, s := range []string{mysqlPW, cassPW, secret, urlPW} {
			if strings.Contains(out, s) {
				t.Errorf("log shows %q: %s", s, out)
			}
		}
		for _, w := range []string{"mysql_password", "cassandra_password", "spark_secret", "[redacted]", "trading_job@127.0.0.1:3306/trading", "sc://h:15002/;…"} {
			if !strings.Contains(out, w) {
				t.Errorf("log lacks %q: %s", w, out)
			}
		}
	}
}

func TestCassandraConsistency(t *testing.T) {
	base := map[string]string{"MYSQL_JOB_PASSWORD": "m", "SPARK_CONNECT_SECRET": "s", "CASSANDRA_JOB_PASSWORD": "c"}
	tests := []struct {
		name    string
		env     string // CASSANDRA_CONSISTENCY; "" unset
		args    []string
		want    gocql.Consistency
		wantErr string
	}{
		{"default: LOCAL_QUORUM (ONE on RF 1)", "", nil, gocql.LocalQuorum, ""},
		{"set", "QUORUM", nil, gocql.Quorum, ""},
		{"any case", "local_one", nil, gocql.LocalOne, ""},
		{"ANY is a write level", "ANY", nil, gocql.Any, ""},
		{"EACH_QUORUM", "EACH_QUORUM", nil, gocql.EachQuorum, ""},
		{"the flag wins", "ONE", []string{"--cassandra-consistency", "ALL"}, gocql.All, ""},
		{"serial is for conditions only", "SERIAL", nil, 0, `CASSANDRA_CONSISTENCY (--cassandra-consistency): "SERIAL" is not a write consistency level`},
		{"LOCAL_SERIAL", "LOCAL_SERIAL", nil, 0, "LOCAL_SERIAL"},
		{"unknown", "MOST", nil, 0, "want ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM, LOCAL_ONE or ANY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{"CASSANDRA_CONSISTENCY": tt.env}
			for k, v := range base {
				e[k] = v
			}
			c, err := Load(tt.args, getenv(e), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || c.CassandraConsistency != tt.want {
				t.Errorf("consistency = %v, %v; want %v", c.CassandraConsistency, err, tt.want)
			}
		})
	}
}
