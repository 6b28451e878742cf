//go:build integration

package jobtest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"idxstream/trade"
)

// BenchmarkPipeline produces at a fixed rate (JOBBENCH_RATE trades/s, default 10000) for
// JOBBENCH_DURATION (default 3m) while the job runs with its default triggers, and reports the
// sustained throughput (trades produced / time until the last one is readable in Cassandra) and
// the freshness of sampled trades (created_at to readable in Cassandra). Run with -benchtime 1x.
func BenchmarkPipeline(b *testing.B) {
	rate, _ := strconv.Atoi(env("JOBBENCH_RATE", "10000"))
	dur, err := time.ParseDuration(env("JOBBENCH_DURATION", "3m"))
	if err != nil || rate <= 0 {
		b.Fatalf("JOBBENCH_RATE / JOBBENCH_DURATION: %v", err)
	}
	for range b.N {
		benchOnce(b, rate, dur)
	}
}

func benchOnce(b *testing.B, rate int, dur time.Duration) {
	s := connect(b)
	topic := s.newTopic(b, 3)
	// The job's own default triggers (10 s raw, 60 s aggregate) unless JOBBENCH_RAW_TRIGGER or
	// JOBBENCH_AGG_TRIGGER say otherwise.
	overrides := []string{"JOB_RAW_TRIGGER=" + env("JOBBENCH_RAW_TRIGGER", "10s"),
		"JOB_AGG_TRIGGER=" + env("JOBBENCH_AGG_TRIGGER", "60s"), "LOG_FORMAT=json"}
	if env("JOBBENCH_METRICS", "on") == "off" {
		overrides = append(overrides, "JOB_STATUS_ADDR=") // no status endpoint, hence no metrics collector
	}
	j := s.startJob(b, topic, overrides...)
	ctx := context.Background()

	// Wait for the job's queries to be up: one trade through end to end.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	warm := makeTrades(1, rng)
	s.produce(b, topic, warm, 1)
	waitVisible(b, s, warm[0].ID, 5*time.Minute)

	const perRecord = 100
	var (
		mu            sync.Mutex
		fresh, ticker []time.Duration // created_at → readable in real_time_data, in trades_by_ticker
		wg            sync.WaitGroup
		last          trade.Trade
		firstAt       time.Time // when the first trade became readable
		firstOK       bool
		sent          int
	)
	sample := func(tr trade.Trade) {
		track := func(poll func() (time.Time, bool), into *[]time.Duration) {
			defer wg.Done()
			if at, ok := poll(); ok {
				mu.Lock()
				*into = append(*into, at.Sub(tr.CreatedAt))
				mu.Unlock()
			}
		}
		wg.Add(2)
		go track(func() (time.Time, bool) { return pollVisible(s, tr.ID, 3*time.Minute) }, &fresh)
		go track(func() (time.Time, bool) { return pollTickerVisible(s, tr, 3*time.Minute) }, &ticker)
	}
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	perTick := rate / 10
	base := int64(1e4) // after the warm-up trade; the namespace is the benchmark's own
	nextSample := start
	for time.Since(start) < dur {
		<-tick.C
		now := time.Now().UTC()
		batch := make([]trade.Trade, perTick)
		for i := range batch {
			tr := makeTrades(1, rng)[0]
			tr.ID, tr.CreatedAt = base+int64(sent+i), now
			batch[i] = tr
		}
		recs := make([]*kgo.Record, 0, perTick/perRecord+1)
		for i := 0; i < len(batch); i += perRecord {
			part := batch[i:min(i+perRecord, len(batch))]
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i / perRecord)), Value: trade.AppendBatch(nil, part)})
		}
		for _, r := range recs {
			s.kafka.Produce(ctx, r, nil)
		}
		if sent == 0 { // the arrival of the first trade starts the delivered-rate clock
			first := batch[0]
			wg.Add(1)
			go func() {
				defer wg.Done()
				firstAt, firstOK = pollVisible(s, first.ID, 3*time.Minute)
			}()
		}
		sent += len(batch)
		last = batch[len(batch)-1]
		if now.After(nextSample) { // one freshness sample a second, from any record of the tick
			nextSample = now.Add(time.Second)
			sample(batch[rng.IntN(len(batch))])
		}
	}
	if err := s.kafka.Flush(ctx); err != nil {
		b.Fatalf("flush: %v", err)
	}
	produced := time.Since(start)
	lastAt, ok := pollVisible(s, last.ID, 10*time.Minute)
	if !ok {
		b.Fatalf("the last trade did not reach Cassandra within 10 minutes of the end of production")
	}
	wg.Wait()
	if !firstOK {
		b.Fatalf("the first trade did not reach Cassandra")
	}
	if err := j.Stop(b, syscall.SIGTERM, 3*time.Minute); err != nil {
		b.Logf("job exit: %v", err)
	}
	if len(fresh) == 0 || len(ticker) == 0 {
		b.Fatal("no freshness samples")
	}
	// Delivered rate: the trades between the first and the last one over the time between their
	// arrivals in Cassandra. It equals the offered rate when the job keeps up, and falls behind it
	// when lag builds up; unlike trades / (last arrival - start) it does not count the last
	// trade's own latency as lost throughput.
	b.ReportMetric(float64(sent-1)/lastAt.Sub(firstAt).Seconds(), "trades/s")
	b.ReportMetric(float64(sent)/produced.Seconds(), "offered_trades/s")
	b.ReportMetric(lastAt.Sub(start.Add(produced)).Seconds(), "drain_s")
	b.ReportMetric(quantile(fresh, 0.5), "fresh_p50_s")
	b.ReportMetric(quantile(fresh, 0.99), "fresh_p99_s")
	b.ReportMetric(quantile(fresh, 1), "fresh_max_s")
	b.ReportMetric(quantile(ticker, 0.99), "fresh_ticker_p99_s")
	events := batchEvents(j.Output(), start)
	b.ReportMetric(float64(maxRawLag(events)), "max_lag_records")
	b.Logf("%d trades in %s of production; the last one readable %s after production ended; %d freshness samples",
		sent, produced.Round(time.Second), lastAt.Sub(start.Add(produced)).Round(100*time.Millisecond), len(fresh))
	b.Logf("freshness in real_time_data p50 / p99 / max: %.1f / %.1f / %.1f s; in trades_by_ticker (the dashboard's table): %.1f / %.1f / %.1f s",
		quantile(fresh, 0.5), quantile(fresh, 0.99), quantile(fresh, 1), quantile(ticker, 0.5), quantile(ticker, 0.99), quantile(ticker, 1))
	b.Logf("micro-batch durations (what freshness is made of, beyond the trigger's wait):\n%s", batchDurations(events))
}

