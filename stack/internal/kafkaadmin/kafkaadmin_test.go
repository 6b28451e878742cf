package kafkaadmin

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func newFake(t *testing.T) (*Admin, *kfake.Cluster) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	a, err := New(c.ListenAddrs(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, c
}

func TestEnsureTopicIsIdempotent(t *testing.T) {
	a, _ := newFake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name       string
		topic      string
		partitions int32
		retention  string
		wantState  TopicState
		wantParts  int
		wantChange []string
	}{
		{"first call creates", "trading_data", 3, "600000", TopicCreated, 3, nil},
		{"second call finds it", "trading_data", 3, "600000", TopicExisted, 3, nil},
		{"another count keeps the existing topic", "trading_data", 6, "600000", TopicExisted, 3, nil},
		{"a new retention is set on the existing topic", "trading_data", 3, "900000", TopicExisted, 3,
			[]string{"retention.ms: 600000 -> 900000"}},
		{"other topic", "test_topic", 1, "600000", TopicCreated, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, parts, changed, err := a.EnsureTopic(ctx, tt.topic, tt.partitions, 1, map[string]string{"retention.ms": tt.retention})
			if err != nil {
				t.Fatal(err)
			}
			if state != tt.wantState || parts != tt.wantParts || !slices.Equal(changed, tt.wantChange) {
				t.Errorf("got %s with %d partitions, changed %q; want %s with %d, changed %q", state, parts, changed, tt.wantState, tt.wantParts, tt.wantChange)
			}
		})
	}
}

func TestEnsureTopicReportsBrokerErrors(t *testing.T) {
	a, _ := newFake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, _, err := a.EnsureTopic(ctx, "t", 1, 3, nil); err == nil {
		t.Fatal("replication factor 3 on one broker accepted")
	}
}

func TestWait(t *testing.T) {
	a, _ := newFake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := a.Wait(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Wait = %d, %v; want 1 broker", n, err)
	}
}

func TestWaitGivesUpWhenNobodyAnswers(t *testing.T) {
	a, err := New([]string{"127.0.0.1:1"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if _, err := a.Wait(ctx); err == nil {
		t.Fatal("Wait succeeded with no broker")
	}
}
