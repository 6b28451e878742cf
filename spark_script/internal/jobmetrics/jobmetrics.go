// Package jobmetrics derives the streaming job's Prometheus metrics and its health from the
// snapshots the job's parts already expose: the raw path's supervisor states
// (rawpath.Supervisor.States: each query's last progress, restarts, Kafka lag), the aggregate
// path's last batch (aggpath.Path.LastProgress) and the lease. The paths themselves carry no
// instrumentation.
//
// A snapshot holds only the last micro-batch of each query, so counters that must only grow
// (batches, rows) are accumulated here, once per new batch seen. The collector therefore polls
// the snapshots on a short ticker (Config.Poll, 1 s) as well as at each scrape: polling only at
// scrapes would miss the batches that came and went between two of them (with a 10 s trigger and
// a 30 s scrape interval, two in three), while the ticker sees every snapshot the supervisor
// publishes (it polls Spark every JOB_QUERY_POLL, 5 s) and keeps the health verdict current
// for /status when nobody scrapes. The counts are those of the batches the supervisor saw; a
// batch that started and ended between two of its polls is missed by it and here alike.
//
// Every metric lives in the collector's own registry (never Prometheus' global one), carries the
// label topic, and uses bounded labels only: path (raw, aggregate) and query (the raw path's one
// query, raw, for its batches; for output rows, the table written; aggregated_data for the
// aggregate path).
package jobmetrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"idxstream/spark_script/internal/aggpath"
	"idxstream/spark_script/internal/rawpath"
	sc "idxstream/sparkconnect"
)

// Path label values.
const (
	PathRaw       = "raw"
	PathAggregate = "aggregate"
)

// aggQuery is the query label of the aggregate path: the table it fills.
const aggQuery = "aggregated_data"

// rejectsTable is the raw path's table of rejects.
const rejectsTable = "rejects"

// sinkRowsPrefix starts the raw sink's metrics that count the rows a batch wrote to a table
// (the fan-out sink's rows.<table>).
const sinkRowsPrefix = "rows."

// RawSource is the raw path's supervisor (*rawpath.Supervisor).
type RawSource interface{ States() []rawpath.State }

// AggSource is the aggregate path (*aggpath.Path).
type AggSource interface{ LastProgress() aggpath.Progress }

// Lease is the job's lease (*lease.Lease).
type Lease interface {
	Token() int64
	LastRenewed() time.Time
	Held() bool
}

// Config says where the snapshots come from. Raw and Agg are required.
type Config struct {
	Topic      string
	RawTrigger time.Duration // JOB_RAW_TRIGGER
	AggTrigger time.Duration // JOB_AGG_TRIGGER
	Raw        RawSource
	Agg        AggSource
	Lease      Lease            // nil: no lease metrics
	Poll       time.Duration    // how often Run polls the snapshots; default 1 s
	Now        func() time.Time // time.Now when nil (tests)
}

// DurationBuckets are the batch duration histogram's upper bounds in seconds: a raw micro-batch
// takes a few seconds at 10 000 trades/s; one past its trigger (10 s) or the aggregate path's
// (60 s) is falling behind.
var DurationBuckets = []float64{.25, .5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120}

// Collector is the job's metrics and health. Safe for concurrent use.
type Collector struct {
	cfg     Config
	reg     *prometheus.Registry
	started time.Time

	batches, rowsIn, rowsOut *prometheus.CounterVec
	trades, rejected         prometheus.Counter
	duplicates               *prometheus.CounterVec
	conflicts                prometheus.Counter
	duration                 *prometheus.HistogramVec

	mu  sync.Mutex
	raw map[string]*rawTrack // by query name, in the order first seen
	ord []string
	agg aggTrack
}

// rawTrack is what the collector remembers of one raw query between polls.
type rawTrack struct {
	query      string // label: what follows the topic in the query name (raw)
	seen       progressKey
	lastCommit time.Time // end of the last micro-batch with input
	lastHeard  time.Time // timestamp of the last progress of any kind
	downSince  time.Time
	state      rawpath.State
}

