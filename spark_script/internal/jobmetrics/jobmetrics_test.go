package jobmetrics

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"idxstream/spark_script/internal/aggpath"
	"idxstream/spark_script/internal/rawpath"
	sc "idxstream/sparkconnect"
	"idxstream/testkit/scrape"
)

// fakes of the snapshots: what the supervisor, the aggregate path and the lease would show.
type fakeJob struct {
	mu    sync.Mutex
	raw   []rawpath.State
	agg   aggpath.Progress
	now   time.Time
	token int64
	held  bool
}

func (f *fakeJob) States() []rawpath.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]rawpath.State(nil), f.raw...)
}

func (f *fakeJob) LastProgress() aggpath.Progress {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.agg
}

func (f *fakeJob) Token() int64           { return f.token }
func (f *fakeJob) LastRenewed() time.Time { return f.clock().Add(-2 * time.Second) }
func (f *fakeJob) Held() bool             { return f.held }

func (f *fakeJob) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeJob) set(fn func(f *fakeJob)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeJob) advance(d time.Duration) { f.set(func(f *fakeJob) { f.now = f.now.Add(d) }) }

var t0 = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

const topic = "trading_data"

func newFake() *fakeJob {
	f := &fakeJob{now: t0, token: 7, held: true}
	f.raw = []rawpath.State{{Name: topic + "__raw", Active: true}}
	return f
}

func newCollector(f *fakeJob) *Collector {
	return New(Config{Topic: topic, RawTrigger: 10 * time.Second, AggTrigger: time.Minute,
		Raw: f, Agg: f, Lease: f, Now: f.clock})
}

// batch is the progress of a micro-batch that read records Kafka records and wrote trades valid
// trades (to two tables) and rejects rejects, at the fake's current time, as a Spark 3.5 Connect
// server sends it with the fan-out sink.
func batch(id, records, trades, rejects int64, at time.Time) *sc.Progress {
	n := strconv.FormatInt
	return &sc.Progress{RunID: "run-1", BatchID: id, Timestamp: at, BatchDuration: 2500, NumInputRows: records,
		DurationMs: map[string]int64{"addBatch": 2000, "triggerExecution": 2500}, Sink: sc.SinkProgress{NumOutputRows: -1,
			Metrics: map[string]string{"rows.real_time_data": n(trades, 10), "rows.trades_by_ticker": n(trades, 10),
				"rows.rejects": n(rejects, 10), "rows.agg_stage": n(trades, 10)}}}
}

// report sets the progress of every raw query.
func (f *fakeJob) report(p func(at time.Time) *sc.Progress) {
	f.set(func(f *fakeJob) {
		for i := range f.raw {
			f.raw[i].Progress = p(f.now)
		}
	})
}

// idle is Spark's report of a trigger that found no new data.
func idle(id int64, at time.Time) *sc.Progress {
	return &sc.Progress{RunID: "run-1", BatchID: id, Timestamp: at, DurationMs: map[string]int64{"latestOffset": 3, "triggerExecution": 3},
		Sink: sc.SinkProgress{NumOutputRows: 0}}
}

