package publish

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newCluster(t *testing.T, topic string, partitions int32) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestPublishDeliversAndPartitionsByGroup(t *testing.T) {
	const topic, groups, perGroup = "trades", 6, 20
	for _, comp := range []string{"none", "lz4", "zstd", "snappy", "gzip"} {
		t.Run(comp, func(t *testing.T) {
			c := newCluster(t, topic, 3)
			opts, err := Options(Config{Brokers: c.ListenAddrs(), Topic: topic, Compression: comp, Linger: time.Millisecond}, discard())
			if err != nil {
				t.Fatal(err)
			}
			p, err := NewWithOptions(discard(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			if err := p.CheckTopic(ctx, topic); err != nil {
				t.Fatal(err)
			}
			for i := range perGroup {
				for g := range groups {
					p.Publish(ctx, GroupKey(g), fmt.Appendf(nil, `[%d]`, i), 3)
				}
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			st := p.Stats()
			if st.Records != groups*perGroup || st.Trades != 3*groups*perGroup || st.Failed != 0 || p.Err() != nil {
				t.Fatalf("stats %+v, err %v", st, p.Err())
			}

			cons, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err != nil {
				t.Fatal(err)
			}
			defer cons.Close()
			seen := map[string]int{}
			next := map[string]int{}
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			for n := 0; n < groups*perGroup; {
				fs := cons.PollFetches(cctx)
				if err := cctx.Err(); err != nil {
					t.Fatalf("consumed %d of %d records: %v", n, groups*perGroup, err)
				}
				fs.EachRecord(func(r *kgo.Record) {
					n++
					k := string(r.Key)
					var g int
					fmt.Sscanf(k, "g%d", &g)
					if int(r.Partition) != g%3 {
						t.Errorf("key %s on partition %d, want %d", k, r.Partition, g%3)
					}
					// per key, records arrive in order and exactly once
					if want := fmt.Sprintf("[%d]", next[k]); string(r.Value) != want {
						t.Errorf("key %s: value %s, want %s", k, r.Value, want)
					}
					next[k]++
					seen[k]++
				})
			}
			for g := range groups {
				if seen[string(GroupKey(g))] != perGroup {
					t.Errorf("group %d: %d records, want %d", g, seen[string(GroupKey(g))], perGroup)
				}
			}
		})
	}
}

func TestPublishFailureIsReported(t *testing.T) {
	c := newCluster(t, "exists", 1)
	p, err := New(Config{Brokers: c.ListenAddrs(), Topic: "missing", Compression: "lz4"}, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.CheckTopic(ctx, "missing"); err == nil {
		t.Error("CheckTopic(missing) = nil, want an error")
	}
	p.Publish(ctx, GroupKey(0), []byte("[]"), 5)
	select {
	case <-p.Failed():
	case <-ctx.Done():
		t.Fatal("delivery to a missing topic never failed")
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Failed != 1 || st.FailedTrades != 5 || st.Records != 0 || p.Err() == nil {
		t.Errorf("stats %+v err %v, want one failed record of 5 trades", st, p.Err())
	}
}

func TestPartition(t *testing.T) {
	tests := []struct {
		key  string
		n    int
		want int
	}{
		{"g0", 3, 0}, {"g1", 3, 1}, {"g5", 3, 2}, {"g7", 1, 0}, {"g12", 5, 2},
	}
	for _, tc := range tests {
		if got := partition(&kgo.Record{Key: []byte(tc.key)}, tc.n); got != tc.want {
			t.Errorf("partition(%s, %d) = %d, want %d", tc.key, tc.n, got, tc.want)
		}
	}
	// other keys are hashed consistently into range
	for _, k := range []string{"", "g", "g-1", "BBCA", "gx"} {
		a := partition(&kgo.Record{Key: []byte(k)}, 3)
		if b := partition(&kgo.Record{Key: []byte(k)}, 3); a != b || a < 0 || a >= 3 {
			t.Errorf("partition(%q) = %d then %d", k, a, b)
		}
	}
}

func TestOptionsRejectsUnknownCompression(t *testing.T) {
	if _, err := Options(Config{Brokers: []string{"x:1"}, Topic: "t", Compression: "brotli"}, discard()); err == nil {
		t.Error("Options accepted compression brotli")
	}
}
