// Package metrics exposes the dashboard's Prometheus metrics: the latency of its requests by
// endpoint, its open live connections (server-sent event streams), the age and the fetch errors
// of each data set it shows, and the freshness of the pipeline as the databases tell it (data
// lag, last aggregate batch, a stalled aggregate path).
//
// Everything except the request latency is read from the data sets' cached snapshots at scrape
// time, so a scrape costs the databases nothing. Every metric lives in the Metrics' own registry,
// never Prometheus' global one.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"idxstream/dashboard/internal/dataset"
	"idxstream/dashboard/internal/feed"
	"idxstream/dashboard/internal/market"
)

// Config says what to watch.
type Config struct {
	Sets       *dataset.Sets // required
	Broker     *feed.Broker  // required: its subscribers are the open live connections
	AggTrigger time.Duration // the job's aggregate trigger (JOB_AGG_TRIGGER); default 60 s
}

// LatencyBuckets are the request latency histogram's upper bounds in seconds: the data endpoints
// answer from memory in about a millisecond (p99 under 5 ms with 50 clients); the page renders
// charts.
var LatencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// Metrics is the dashboard's registry. Safe for concurrent use.
type Metrics struct {
	cfg     Config
	reg     *prometheus.Registry
	latency *prometheus.HistogramVec
}

// New builds the metrics.
func New(cfg Config) *Metrics {
	if cfg.AggTrigger <= 0 {
		cfg.AggTrigger = time.Minute
	}
	m := &Metrics{cfg: cfg, reg: prometheus.NewRegistry()}
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "idxstream", Subsystem: "dashboard",
		Name: "request_duration_seconds", Buckets: LatencyBuckets,
		Help: "Time to answer a request, by endpoint (route pattern) and status code; live event streams are left out (see live_connections)."},
		[]string{"endpoint", "code"})
	live := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "idxstream", Subsystem: "dashboard", Name: "live_connections",
		Help: "Open server-sent event streams (pages receiving live updates)."},
		func() float64 { return float64(cfg.Broker.Len()) })
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.latency, live, snapshotMetrics{m})
	return m
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// streamRoute is the live event stream: its requests last as long as the page is open, so its
// "latency" says nothing; the live_connections gauge counts them instead.
const streamRoute = "GET /events"

// Instrument times every request to next by endpoint. route names the route that serves a
// request (web.Handler.Route): a bounded set of patterns, never the raw path, which a client
// could vary without limit.
func (m *Metrics) Instrument(next http.Handler, route func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pattern := route(r)
		if pattern == streamRoute {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		m.latency.WithLabelValues(endpoint(pattern), strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

// endpoint is the label of a route pattern: its path ("/api/health"; every route is a GET), or
// "other" for requests no route serves.
func endpoint(pattern string) string {
	if pattern == "" {
		return "other"
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}

// statusWriter remembers the status code. Unwrap lets http.ResponseController reach the
// underlying writer's Flush and deadlines.
type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// snapshotMetrics are read from the data sets' snapshots at each scrape.
type snapshotMetrics struct{ m *Metrics }

var (
	descAge = prometheus.NewDesc("idxstream_dashboard_dataset_age_seconds",
		"Time since the data set's shown copy was fetched from its database (absent before the first fetch).",
		[]string{"dataset", "database"}, nil)
	descUp = prometheus.NewDesc("idxstream_dashboard_dataset_up",
		"1 when the data set's last fetch succeeded, 0 when it failed or none finished yet.", []string{"dataset", "database"}, nil)
	descErrors = prometheus.NewDesc("idxstream_dashboard_database_errors_total",
		"Fetches of the data set from its database that failed.", []string{"dataset", "database"}, nil)
	descLag = prometheus.NewDesc("idxstream_dashboard_data_lag_seconds",
		"Time since the newest trade the dashboard shows was created (absent while it knows none today).", nil, nil)
	descBatchAge = prometheus.NewDesc("idxstream_dashboard_last_batch_age_seconds",
		"Time since the aggregate path's newest committed batch (MySQL view last_batch; absent before the first).", nil, nil)
	descStalled = prometheus.NewDesc("idxstream_dashboard_aggregate_stalled",
		"1 when the last aggregate batch is more than 3 aggregate triggers old while trades arrived since.", nil, nil)
)

func (s snapshotMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAge, descUp, descErrors, descLag, descBatchAge, descStalled} {
		ch <- d
	}
}

func (s snapshotMetrics) Collect(ch chan<- prometheus.Metric) {
	sets := s.m.cfg.Sets
	now := sets.Now()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, st := range sets.States() {
		if st.HasValue {
			gauge(descAge, now.Sub(st.FetchedAt).Seconds(), st.Name, st.Database)
		}
		up := 0.0
		if st.OK {
			up = 1
		}
		gauge(descUp, up, st.Name, st.Database)
		ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(st.Failures), st.Name, st.Database)
	}
	newest := sets.NewestTrade()
	if !newest.IsZero() {
		gauge(descLag, now.Sub(newest).Seconds())
	}
	b := sets.Batch.Snapshot()
	if b.HasValue && !b.Value.CommittedAt.IsZero() {
		gauge(descBatchAge, now.Sub(b.Value.CommittedAt).Seconds())
	}
	state, _ := market.AggregateHealth(b.Value, newest, s.m.cfg.AggTrigger, now)
	stalled := 0.0
	if state == market.AggregateStalled {
		stalled = 1
	}
	gauge(descStalled, stalled)
}
