package feed

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"idxstream/producer/internal/market"
	"idxstream/producer/internal/publish"
	"idxstream/trade"
)

type record struct {
	key    string
	value  []byte
	trades int
}

// fakeSink keeps records in memory; failAfter > 0 fails the record with that number.
type fakeSink struct {
	mu        sync.Mutex
	records   []record
	failAfter int
	failed    chan struct{}
	err       error
}

func newSink() *fakeSink { return &fakeSink{failed: make(chan struct{})} }

func (s *fakeSink) Publish(_ context.Context, key, value []byte, trades int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, record{string(key), value, trades})
	if s.failAfter > 0 && len(s.records) == s.failAfter {
		s.err = errors.New("broker said no")
		close(s.failed)
	}
}
func (s *fakeSink) Failed() <-chan struct{} { return s.failed }
func (s *fakeSink) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
func (s *fakeSink) Stats() publish.Stats { return publish.Stats{} }

type counter struct{ next int64 }

func (c *counter) Assign(_ context.Context, ts []trade.Trade) error {
	for i := range ts {
		c.next++
		ts[i].ID = c.next
	}
	return nil
}

func companies(n int) []market.Company {
	cs := make([]market.Company, n)
	for i := range cs {
		cs[i] = market.Company{Ticker: string([]byte{'A' + byte(i/26), 'A' + byte(i%26), 'X', 'X'}), Sector: "S", Shares: 1e9}
	}
	return cs
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// decodeAll checks every record against the schema and returns the trades in record order.
func decodeAll(t *testing.T, recs []record, maxPer int) []trade.Trade {
	t.Helper()
	var all []trade.Trade
	for _, r := range recs {
		if err := trade.ConformsToSchema(r.value); err != nil {
			t.Fatalf("record does not conform to the schema: %v", err)
		}
		ts, err := trade.DecodeBatch(r.value)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != r.trades || len(ts) > maxPer || len(ts) == 0 {
			t.Fatalf("record with %d trades (declared %d, max %d)", len(ts), r.trades, maxPer)
		}
		for _, tr := range ts {
			if err := trade.Validate(tr); err != nil {
				t.Fatalf("invalid trade %+v: %v", tr, err)
			}
		}
		all = append(all, ts...)
	}
	return all
}

func TestFeedCount(t *testing.T) {
	tests := []struct {
		name                    string
		companies, groups, maxR int
		rate                    float64
		count                   int64
	}{
		{"one round per tick, partial last round", 24, 6, 1000, 0, 100},
		{"rate mode, many rounds per record", 24, 6, 1000, 1e6, 25000},
		{"small records", 24, 3, 5, 1e6, 1000},
		{"more groups than companies", 4, 10, 1000, 0, 9},
		{"one group", 5, 1, 7, 1e5, 333},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := newSink()
			f := New(Config{Interval: time.Millisecond, Rate: tc.rate, Count: tc.count, KeyGroups: tc.groups, MaxRecordTrades: tc.maxR},
				market.New(companies(tc.companies), 1, market.Options{}), &counter{}, sink, discard(), time.Now)
			sum, err := f.Run(context.Background(), context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if sum.Produced != tc.count || sum.Records != int64(len(sink.records)) {
				t.Fatalf("summary %+v with %d records, want %d trades", sum, len(sink.records), tc.count)
			}
			all := decodeAll(t, sink.records, tc.maxR)
			if int64(len(all)) != tc.count {
				t.Fatalf("%d trades in records, want %d", len(all), tc.count)
			}
			// ids 1..count exactly once
			seen := make([]bool, tc.count+1)
			for _, tr := range all {
				if tr.ID < 1 || tr.ID > tc.count || seen[tr.ID] {
					t.Fatalf("id %d out of range or repeated", tr.ID)
				}
				seen[tr.ID] = true
			}
			// a ticker always goes with the same key, and its ids increase (order kept per key)
			keyOf := map[string]string{}
			lastID := map[string]int64{}
			for _, r := range sink.records {
				ts, _ := trade.DecodeBatch(r.value)
				for _, tr := range ts {
					if k, ok := keyOf[tr.Ticker]; ok && k != r.key {
						t.Fatalf("%s under keys %s and %s", tr.Ticker, k, r.key)
					}
					keyOf[tr.Ticker] = r.key
					if tr.ID <= lastID[tr.Ticker] {
						t.Fatalf("%s ids out of order: %d after %d", tr.Ticker, tr.ID, lastID[tr.Ticker])
					}
					lastID[tr.Ticker] = tr.ID
				}
			}
			keys := map[string]bool{}
			for _, k := range keyOf {
				keys[k] = true
			}
			if want := min(tc.groups, tc.companies); tc.count >= int64(tc.companies) && len(keys) != want {
				t.Errorf("%d keys used, want %d", len(keys), want)
			}
		})
	}
}

