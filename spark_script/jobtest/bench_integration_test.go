//go:build integration

package jobtest

import (
	"context"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
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
	j := startJob(b, topic, "JOB_RAW_TRIGGER="+env("JOBBENCH_RAW_TRIGGER", "10s"),
		"JOB_AGG_TRIGGER="+env("JOBBENCH_AGG_TRIGGER", "60s"))
	ctx := context.Background()

	// Wait for the job's queries to be up: one trade through end to end.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	warm := makeTrades(1, rng)
	s.produce(b, topic, warm, 1)
	waitVisible(b, s, warm[0].ID, 5*time.Minute)

	const perRecord = 100
	var (
		mu      sync.Mutex
		fresh   []time.Duration
		wg      sync.WaitGroup
		lastIDs []int64
		sent    int
	)
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	perTick := rate / 10
	base := (time.Now().UnixMilli()%1e10)*1e5 + 1e4
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
		s.kafka.Produce(ctx, recs[0], nil)
		for _, r := range recs[1:] {
			s.kafka.Produce(ctx, r, nil)
		}
		sent += len(batch)
		lastIDs = []int64{batch[len(batch)-1].ID}
		if now.After(nextSample) { // one freshness sample every 2 s
			nextSample = now.Add(2 * time.Second)
			id, created := batch[0].ID, batch[0].CreatedAt
			wg.Add(1)
			go func() {
				defer wg.Done()
				if at, ok := pollVisible(s, id, 3*time.Minute); ok {
					mu.Lock()
					fresh = append(fresh, at.Sub(created))
					mu.Unlock()
				}
			}()
		}
	}
	if err := s.kafka.Flush(ctx); err != nil {
		b.Fatalf("flush: %v", err)
	}
	produced := time.Since(start)
	at, ok := pollVisible(s, lastIDs[0], 10*time.Minute)
	if !ok {
		b.Fatalf("the last trade did not reach Cassandra within 10 minutes of the end of production")
	}
	wg.Wait()
	if err := j.stop(b, syscall.SIGTERM, 3*time.Minute); err != nil {
		b.Logf("job exit: %v", err)
	}
	sort.Slice(fresh, func(i, k int) bool { return fresh[i] < fresh[k] })
	if len(fresh) == 0 {
		b.Fatal("no freshness samples")
	}
	q := func(p float64) float64 { return fresh[min(len(fresh)-1, int(p*float64(len(fresh))))].Seconds() }
	b.ReportMetric(float64(sent)/at.Sub(start).Seconds(), "trades/s")
	b.ReportMetric(float64(sent)/produced.Seconds(), "offered_trades/s")
	b.ReportMetric(q(0.5), "fresh_p50_s")
	b.ReportMetric(q(0.99), "fresh_p99_s")
	b.ReportMetric(fresh[len(fresh)-1].Seconds(), "fresh_max_s")
	b.Logf("%d trades in %s of production; last readable %s after the start; %d freshness samples",
		sent, produced.Round(time.Second), at.Sub(start).Round(time.Second), len(fresh))
}

// pollVisible reports when trade id became readable in real_time_data.
func pollVisible(s *stack, id int64, within time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		var got int64
		if err := s.cass.Query(`SELECT id FROM real_time_data WHERE id = ?`, id).Scan(&got); err == nil {
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
