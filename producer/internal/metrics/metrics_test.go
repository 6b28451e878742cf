package metrics

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"idxstream/producer/internal/publish"
	"idxstream/testkit/scrape"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestCountsFollowDeliveries publishes through the real publisher to an in-process broker
// (kfake) and reads the counts back the way Prometheus would.
func TestCountsFollowDeliveries(t *testing.T) {
	tests := []struct {
		name             string
		topic            string
		records, trades  int
		wantAcked        float64
		wantFailed       float64
		wantLatencyCount uint64
	}{
		{"acknowledged", "trades", 10, 3, 10, 0, 10},
		{"failed: the topic does not exist", "missing", 2, 5, 0, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "trades"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			m := New(tt.topic)
			p, err := publish.New(publish.Config{Brokers: c.ListenAddrs(), Topic: tt.topic, Compression: "lz4",
				Linger: time.Millisecond, Observer: m}, discard())
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			value := []byte(`[{"id":1},{"id":2},{"id":3}]`)
			for i := range tt.records {
				p.Publish(ctx, publish.GroupKey(i), value, tt.trades)
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}

			f := scrapeHandler(t, m)
			want := map[string]float64{
				"idxstream_producer_records_produced_total":     float64(tt.records),
				"idxstream_producer_trades_produced_total":      float64(tt.records * tt.trades),
				"idxstream_producer_produced_bytes_total":       float64(tt.records * len(value)),
				"idxstream_producer_records_acknowledged_total": tt.wantAcked,
				"idxstream_producer_trades_acknowledged_total":  tt.wantAcked * float64(tt.trades),
				"idxstream_producer_acknowledged_bytes_total":   tt.wantAcked * float64(len(value)),
				"idxstream_producer_records_failed_total":       tt.wantFailed,
				"idxstream_producer_trades_failed_total":        tt.wantFailed * float64(tt.trades),
			}
			for name, w := range want {
				if f.Type(name) != "COUNTER" {
					t.Errorf("%s has type %q, want COUNTER", name, f.Type(name))
				}
				if got, ok := f.Value(name, "topic", tt.topic); !ok || got != w {
					t.Errorf("%s = %v (present %v), want %v", name, got, ok, w)
				}
			}
			if n, ok := f.Count("idxstream_producer_produce_latency_seconds", "topic", tt.topic); !ok || n != tt.wantLatencyCount {
				t.Errorf("latency histogram holds %d observations (present %v), want %d", n, ok, tt.wantLatencyCount)
			}
			// The summary's counts (publish.Stats) and the metrics agree.
			st := p.Stats()
			if acked, _ := f.Value("idxstream_producer_trades_acknowledged_total"); int64(acked) != st.Trades {
				t.Errorf("metrics say %v trades acknowledged, the publisher %d", acked, st.Trades)
			}
			if failed, _ := f.Value("idxstream_producer_trades_failed_total"); int64(failed) != st.FailedTrades {
				t.Errorf("metrics say %v trades failed, the publisher %d", failed, st.FailedTrades)
			}
		})
	}
}

func scrapeHandler(t *testing.T, m *Metrics) scrape.Families {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	f, err := scrape.Get(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestListen(t *testing.T) {
	m := New("t")
	m.Published(4, 100)
	s, err := Listen("127.0.0.1:0", m.Handler(), discard())
	if err != nil {
		t.Fatal(err)
	}
	f, err := scrape.Get(t.Context(), "http://"+s.Addr()+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Value("idxstream_producer_trades_produced_total"); v != 4 {
		t.Errorf("trades produced %v, want 4", v)
	}
	if _, ok := f.Value("go_goroutines"); !ok {
		t.Error("no Go runtime metrics")
	}
	if _, err := Listen(s.Addr(), m.Handler(), discard()); err == nil || !strings.Contains(err.Error(), "PRODUCER_METRICS_ADDR") {
		t.Errorf("Listen on a taken address = %v, want an error naming the setting", err)
	}
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := scrape.Get(t.Context(), "http://"+s.Addr()+"/metrics"); err == nil {
		t.Error("the listener still answers after Shutdown")
	}
}
