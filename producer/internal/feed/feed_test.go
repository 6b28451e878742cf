package feed

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"idxstream/producer/internal/market"
	"idxstream/producer/internal/publish"
	"idxstream/producer/internal/session"
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
			if err := trade.Validate(tr, tr.CreatedAt, market.Reference(companies(26*26))); err != nil {
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

// simClock is a simulated clock that moves on by step each time it is read, so that a feed running
// on real milliseconds sees hours of market time pass.
type simClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *simClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

// logBuffer is a logger whose output the test can read.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Under the IDX schedule, from Friday 11:00 to Monday morning: trades only inside the sessions, at
// the target rate of trading time (no burst after lunch or the weekend), and log lines at the
// open and the close.
func TestFeedIDXSessions(t *testing.T) {
	fri := time.Date(2026, 11, 27, 11, 0, 0, 0, session.Jakarta)
	const rate = 2.0 // trades per second of trading time
	tests := []struct {
		name string
		rate float64
	}{{"one round per tick", 0}, {"target rate", rate}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &simClock{t: fri, step: 2 * time.Minute} // read twice per tick: 4 min per tick
			sink := newSink()
			logs := &logBuffer{}
			gen := market.New(companies(4), 1, market.Options{Schedule: session.IDX()})
			count := int64(4 * 100)
			if tc.rate > 0 {
				count = 30000
			}
			f := New(Config{Interval: time.Millisecond, Rate: tc.rate, Count: count, KeyGroups: 2, MaxRecordTrades: 1000},
				gen, &counter{}, sink, slog.New(slog.NewTextHandler(logs, nil)), clock.now)
			if _, err := f.Run(context.Background(), context.Background()); err != nil {
				t.Fatal(err)
			}
			all := decodeAll(t, sink.records, 1000)
			if int64(len(all)) != count {
				t.Fatalf("%d trades, want %d", len(all), count)
			}
			perWindow := map[time.Time]int{}
			for _, tr := range all {
				w := session.IDX().Window(tr.CreatedAt)
				if !w.Contains(tr.CreatedAt) {
					t.Fatalf("trade %d at %v: the market is closed", tr.ID, tr.CreatedAt.In(session.Jakarta))
				}
				perWindow[w.Open]++
			}
			friII := time.Date(2026, 11, 27, 14, 0, 0, 0, session.Jakarta)
			monI := time.Date(2026, 11, 30, 9, 0, 0, 0, session.Jakarta)
			if perWindow[friII] == 0 || perWindow[monI] == 0 {
				t.Errorf("trades per session %v: want Friday's session II and Monday's session I", perWindow)
			}
			if tc.rate > 0 {
				// Friday's session II lasts 110 minutes: rate × 6,600 s, give or take two ticks of
				// four simulated minutes (and far from the 2 h 30 min of lunch that a wall-clock
				// rate would add).
				if got, want := float64(perWindow[friII]), tc.rate*6600; got < want-2*tc.rate*240 || got > want+2*tc.rate*240 {
					t.Errorf("%v trades in Friday's session II, want about %v", got, want)
				}
			}
			out := logs.String()
			for _, want := range []string{
				`msg="market open" session=I closes_at=2026-11-27T11:30:00.000+07:00`,
				`msg="market closed: producing nothing until it opens" opens_at=2026-11-27T14:00:00.000+07:00`,
				`opens_at=2026-11-30T09:00:00.000+07:00`,
				`msg="market open" session=II closes_at=2026-11-27T15:50:00.000+07:00`,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("log does not contain %s:\n%s", want, out)
				}
			}
		})
	}
}

// While the market is closed the progress line says so and when it opens next.
func TestFeedProgressWhenClosed(t *testing.T) {
	sat := time.Date(2026, 11, 28, 10, 0, 0, 0, session.Jakarta)
	logs := &logBuffer{}
	f := New(Config{Interval: time.Millisecond, Duration: 50 * time.Millisecond, KeyGroups: 2, MaxRecordTrades: 100, Progress: 5 * time.Millisecond},
		market.New(companies(4), 1, market.Options{Schedule: session.IDX()}), &counter{}, newSink(),
		slog.New(slog.NewTextHandler(logs, nil)), func() time.Time { return sat })
	sum, err := f.Run(context.Background(), context.Background())
	if err != nil || sum.Produced != 0 {
		t.Fatalf("Run = %+v, %v; want nothing produced on a Saturday", sum, err)
	}
	want := `market=closed opens_at=2026-11-30T09:00:00.000+07:00 opens_in=47h0m0s`
	if out := logs.String(); !strings.Contains(out, "msg=progress") || !strings.Contains(out, want) {
		t.Errorf("progress lines do not say %q:\n%s", want, out)
	}
}

// A market that never closes logs no session lines and keeps the progress line as it was.
func TestFeedContinuousLogsNoSessions(t *testing.T) {
	logs := &logBuffer{}
	f := New(Config{Interval: time.Millisecond, Duration: 30 * time.Millisecond, KeyGroups: 2, MaxRecordTrades: 100, Progress: 5 * time.Millisecond},
		market.New(companies(4), 1, market.Options{}), &counter{}, newSink(), slog.New(slog.NewTextHandler(logs, nil)), time.Now)
	if _, err := f.Run(context.Background(), context.Background()); err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); strings.Contains(out, "market") || !strings.Contains(out, "msg=progress") {
		t.Errorf("continuous run logged:\n%s", out)
	}
}
