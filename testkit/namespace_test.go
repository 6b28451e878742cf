package testkit

import (
	"strings"
	"testing"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

func TestWithDatabase(t *testing.T) {
	got := withDatabase("jdbc:mysql://mysql:3306/trading?sslMode=DISABLED&connectionTimeZone=UTC", "itest_x")
	if want := "jdbc:mysql://mysql:3306/itest_x?sslMode=DISABLED&connectionTimeZone=UTC"; got != want {
		t.Errorf("withDatabase = %q, want %q", got, want)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"TestJobExactlyOnce/sub_1": "testjobexactlyonces", "": "x", "ÄÖ": "x"} {
		if got := slug(in, 19); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTopicSettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		rf      int16
		minISR  string // "" unset
		wantErr string
	}{
		{"defaults", nil, 1, "", ""},
		{"a cluster", map[string]string{"KAFKA_REPLICATION_FACTOR": "3", "KAFKA_MIN_INSYNC_REPLICAS": "2"}, 3, "2", ""},
		{"above the replication factor", map[string]string{"KAFKA_MIN_INSYNC_REPLICAS": "2"}, 1, "", "want 1 up to KAFKA_REPLICATION_FACTOR (1)"},
		{"zero", map[string]string{"KAFKA_REPLICATION_FACTOR": "3", "KAFKA_MIN_INSYNC_REPLICAS": "0"}, 3, "", "KAFKA_MIN_INSYNC_REPLICAS=\"0\""},
		{"not a number", map[string]string{"KAFKA_REPLICATION_FACTOR": "3", "KAFKA_MIN_INSYNC_REPLICAS": "two"}, 3, "", "KAFKA_MIN_INSYNC_REPLICAS=\"two\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k, def string) string {
				if v, ok := tt.env[k]; ok {
					return v
				}
				return def
			}
			rf, configs, err := topicSettings(getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || rf != tt.rf {
				t.Fatalf("topicSettings = %d, %v, %v; want rf %d", rf, configs, err, tt.rf)
			}
			got := ""
			if v := configs["min.insync.replicas"]; v != nil {
				got = *v
			}
			if got != tt.minISR || (tt.minISR == "" && len(configs) != 0) {
				t.Errorf("configs = %v (min.insync.replicas %q), want %q", configs, got, tt.minISR)
			}
		})
	}
}

func TestConsistency(t *testing.T) {
	tests := []struct {
		env     string // "" unset
		want    gocql.Consistency
		wantErr bool
	}{
		{"", gocql.LocalQuorum, false},
		{"ONE", gocql.One, false},
		{"local_one", gocql.LocalOne, false},
		{"EACH_QUORUM", gocql.EachQuorum, false},
		{"ANY", 0, true},
		{"SERIAL", 0, true},
		{"LOCAL_SERIAL", 0, true},
		{"MOST", 0, true},
	}
	for _, tt := range tests {
		getenv := func(k, def string) string {
			if k == "CASSANDRA_CONSISTENCY" && tt.env != "" {
				return tt.env
			}
			return def
		}
		got, err := Consistency(getenv)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("Consistency(%q) = %v, %v; want %v (error %v)", tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}