// quantile q of ds in seconds (sorts ds).
func quantile(ds []time.Duration, q float64) float64 {
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(q*float64(len(ds))))].Seconds()
}

// batchEvent is a micro-batch line of the job's JSON log: a raw query's batch or an aggregate one.
type batchEvent struct {
	Time       time.Time     `json:"time"`
	Msg        string        `json:"msg"`
	Path       string        `json:"path"`
	Query      string        `json:"query"`
	DurationMS int64         `json:"duration_ms"` // raw
	Duration   string        `json:"duration"`    // aggregate
	Settle     string        `json:"settle"`      // aggregate: its MySQL transaction
	Lag        int64         `json:"kafka_lag"`
	Took       time.Duration `json:"-"` // the batch's duration, from whichever of the two
}

// batchEvents are the micro-batches the job logged from since on.
func batchEvents(log string, since time.Time) []batchEvent {
	var out []batchEvent
	for _, line := range strings.Split(log, "\n") {
		var e batchEvent
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		switch {
		case e.Msg == "batch" && e.Path == "raw":
			e.Took = time.Duration(e.DurationMS) * time.Millisecond
		case e.Msg == "batch committed" && e.Path == "aggregate":
			var err error
			if e.Took, err = time.ParseDuration(e.Duration); err != nil {
				continue
			}
		default:
			continue
		}
		// Logged when the job noticed the batch's end: a batch that began before since (the first,
		// cold one, which only carried the warm-up trade) is left out.
		if !e.Time.Add(-e.Took).Before(since) {
			out = append(out, e)
		}
	}
	return out
}

// maxRawLag is the largest Kafka lag (records) a raw-path micro-batch left behind: it stays near
// zero while the job keeps up with the producer.
func maxRawLag(events []batchEvent) int64 {
	var most int64
	for _, e := range events {
		if e.Path == "raw" {
			most = max(most, e.Lag)
		}
	}
	return most
}