func scrapeOf(t *testing.T, c *Collector) scrape.Families {
	t.Helper()
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	f, err := scrape.Get(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func value(t *testing.T, f scrape.Families, name string, pairs ...string) float64 {
	t.Helper()
	v, ok := f.Value(name, append([]string{"topic", topic}, pairs...)...)
	if !ok {
		t.Fatalf("no series %s%v", name, pairs)
	}
	return v
}

// TestCountersAccumulateOncePerBatch: a snapshot seen again, or an idle trigger's report, counts
// nothing; every new batch counts once, whatever the scrapes in between.
func TestCountersAccumulateOncePerBatch(t *testing.T) {
	f := newFake()
	c := newCollector(f)
	steps := []struct {
		name string
		// progress of the raw query at this step
		p *sc.Progress
	}{
		{"first batch", batch(0, 40, 3800, 12, t0)},
		{"the same snapshot again", batch(0, 40, 3800, 12, t0)},
		{"an idle trigger", idle(1, t0.Add(20*time.Second))},
		{"second batch, same id as the idle report", batch(1, 10, 950, 1, t0.Add(30*time.Second))},
	}
	for _, s := range steps {
		f.set(func(f *fakeJob) { f.raw[0].Progress, f.raw[0].KafkaLag = s.p, s.p.BatchID*25 })
		c.poll()
	}
	f.set(func(f *fakeJob) {
		f.raw[0].Restarts = 2
		f.agg = aggpath.Progress{BatchID: 5, Records: 50, Trades: 4750, Duplicates: 4, Conflicts: 2, Rows: 9, Duration: "1.5s", Committed: t0.Add(35 * time.Second), Lag: 3}
	})
	got := scrapeOf(t, c)
	got2 := scrapeOf(t, c) // a second scrape counts nothing more

	for _, fam := range []scrape.Families{got, got2} {
		tests := []struct {
			name  string
			pairs []string
			want  float64
		}{
			{"idxstream_job_batches_total", []string{"path", "raw", "query", "raw"}, 2},
			{"idxstream_job_input_rows_total", []string{"path", "raw", "query", "raw"}, 50},
			{"idxstream_job_output_rows_total", []string{"path", "raw", "query", "real_time_data"}, 4750},
			{"idxstream_job_output_rows_total", []string{"path", "raw", "query", "trades_by_ticker"}, 4750},
			{"idxstream_job_output_rows_total", []string{"path", "raw", "query", "agg_stage"}, 4750},
			{"idxstream_job_output_rows_total", []string{"path", "raw", "query", "rejects"}, 13},
			{"idxstream_job_rejected_rows_total", nil, 13},
			{"idxstream_job_kafka_lag_records", []string{"path", "raw", "query", "raw"}, 25},
			{"idxstream_job_query_restarts_total", []string{"path", "raw", "query", "raw"}, 2},
			{"idxstream_job_query_active", []string{"path", "raw", "query", "raw"}, 1},
			{"idxstream_job_last_batch_timestamp_seconds", []string{"path", "raw", "query", "raw"}, seconds(t0.Add(32500 * time.Millisecond))},
			{"idxstream_job_batches_total", []string{"path", "aggregate", "query", "aggregated_data"}, 1},
			{"idxstream_job_input_rows_total", []string{"path", "aggregate"}, 50},
			{"idxstream_job_output_rows_total", []string{"path", "aggregate"}, 9},
			{"idxstream_job_aggregated_trades_total", nil, 4750},
			{"idxstream_job_kafka_lag_records", []string{"path", "aggregate"}, 3},
			{"idxstream_job_last_batch_timestamp_seconds", []string{"path", "aggregate"}, seconds(t0.Add(35 * time.Second))},
			{"idxstream_job_duplicates_dropped_total", []string{"path", "aggregate"}, 4},
			{"idxstream_job_conflicts_rejected_total", nil, 2},
			{"idxstream_job_lease_held", nil, 1},
			{"idxstream_job_lease_fencing_token", nil, 7},
			{"idxstream_job_lease_last_renewal_timestamp_seconds", nil, seconds(t0.Add(-2 * time.Second))},
			{"idxstream_job_path_stalled", []string{"path", "aggregate"}, 0},
		}
		for _, tt := range tests {
			if got := value(t, fam, tt.name, tt.pairs...); got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.name, tt.pairs, got, tt.want)
			}
		}
		if n, _ := fam.Count("idxstream_job_batch_duration_seconds", "path", "raw", "query", "raw"); n != 2 {
			t.Errorf("raw batch durations observed %d times, want 2", n)
		}
		if n, _ := fam.Count("idxstream_job_batch_duration_seconds", "path", "aggregate"); n != 1 {
			t.Errorf("aggregate batch durations observed %d times, want 1", n)
		}
	}
	for name, typ := range map[string]string{"idxstream_job_batches_total": "COUNTER", "idxstream_job_query_restarts_total": "COUNTER",
		"idxstream_job_kafka_lag_records": "GAUGE", "idxstream_job_batch_duration_seconds": "HISTOGRAM", "idxstream_job_lease_held": "GAUGE"} {
		if got.Type(name) != typ {
			t.Errorf("%s is a %s, want %s", name, got.Type(name), typ)
		}
	}
	// Bounded labels: the query label is the table, never the topic-qualified query name.
	for _, q := range got.Labels("idxstream_job_batches_total", "query") {
		if strings.Contains(q, "__") {
			t.Errorf("query label %q carries the topic", q)
		}
	}
}

