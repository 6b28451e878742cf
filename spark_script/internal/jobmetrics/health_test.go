package jobmetrics

import (
	"strings"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	now := t0.Add(time.Hour)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	const trigger = 10 * time.Second
	tests := []struct {
		name   string
		e      Evidence
		state  string
		reason []string
	}{
		{"committed within three triggers", Evidence{LastCommit: ago(25 * time.Second), Since: t0, Streaming: true, LastProgress: ago(5 * time.Second)},
			StateOK, nil},
		{"just started, nothing yet", Evidence{Since: ago(20 * time.Second), Streaming: true}, StateOK, nil},
		{"idle: Spark reports, nothing waits", Evidence{LastCommit: ago(10 * time.Minute), Since: t0, Streaming: true, LastProgress: ago(4 * time.Second)},
			StateIdle, []string{"no batch committed for 10m0s", "no input waits"}},
		{"records wait", Evidence{LastCommit: ago(40 * time.Second), Since: t0, Lag: 1200, Streaming: true, LastProgress: ago(3 * time.Second)},
			StateStalled, []string{"no batch committed for 40s (more than 3 × trigger 10s)", "1200 Kafka records wait"}},
		{"Spark silent: a hung micro-batch", Evidence{LastCommit: ago(45 * time.Second), Since: t0, Streaming: true, LastProgress: ago(45 * time.Second)},
			StateStalled, []string{"no progress for 45s", "hung or running long"}},
		{"silent, but not for three idle reports", Evidence{LastCommit: ago(35 * time.Second), Since: t0, Streaming: true, LastProgress: ago(25 * time.Second)},
			StateIdle, nil},
		{"never reported since start", Evidence{Since: ago(2 * time.Minute), Streaming: true},
			StateStalled, []string{"since the job started 2m0s ago", "no progress for 2m0s"}},
		{"query down for long", Evidence{LastCommit: ago(5 * time.Minute), Since: t0, Streaming: true, LastProgress: ago(5 * time.Minute),
			DownSince: ago(time.Minute), LastError: "Cassandra unavailable"},
			StateStalled, []string{"not running for 1m0s", "last error: Cassandra unavailable"}},
		{"query down, restarting soon", Evidence{LastCommit: ago(5 * time.Minute), Since: t0, Streaming: true, LastProgress: ago(5 * time.Minute),
			DownSince: ago(5 * time.Second)}, StateIdle, nil},
		{"flagged hung by the supervisor", Evidence{LastCommit: ago(time.Hour), Since: t0, Streaming: true, LastProgress: ago(time.Second), Hung: true},
			StateStalled, []string{"flagged the query as hung"}},
		{"aggregate: input not aggregated", Evidence{LastCommit: ago(4 * time.Minute), Since: t0, WaitingSince: ago(35 * time.Second), LastError: "jdbc down"},
			StateStalled, []string{"input arrived 35s ago", "last error: jdbc down"}},
		{"aggregate: input just arrived after a long idle", Evidence{LastCommit: ago(time.Hour), Since: t0, WaitingSince: ago(5 * time.Second)},
			StateIdle, nil},
		{"aggregate: an old error while idle", Evidence{LastCommit: ago(time.Hour), Since: t0, LastError: "mysql blip"}, StateIdle, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, reason := Judge(tt.e, trigger, now)
			if state != tt.state {
				t.Fatalf("state %s (%s), want %s", state, reason, tt.state)
			}
			for _, w := range tt.reason {
				if !strings.Contains(reason, w) {
					t.Errorf("reason %q lacks %q", reason, w)
				}
			}
		})
	}
}