// batchDurations summarizes, for the raw query and the aggregate path, how many micro-batches
// ran and their duration's p50 and max.
func batchDurations(events []batchEvent) string {
	byQuery := map[string][]time.Duration{}
	for _, e := range events {
		name := "aggregate path"
		if e.Path == "raw" {
			name = e.Query[strings.LastIndex(e.Query, "__")+2:] // the table; before it is the test's topic
		}
		byQuery[name] = append(byQuery[name], e.Took)
	}
	var settle []time.Duration
	for _, e := range events {
		if e.Path == "aggregate" {
			if d, err := time.ParseDuration(e.Settle); err == nil {
				settle = append(settle, d)
			}
		}
	}
	var out strings.Builder
	for _, n := range slices.Sorted(maps.Keys(byQuery)) {
		ds := byQuery[n]
		slices.Sort(ds)
		fmt.Fprintf(&out, "  %-20s %3d batches, p50 %5.1f s, max %5.1f s\n", n, len(ds), ds[len(ds)/2].Seconds(), ds[len(ds)-1].Seconds())
	}
	if len(settle) > 0 {
		slices.Sort(settle)
		fmt.Fprintf(&out, "  %-20s settle in MySQL p50 %5.1f s, max %5.1f s\n", "", settle[len(settle)/2].Seconds(), settle[len(settle)-1].Seconds())
	}
	return out.String()
}

// pollVisible reports when trade id became readable in real_time_data.
func pollVisible(s *stack, id int64, within time.Duration) (time.Time, bool) {
	return pollUntil(within, func() error {
		var got int64
		return s.cass.Query(`SELECT id FROM real_time_data WHERE id = ?`, id).Scan(&got)
	})
}

// pollTickerVisible reports when trade tr became readable in trades_by_ticker, the dashboard's table.
func pollTickerVisible(s *stack, tr trade.Trade, within time.Duration) (time.Time, bool) {
	day := tr.CreatedAt.In(s.zone()).Format("2006-01-02")
	return pollUntil(within, func() error {
		var got int64
		return s.cass.Query(`SELECT id FROM trades_by_ticker WHERE ticker = ? AND day = ? AND created_at = ? AND id = ?`,
			tr.Ticker, day, tr.CreatedAt, tr.ID).Scan(&got)
	})
}

// pollUntil runs read every 200 ms until it succeeds (reporting when) or within has passed.
func pollUntil(within time.Duration, read func() error) (time.Time, bool) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if read() == nil {
			return time.Now(), true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return time.Time{}, false
}

func waitVisible(b *testing.B, s *stack, id int64, within time.Duration) {
	if _, ok := pollVisible(s, id, within); !ok {
		b.Fatalf("trade %d not in Cassandra within %s: is the job running?", id, within)
	}
}

// BenchmarkCassandraCeiling measures what the local Cassandra takes from a plain writer: rows of
// real_time_data inserted by JOBBENCH_CEILING_WRITERS (256) goroutines, each with one insert in
// flight, JOBBENCH_CEILING_ROWS (600 000) in all, at the job's consistency. It is the ceiling the
// raw path's Cassandra writes are compared with (make bench prints the ratio). Run with -benchtime 1x.
func BenchmarkCassandraCeiling(b *testing.B) {
	writers, _ := strconv.Atoi(env("JOBBENCH_CEILING_WRITERS", "256"))
	rows, _ := strconv.Atoi(env("JOBBENCH_CEILING_ROWS", "600000"))
	if writers <= 0 || rows <= 0 {
		b.Fatal("JOBBENCH_CEILING_WRITERS and JOBBENCH_CEILING_ROWS must be positive")
	}
	s := connect(b)
	ctx := context.Background()
	trades := makeTrades(1000, rand.New(rand.NewPCG(1, 2)))
	for range b.N {
		var next atomic.Int64
		var failed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > int64(rows) {
						return
					}
					tr := trades[i%int64(len(trades))]
					if err := s.cass.Query(`INSERT INTO real_time_data (id, created_at, ticker, sector, volume, market_cap, price) VALUES (?, ?, ?, ?, ?, ?, ?)`,
						i, tr.CreatedAt, tr.Ticker, tr.Sector, tr.Volume, tr.MarketCap, tr.Price).WithContext(ctx).Exec(); err != nil {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		took := time.Since(start)
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d of %d inserts failed", n, rows)
		}
		b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
		b.Logf("%d rows by %d writers in %.1f s", rows, writers, took.Seconds())
	}
}