type progressKey struct {
	run   string
	batch int64
	at    time.Time
}

type aggTrack struct {
	last         aggpath.Progress
	waitingSince time.Time // end of the first raw batch with input after last.Committed
}

// New builds the collector and its registry; nothing is polled until Run, a scrape or Health.
func New(cfg Config) *Collector {
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Collector{cfg: cfg, reg: prometheus.NewRegistry(), started: cfg.Now(), raw: map[string]*rawTrack{}}
	c.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := prometheus.WrapRegistererWith(prometheus.Labels{"topic": cfg.Topic}, c.reg)
	byQuery := []string{"path", "query"}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "idxstream", Subsystem: "job", Name: name, Help: help}, labels)
		f.MustRegister(v)
		return v
	}
	c.batches = counter("batches_total", "Micro-batches that processed input (raw: per streaming query; aggregate: committed batches).", byQuery...)
	c.rowsIn = counter("input_rows_total", "Kafka records read by the batches.", byQuery...)
	c.rowsOut = counter("output_rows_total", "Rows written by the batches (Cassandra rows per raw query; MySQL rows of the aggregate path).", byQuery...)
	c.duplicates = counter("duplicates_dropped_total", "Copies of trades already counted, with the same values, dropped by committed aggregate batches.", "path")
	c.conflicts = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "idxstream", Subsystem: "job", Name: "conflicts_rejected_total",
		Help: "Copies of trades already counted, with other values, sent to rejects by committed aggregate batches."})
	c.trades = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "idxstream", Subsystem: "job", Name: "aggregated_trades_total",
		Help: "Valid trades counted into MySQL's aggregates by committed aggregate batches."})
	c.rejected = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "idxstream", Subsystem: "job", Name: "rejected_rows_total",
		Help: "Rows written to the rejects table (bad records and elements); the reasons are in the table."})
	c.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "idxstream", Subsystem: "job", Name: "batch_duration_seconds",
		Help: "Wall time of the batches that processed input.", Buckets: DurationBuckets}, byQuery)
	f.MustRegister(c.trades, c.conflicts, c.rejected, c.duration, snapshotMetrics{c})
	// Series that exist before their first event, so that rate() and absent() work from the start.
	c.touch(PathAggregate, aggQuery)
	c.duplicates.WithLabelValues(PathAggregate)
	return c
}

// touch creates a query's counters at zero.
func (c *Collector) touch(path, query string) {
	c.batches.WithLabelValues(path, query)
	c.rowsIn.WithLabelValues(path, query)
	c.rowsOut.WithLabelValues(path, query)
}

// Run polls the snapshots every Config.Poll until ctx ends; it always returns nil.
func (c *Collector) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.Poll)
	defer t.Stop()
	for {
		c.poll()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Handler serves the metrics in the Prometheus exposition formats, polling the snapshots first.
func (c *Collector) Handler() http.Handler {
	h := promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{Registry: c.reg})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.poll()
		h.ServeHTTP(w, r)
	})
}

