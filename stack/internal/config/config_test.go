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
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var goodEnv = map[string]string{
	"HOME":                     "/home/u",
	"MYSQL_JOB_PASSWORD":       "j",
	"MYSQL_PRODUCER_PASSWORD":  "p",
	"MYSQL_DASHBOARD_PASSWORD": "d",
	"CASSANDRA_ADMIN_PASSWORD": "ca", "CASSANDRA_JOB_PASSWORD": "cj", "CASSANDRA_DASHBOARD_PASSWORD": "cd",
}

func TestDefaults(t *testing.T) {
	c, err := Load([]string{"migrate"}, envOf(goodEnv), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"stack home", c.StackHome, "/home/u/.local/share/idxstream"},
		{"admin dsn", c.MySQLAdminDSN, "root@unix(/home/u/.local/share/idxstream/mariadb/run/mysqld.sock)/"},
		{"brokers", c.KafkaBrokers, []string{"127.0.0.1:9092"}},
		{"partitions", c.Partitions, 3},
		{"targets", c.Targets, []string{"mysql", "cassandra"}},
		{"job user", c.JobUser.Name, "trading_job"},
		{"keyspace", c.CassandraKeyspace, "trading"},
		{"timeout", c.Timeout, 5 * time.Minute}, // migrate gets the long default
		{"spark master ui", c.SparkMasterUI, "http://127.0.0.1:8080"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestFlagsOverrideEnv(t *testing.T) {
	env := map[string]string{"KAFKA_PARTITIONS": "6", "KAFKA_BOOTSTRAP_SERVERS": "a:1, b:2"}
	c, err := Load([]string{"topics", "-partitions", "2", "-rf", "1"}, envOf(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Partitions != 2 {
		t.Errorf("partitions = %d, want 2 (flag wins)", c.Partitions)
	}
	if !reflect.DeepEqual(c.KafkaBrokers, []string{"a:1", "b:2"}) {
		t.Errorf("brokers = %q", c.KafkaBrokers)
	}
	c, err = Load([]string{"wait", "cassandra", "-timeout", "5s"}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Service != "cassandra" || c.Timeout != 5*time.Second {
		t.Errorf("wait parsed as service %q timeout %s", c.Service, c.Timeout)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		wants []string // substrings that must all appear
	}{
		{"no command", goodEnv, nil, []string{"missing command"}},
		{"unknown command", goodEnv, []string{"frobnicate"}, []string{`unknown command "frobnicate"`}},
		{"wait without service", goodEnv, []string{"wait"}, []string{"wait needs a service"}},
		{"wait unknown service", goodEnv, []string{"wait", "redis"}, []string{`unknown service "redis"`}},
		{"migrate without passwords", map[string]string{"HOME": "/h"}, []string{"migrate"},
			[]string{"MYSQL_JOB_PASSWORD is empty", "MYSQL_PRODUCER_PASSWORD is empty", "MYSQL_DASHBOARD_PASSWORD is empty"}},
		{"bad everything for migrate", withEnv(goodEnv, map[string]string{
			"MARKET_TZ": "Mars/Olympus", "CASSANDRA_KEYSPACE": "bad-name", "CASSANDRA_REPLICATION": "rf=1",
			"MYSQL_DATABASE": "x;drop", "MYSQL_JOB_USER": "a'b"}), []string{"migrate", "-targets", "mysql,cassandra,oracle"},
			[]string{"MARKET_TZ", "CASSANDRA_KEYSPACE", "CASSANDRA_REPLICATION", "MYSQL_DATABASE", "MYSQL_JOB_USER", `unknown target "oracle"`}},
		{"bad kafka settings", withEnv(goodEnv, map[string]string{"KAFKA_BOOTSTRAP_SERVERS": " , "}), []string{"topics", "-partitions", "0", "-rf", "0"},
			[]string{"KAFKA_BOOTSTRAP_SERVERS is empty", "KAFKA_PARTITIONS=0", "KAFKA_REPLICATION_FACTOR=0"}},
		{"bad timeout", goodEnv, []string{"wait", "kafka", "-timeout", "0s"}, []string{"-timeout must be positive"}},
		{"bad values reported together", withEnv(goodEnv, map[string]string{"KAFKA_PARTITIONS": "three", "LOG_FORMAT": "xml", "LOG_LEVEL": "loud"}),
			[]string{"topics", "-rf", "0"}, []string{`KAFKA_PARTITIONS="three"`, "KAFKA_REPLICATION_FACTOR=0", `LOG_FORMAT="xml"`, `LOG_LEVEL="loud"`}},
		{"init without passwords", map[string]string{"HOME": "/h"}, []string{"init", "-any-host"},
			[]string{"MYSQL_JOB_PASSWORD is empty", "CASSANDRA_ADMIN_PASSWORD is empty"}},
		{"wait for a worker with -pid", goodEnv, []string{"wait", "spark-worker", "-pid", "42"}, nil},
		{"wait spark-master", goodEnv, []string{"wait", "spark-master"}, nil},
		{"wait -pid negative", goodEnv, []string{"wait", "kafka", "-pid", "-3"}, []string{"-pid must be a process id"}},
		{"status reads the launcher's table", goodEnv, []string{"status", "-table", "-"}, nil},
		{"status -table of a file", goodEnv, []string{"status", "-table", "rows.txt"}, []string{"-table takes only '-'"}},
		{"min.insync.replicas above the replication factor", withEnv(goodEnv, map[string]string{"KAFKA_MIN_INSYNC_REPLICAS": "2"}),
			[]string{"topics"}, []string{"KAFKA_MIN_INSYNC_REPLICAS=2 must be between 1 and the replication factor (1)"}},
		{"min.insync.replicas within the flag's replication factor", withEnv(goodEnv, map[string]string{"KAFKA_MIN_INSYNC_REPLICAS": "2"}),
			[]string{"topics", "-rf", "3"}, nil},
		{"min.insync.replicas 0", withEnv(goodEnv, map[string]string{"KAFKA_MIN_INSYNC_REPLICAS": "0"}),
			[]string{"topics"}, []string{"KAFKA_MIN_INSYNC_REPLICAS=0"}},
		{"min.insync.replicas not a number", withEnv(goodEnv, map[string]string{"KAFKA_MIN_INSYNC_REPLICAS": "two"}),
			[]string{"topics"}, []string{`KAFKA_MIN_INSYNC_REPLICAS="two"`}},
		{"min.insync.replicas unset", withEnv(goodEnv, map[string]string{"KAFKA_MIN_INSYNC_REPLICAS": " "}), []string{"topics"}, nil},
		{"mysql-only migrate ignores cassandra settings", withEnv(goodEnv, map[string]string{"CASSANDRA_KEYSPACE": "bad-name"}),
			[]string{"migrate", "-targets", "mysql"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, envOf(tt.env), io.Discard)
			if len(tt.wants) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Load accepted a bad config")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLoadRejectsNonNumbers(t *testing.T) {
	_, err := Load([]string{"topics"}, envOf(map[string]string{"KAFKA_PARTITIONS": "three"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "KAFKA_PARTITIONS") {
		t.Fatalf("err = %v, want one naming KAFKA_PARTITIONS", err)
	}
}

func withEnv(base, over map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if _, err := Load([]string{"topics", "-h"}, envOf(goodEnv), &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Load(-h) = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(out.String(), "-partitions") || !strings.Contains(out.String(), "LOG_LEVEL") {
		t.Errorf("usage: %s", out.String())
	}
}

func TestLogValueRedactsSecrets(t *testing.T) {
	env := withEnv(goodEnv, map[string]string{"SPARK_CONNECT_SECRET": "spark-s3cret", "MYSQL_ADMIN_DSN": "root:admin-s3cret@tcp(127.0.0.1:3306)/",
		"MYSQL_JOB_PASSWORD": "job-s3cret", "CASSANDRA_ADMIN_PASSWORD": "cass-s3cret"})
	c, err := Load([]string{"migrate"}, envOf(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []func(io.Writer) slog.Handler{
		func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	} {
		var b bytes.Buffer
		slog.New(h(&b)).Info("configuration", "config", c)
		out := b.String()
		if strings.Contains(out, "s3cret") {
			t.Errorf("log shows a secret: %s", out)
		}
		for _, w := range []string{"trading_job", "[redacted]", "root:redacted@tcp(127.0.0.1:3306)/", "migrate"} {
			if !strings.Contains(out, w) {
				t.Errorf("log lacks %q: %s", w, out)
			}
		}
	}
}

func TestTopicConfigs(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want *string // min.insync.replicas
	}{
		{"unset: the broker's", nil, nil},
		{"set", map[string]string{"KAFKA_MIN_INSYNC_REPLICAS": "2", "KAFKA_REPLICATION_FACTOR": "3"}, ptr("2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load([]string{"topics"}, envOf(withEnv(goodEnv, tt.env)), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			got := c.TopicConfigs()
			v, ok := got["min.insync.replicas"]
			if !ok || !reflect.DeepEqual(v, tt.want) {
				t.Errorf("min.insync.replicas = %v (present %v), want %v", deref(v), ok, deref(tt.want))
			}
			if r := got["retention.ms"]; r == nil || *r != "604800000" {
				t.Errorf("retention.ms = %v, want the policy's 604800000", deref(r))
			}
		})
	}
}

func ptr(s string) *string { return &s }

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
