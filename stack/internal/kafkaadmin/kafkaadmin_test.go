package kafkaadmin

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
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
			state, parts, changed, err := a.EnsureTopic(ctx, tt.topic, tt.partitions, 1, map[string]*string{"retention.ms": &tt.retention})
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

func ptr(s string) *string { return &s }

// A config wanted nil follows the broker: a topic made without it gets none, and a topic-level
// value set earlier is removed (KAFKA_MIN_INSYNC_REPLICAS unset again).
func TestEnsureTopicRemovesAConfigWantedNil(t *testing.T) {
	a, _ := newFake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	steps := []struct {
		name       string
		minISR     *string
		wantChange []string
		wantOwn    string // the topic's own value after the step; "" none
	}{
		{"created without it", nil, nil, ""},
		{"set", ptr("2"), []string{"min.insync.replicas: 1 -> 2"}, "2"},
		{"unset again: removed", nil, []string{"min.insync.replicas: 2 -> " + BrokerDefault}, ""},
		{"unset and absent: nothing to do", nil, nil, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			cfgs := map[string]*string{"retention.ms": ptr("600000"), "min.insync.replicas": st.minISR}
			_, _, changed, err := a.EnsureTopic(ctx, "t", 1, 1, cfgs)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(changed, st.wantChange) {
				t.Errorf("changed = %q, want %q", changed, st.wantChange)
			}
			rc, err := a.adm.DescribeTopicConfigs(ctx, "t")
			if err != nil {
				t.Fatal(err)
			}
			r, err := rc.On("t", nil)
			if err != nil {
				t.Fatal(err)
			}
			own := ""
			for _, c := range r.Configs {
				if c.Key == "min.insync.replicas" && c.Source == kmsg.ConfigSourceDynamicTopicConfig {
					own = c.MaybeValue()
				}
			}
			if own != st.wantOwn {
				t.Errorf("the topic's own min.insync.replicas = %q, want %q", own, st.wantOwn)
			}
		})
	}
}

func TestConfigChanges(t *testing.T) {
	have := []kadm.Config{
		{Key: "retention.ms", Value: ptr("600000"), Source: kmsg.ConfigSourceDynamicTopicConfig},
		{Key: "min.insync.replicas", Value: ptr("2"), Source: kmsg.ConfigSourceDynamicTopicConfig},
		{Key: "segment.ms", Value: ptr("604800000"), Source: kmsg.ConfigSourceDefaultConfig},
	}
	tests := []struct {
		name        string
		want        map[string]*string
		wantOps     []kadm.IncrementalOp
		wantChanged []string
	}{
		{"all equal", map[string]*string{"retention.ms": ptr("600000"), "min.insync.replicas": ptr("2")}, nil, nil},
		{"a new value", map[string]*string{"min.insync.replicas": ptr("3")}, []kadm.IncrementalOp{kadm.SetConfig},
			[]string{"min.insync.replicas: 2 -> 3"}},
		{"a value of the topic's own, unwanted", map[string]*string{"min.insync.replicas": nil}, []kadm.IncrementalOp{kadm.DeleteConfig},
			[]string{"min.insync.replicas: 2 -> " + BrokerDefault}},
		{"a default left alone", map[string]*string{"segment.ms": nil}, nil, nil},
		{"sorted by key", map[string]*string{"segment.ms": ptr("60000"), "min.insync.replicas": nil},
			[]kadm.IncrementalOp{kadm.DeleteConfig, kadm.SetConfig},
			[]string{"min.insync.replicas: 2 -> " + BrokerDefault, "segment.ms: 604800000 -> 60000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alter, changed := configChanges(have, tt.want)
			var ops []kadm.IncrementalOp
			for _, a := range alter {
				ops = append(ops, a.Op)
			}
			if !slices.Equal(ops, tt.wantOps) || !slices.Equal(changed, tt.wantChanged) {
				t.Errorf("ops %v, changed %q; want %v, %q", ops, changed, tt.wantOps, tt.wantChanged)
			}
		})
	}
}

// Each broker of a cluster answers for itself, with its own node id.
func TestProbeBroker(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen := map[int32]bool{}
	for _, addr := range c.ListenAddrs() {
		node, n, err := ProbeBroker(ctx, addr, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("ProbeBroker(%s): %v", addr, err)
		}
		if n != 3 || node < 0 {
			t.Errorf("ProbeBroker(%s) = node %d of %d, want a node of 3", addr, node, n)
		}
		seen[node] = true
	}
	if len(seen) != 3 {
		t.Errorf("node ids %v: each broker should be found at its own address", seen)
	}
}

// A broker that is down fails its probe, even while the others answer: the client knows no other.
func TestProbeBrokerDown(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, _, err := ProbeBroker(ctx, "127.0.0.1:1", slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a broker nobody listens for answered")
	}
}

func TestAdvertisedAt(t *testing.T) {
	brokers := []kmsg.MetadataResponseBroker{{NodeID: 1, Host: "127.0.0.1", Port: 9092}, {NodeID: 2, Host: "127.0.0.2", Port: 9092}, {NodeID: 3, Host: "Kafka-3", Port: 19092}}
	for addr, want := range map[string]int32{"127.0.0.2:9092": 2, "127.0.0.1:9092": 1, "kafka-3:19092": 3, "127.0.0.3:9092": -1, "127.0.0.1:9093": -1, "nonsense": -1} {
		if got := advertisedAt(brokers, addr); got != want {
			t.Errorf("advertisedAt(%s) = %d, want %d", addr, got, want)
		}
	}
}