// poll reads the snapshots and counts the batches not counted yet.
func (c *Collector) poll() {
	states := c.cfg.Raw.States()
	ap := c.cfg.Agg.LastProgress()
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()

	// The aggregate path first: a commit in this poll clears the input it was waiting for
	// before the raw batches of this poll may set it again.
	if !ap.Committed.IsZero() && (ap.BatchID != c.agg.last.BatchID || !ap.Committed.Equal(c.agg.last.Committed)) {
		c.batches.WithLabelValues(PathAggregate, aggQuery).Inc()
		c.rowsIn.WithLabelValues(PathAggregate, aggQuery).Add(float64(ap.Records))
		c.rowsOut.WithLabelValues(PathAggregate, aggQuery).Add(float64(ap.Rows))
		c.trades.Add(float64(ap.Trades))
		c.duplicates.WithLabelValues(PathAggregate).Add(float64(ap.Duplicates))
		c.conflicts.Add(float64(ap.Conflicts))
		if d, err := time.ParseDuration(ap.Duration); err == nil {
			c.duration.WithLabelValues(PathAggregate, aggQuery).Observe(d.Seconds())
		}
		c.agg.waitingSince = time.Time{}
	}
	c.agg.last = ap

	for _, st := range states {
		t := c.raw[st.Name]
		if t == nil {
			t = &rawTrack{query: queryOf(st.Name)}
			c.raw[st.Name] = t
			c.ord = append(c.ord, st.Name)
			c.touch(PathRaw, t.query)
		}
		t.state = st
		switch {
		case st.Active:
			t.downSince = time.Time{}
		case t.downSince.IsZero():
			t.downSince = now
		}
		p := st.Progress
		if p == nil {
			continue
		}
		if p.Timestamp.After(t.lastHeard) {
			t.lastHeard = p.Timestamp
		}
		key := progressKey{p.RunID, p.BatchID, p.Timestamp}
		if key == t.seen {
			continue
		}
		t.seen = key
		if !ran(p) {
			continue // Spark's report of an idle trigger
		}
		d := batchDuration(p)
		c.batches.WithLabelValues(PathRaw, t.query).Inc()
		c.rowsIn.WithLabelValues(PathRaw, t.query).Add(float64(p.NumInputRows))
		// The fan-out sink counts the rows of each table it writes (Spark's own count of output
		// rows is -1 for it); the output rows are then labelled with the table.
		for k, v := range p.Sink.Metrics {
			table, ok := strings.CutPrefix(k, sinkRowsPrefix)
			n, err := strconv.ParseInt(v, 10, 64)
			if !ok || err != nil || n < 0 {
				continue
			}
			c.rowsOut.WithLabelValues(PathRaw, table).Add(float64(n))
			if table == rejectsTable {
				c.rejected.Add(float64(n))
			}
		}
		c.duration.WithLabelValues(PathRaw, t.query).Observe(d.Seconds())
		end := p.Timestamp.Add(d)
		if end.After(t.lastCommit) {
			t.lastCommit = end
		}
		if c.agg.waitingSince.IsZero() && end.After(c.agg.last.Committed) {
			c.agg.waitingSince = end
		}
	}
}

// ran reports whether a progress report is of a micro-batch that processed input, rather than
// of a trigger that found nothing new (Spark reports those too, without an addBatch phase).
func ran(p *sc.Progress) bool {
	_, added := p.DurationMs["addBatch"]
	return p.NumInputRows > 0 || added
}

// batchDuration is the batch's wall time (Spark 3.5 Connect sends batchDuration; Spark's own JSON
// has durationMs.triggerExecution).
func batchDuration(p *sc.Progress) time.Duration {
	ms := p.BatchDuration
	if ms <= 0 {
		ms = p.DurationMs["triggerExecution"]
	}
	return time.Duration(ms) * time.Millisecond
}

// queryOf is the query label of a raw query name (<topic>__<table>): the table.
func queryOf(name string) string {
	if i := strings.LastIndex(name, "__"); i >= 0 {
		return name[i+2:]
	}
	return name
}

// Health judges every path from the current snapshots (polled now).
func (c *Collector) Health() Health {
	c.poll()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health(c.cfg.Now())
}

func (c *Collector) health(now time.Time) Health {
	h := Health{Status: StateOK}
	add := func(path, query string, trigger time.Duration, e Evidence) {
		state, reason := Judge(e, trigger, now)
		h.Paths = append(h.Paths, PathHealth{Path: path, Query: query, State: state, Reason: reason,
			LastCommit: e.LastCommit, Trigger: trigger.String()})
		if state == StateStalled {
			h.Status = StateStalled
		}
	}
	for _, name := range c.ord {
		t := c.raw[name]
		add(PathRaw, t.query, c.cfg.RawTrigger, Evidence{LastCommit: t.lastCommit, Since: c.started,
			Lag: t.state.KafkaLag, Streaming: true, LastProgress: t.lastHeard, DownSince: t.downSince,
			Hung: t.state.Stalled, LastError: t.state.LastError})
	}
	a := c.agg.last
	add(PathAggregate, aggQuery, c.cfg.AggTrigger, Evidence{LastCommit: a.Committed, Since: c.started,
		Lag: a.Lag, WaitingSince: c.agg.waitingSince, LastError: a.Error})
	return h
}