// TestRunSeesBatchesBetweenScrapes: batches that come and go between two scrapes are counted by
// the ticker.
func TestRunSeesBatchesBetweenScrapes(t *testing.T) {
	f := newFake()
	c := New(Config{Topic: topic, RawTrigger: 10 * time.Second, AggTrigger: time.Minute, Raw: f, Agg: f, Poll: time.Millisecond, Now: f.clock})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for id := range int64(3) {
		f.set(func(f *fakeJob) { f.raw[0].Progress = batch(id, 10, 100, 0, t0.Add(time.Duration(id)*10*time.Second)) })
		time.Sleep(30 * time.Millisecond) // many poll periods
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := value(t, scrapeOf(t, c), "idxstream_job_batches_total", "query", "raw"); got != 3 {
		t.Fatalf("batches counted %v, want 3", got)
	}
	if _, ok := scrapeOf(t, c).Value("idxstream_job_lease_held"); ok {
		t.Error("lease metrics without a lease")
	}
}

// TestStalledAggregatePath: the raw path keeps committing input while the aggregate path commits
// nothing (its MySQL writes fail): after three aggregate triggers it is stalled, in /status's
// health and in the metrics, and it recovers with its next commit.
func TestStalledAggregatePath(t *testing.T) {
	f := newFake()
	c := newCollector(f)
	f.set(func(f *fakeJob) { f.agg.Error = "aggregate batch 1: jdbc: connection refused" })
	for i := range int64(20) { // 20 raw batches, 10 s apart: 3 min 10 s
		f.report(func(at time.Time) *sc.Progress { return batch(i, 10, 100, 0, at) })
		c.poll()
		if i == 5 {
			if h := c.Health(); h.Status != StateOK {
				t.Fatalf("stalled after one minute already: %+v", h)
			}
		}
		f.advance(10 * time.Second)
	}
	h := c.Health()
	agg := h.Paths[len(h.Paths)-1]
	if h.Status != StateStalled || agg.Path != PathAggregate || agg.State != StateStalled {
		t.Fatalf("health %+v, want the aggregate path stalled", h)
	}
	for _, want := range []string{"since the job started", "3 × trigger 1m0s", "not aggregated yet", "connection refused"} {
		if !strings.Contains(agg.Reason, want) {
			t.Errorf("reason %q lacks %q", agg.Reason, want)
		}
	}
	for _, p := range h.Paths[:len(h.Paths)-1] {
		if p.State != StateOK {
			t.Errorf("raw query %+v, want ok", p)
		}
	}
	m := scrapeOf(t, c)
	if v := value(t, m, "idxstream_job_path_stalled", "path", "aggregate"); v != 1 {
		t.Errorf("idxstream_job_path_stalled{path=aggregate} = %v, want 1", v)
	}
	if v := value(t, m, "idxstream_job_path_stalled", "path", "raw", "query", "raw"); v != 0 {
		t.Errorf("idxstream_job_path_stalled{query=raw} = %v, want 0", v)
	}

	f.set(func(f *fakeJob) {
		f.agg = aggpath.Progress{BatchID: 1, Records: 200, Rows: 8, Duration: "2s", Committed: f.now}
	})
	if h := c.Health(); h.Status != StateOK {
		t.Errorf("after a commit: %+v, want ok", h)
	}
}

// TestIdleIsNotStalled: a market that closed leaves every path without commits, and that is not
// a fault.
func TestIdleIsNotStalled(t *testing.T) {
	f := newFake()
	c := newCollector(f)
	f.report(func(at time.Time) *sc.Progress { return batch(0, 10, 100, 0, at) })
	c.poll()
	f.advance(20 * time.Second)
	f.set(func(f *fakeJob) {
		f.agg = aggpath.Progress{BatchID: 1, Records: 10, Rows: 2, Duration: "1s", Committed: f.now}
	})
	for i := range int64(60) { // ten minutes of idle reports
		f.advance(10 * time.Second)
		f.report(func(at time.Time) *sc.Progress { return idle(1+i, at) })
		c.poll()
	}
	h := c.Health()
	if h.Status != StateOK {
		t.Fatalf("idle job reported %+v", h)
	}
	for _, p := range h.Paths {
		if p.State != StateIdle || !strings.Contains(p.Reason, "no input waits") {
			t.Errorf("%s %s: %s (%s), want idle", p.Path, p.Query, p.State, p.Reason)
		}
	}
}