func TestFeedOneTradePerCompanyPerTick(t *testing.T) {
	sink := newSink()
	cs := companies(24)
	f := New(Config{Interval: time.Millisecond, Count: 72, KeyGroups: 6, MaxRecordTrades: 1000},
		market.New(cs, 1, market.Options{}), &counter{}, sink, discard(), time.Now)
	if _, err := f.Run(context.Background(), context.Background()); err != nil {
		t.Fatal(err)
	}
	// 3 ticks x 6 groups, each record one trade of each of its 4 companies
	if len(sink.records) != 18 {
		t.Fatalf("%d records, want 18", len(sink.records))
	}
	for _, r := range sink.records {
		if r.trades != 4 {
			t.Errorf("record %s has %d trades, want 4", r.key, r.trades)
		}
	}
}

func TestFeedStopsOnCancel(t *testing.T) {
	sink := newSink()
	f := New(Config{Interval: time.Millisecond, KeyGroups: 2, MaxRecordTrades: 100},
		market.New(companies(4), 1, market.Options{}), &counter{}, sink, discard(), time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := f.Run(ctx, context.Background()); done <- err }()
	for {
		sink.mu.Lock()
		n := len(sink.records)
		sink.mu.Unlock()
		if n >= 10 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil (a signal is a normal stop)", err)
	}
}

func TestFeedStopsOnDuration(t *testing.T) {
	f := New(Config{Interval: time.Millisecond, Duration: 20 * time.Millisecond, KeyGroups: 2, MaxRecordTrades: 100},
		market.New(companies(4), 1, market.Options{}), &counter{}, newSink(), discard(), time.Now)
	sum, err := f.Run(context.Background(), context.Background())
	if err != nil || sum.Produced == 0 {
		t.Errorf("Run = %+v, %v; want some trades and no error", sum, err)
	}
}

func TestFeedStopsOnDeliveryError(t *testing.T) {
	sink := newSink()
	sink.failAfter = 3
	f := New(Config{Interval: time.Millisecond, KeyGroups: 2, MaxRecordTrades: 100},
		market.New(companies(4), 1, market.Options{}), &counter{}, sink, discard(), time.Now)
	_, err := f.Run(context.Background(), context.Background())
	if err == nil || err.Error() != "broker said no" {
		t.Errorf("Run = %v, want the delivery error", err)
	}
}

type failingIDs struct{}

func (failingIDs) Assign(context.Context, []trade.Trade) error { return errors.New("id_blocks denied") }

func TestFeedStopsOnIDError(t *testing.T) {
	f := New(Config{Interval: time.Millisecond, KeyGroups: 2, MaxRecordTrades: 100},
		market.New(companies(4), 1, market.Options{}), failingIDs{}, newSink(), discard(), time.Now)
	if _, err := f.Run(context.Background(), context.Background()); err == nil {
		t.Error("Run ignored an id reservation error")
	}
}

// BenchmarkFeed measures generation + id assignment + JSON encoding without Kafka.
func BenchmarkFeed(b *testing.B) {
	sink := &nullSink{failed: make(chan struct{})}
	f := New(Config{Interval: time.Millisecond, Rate: 1e8, Count: int64(b.N), KeyGroups: 6, MaxRecordTrades: 1000},
		market.New(companies(24), 1, market.Options{}), &counter{}, sink, discard(), time.Now)
	b.ResetTimer()
	sum, err := f.Run(context.Background(), context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(sum.Produced)/b.Elapsed().Seconds(), "trades/s")
}

type nullSink struct{ failed chan struct{} }

func (*nullSink) Publish(context.Context, []byte, []byte, int) {}
func (s *nullSink) Failed() <-chan struct{}                    { return s.failed }
func (*nullSink) Err() error                                   { return nil }
func (*nullSink) Stats() publish.Stats                         { return publish.Stats{} }