// snapshotMetrics are the metrics read straight from the snapshots at each scrape (gauges, and
// the restart counts the supervisor keeps itself).
type snapshotMetrics struct{ c *Collector }

var (
	descLag = prometheus.NewDesc("idxstream_job_kafka_lag_records",
		"Kafka records the path's last batch left behind (latest offset minus the batch's end offset, summed over partitions).",
		[]string{"path", "query"}, nil)
	descLastBatch = prometheus.NewDesc("idxstream_job_last_batch_timestamp_seconds",
		"Unix time at which the path's last batch with input committed (raw: its micro-batch ended; aggregate: its commit).",
		[]string{"path", "query"}, nil)
	descStalled = prometheus.NewDesc("idxstream_job_path_stalled",
		"1 when the path has work waiting (or is down or silent) and committed nothing for more than 3 of its triggers; see /status for the reason.",
		[]string{"path", "query"}, nil)
	descRestarts = prometheus.NewDesc("idxstream_job_query_restarts_total",
		"Restarts of a raw streaming query from its checkpoint after it failed.", []string{"path", "query"}, nil)
	descActive = prometheus.NewDesc("idxstream_job_query_active",
		"1 while the raw streaming query runs, 0 while it waits for a restart.", []string{"path", "query"}, nil)
	descLeaseHeld = prometheus.NewDesc("idxstream_job_lease_held",
		"1 while the job holds the topic's lease (no other holder found, last renewal younger than the TTL).", nil, nil)
	descLeaseToken = prometheus.NewDesc("idxstream_job_lease_fencing_token",
		"Fencing token of the held lease; it grows at every acquisition, so a change means another job took over.", nil, nil)
	descLeaseRenewed = prometheus.NewDesc("idxstream_job_lease_last_renewal_timestamp_seconds",
		"Unix time of the lease's last successful acquisition or renewal.", nil, nil)
)

func (s snapshotMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLag, descLastBatch, descStalled, descRestarts, descActive,
		descLeaseHeld, descLeaseToken, descLeaseRenewed} {
		ch <- d
	}
}

func (s snapshotMetrics) Collect(ch chan<- prometheus.Metric) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	stalled := map[[2]string]bool{}
	for _, p := range c.health(c.cfg.Now()).Paths {
		stalled[[2]string{p.Path, p.Query}] = p.State == StateStalled
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	for _, name := range c.ord {
		t := c.raw[name]
		gauge(descLag, float64(t.state.KafkaLag), PathRaw, t.query)
		if !t.lastCommit.IsZero() {
			gauge(descLastBatch, seconds(t.lastCommit), PathRaw, t.query)
		}
		gauge(descStalled, b(stalled[[2]string{PathRaw, t.query}]), PathRaw, t.query)
		gauge(descActive, b(t.state.Active), PathRaw, t.query)
		ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(t.state.Restarts), PathRaw, t.query)
	}
	a := c.agg.last
	gauge(descLag, float64(a.Lag), PathAggregate, aggQuery)
	if !a.Committed.IsZero() {
		gauge(descLastBatch, seconds(a.Committed), PathAggregate, aggQuery)
	}
	gauge(descStalled, b(stalled[[2]string{PathAggregate, aggQuery}]), PathAggregate, aggQuery)
	if l := c.cfg.Lease; l != nil {
		gauge(descLeaseHeld, b(l.Held()))
		gauge(descLeaseToken, float64(l.Token()))
		gauge(descLeaseRenewed, seconds(l.LastRenewed()))
	}
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
