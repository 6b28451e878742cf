// Package metrics counts what the producer hands to Kafka and what the broker acknowledged or
// failed, and serves the counts in the Prometheus text format on GET /metrics of a small listener
// that runs only when an address is given (--metrics-addr, PRODUCER_METRICS_ADDR).
//
// Metrics implements publish.Observer, so package publish stays free of Prometheus. Every
// metric lives in the Metrics' own registry (never the global default one), so that a test or a
// second instance in one process starts from zero.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the producer's counters. Safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	recordsProduced, tradesProduced, bytesProduced prometheus.Counter
	recordsAcked, tradesAcked, bytesAcked          prometheus.Counter
	recordsFailed, tradesFailed                    prometheus.Counter
	latency                                        prometheus.Histogram
}

// LatencyBuckets are the produce latency histogram's upper bounds in seconds: from a local
// broker's few milliseconds (franz-go lingers 10 ms by default) to retries across a broker
// restart.
var LatencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New makes the metrics of a producer writing to topic (a label of every series, so that the
// producers of several topics can be told apart on one Prometheus).
func New(topic string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := prometheus.WrapRegistererWith(prometheus.Labels{"topic": topic}, reg)
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "idxstream", Subsystem: "producer", Name: name, Help: help})
		f.MustRegister(c)
		return c
	}
	m := &Metrics{reg: reg,
		recordsProduced: counter("records_produced_total", "Kafka records (each a JSON array of trades) handed to the Kafka client."),
		tradesProduced:  counter("trades_produced_total", "Trades inside the records handed to the Kafka client."),
		bytesProduced:   counter("produced_bytes_total", "Uncompressed value bytes of the records handed to the Kafka client."),
		recordsAcked:    counter("records_acknowledged_total", "Records the brokers acknowledged (acks from all in-sync replicas)."),
		tradesAcked:     counter("trades_acknowledged_total", "Trades inside acknowledged records."),
		bytesAcked:      counter("acknowledged_bytes_total", "Uncompressed value bytes of acknowledged records."),
		recordsFailed:   counter("records_failed_total", "Records that failed for good (delivery timeout, shutdown with records buffered, fatal broker error)."),
		tradesFailed:    counter("trades_failed_total", "Trades inside failed records."),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "idxstream", Subsystem: "producer",
			Name: "produce_latency_seconds", Buckets: LatencyBuckets,
			Help: "Time from handing a record to the Kafka client (including any wait for buffer space) to its acknowledgement."}),
	}
	f.MustRegister(m.latency)
	return m
}

// Published counts a record handed to the client (publish.Observer).
func (m *Metrics) Published(trades, bytes int) {
	m.recordsProduced.Inc()
	m.tradesProduced.Add(float64(trades))
	m.bytesProduced.Add(float64(bytes))
}

// Delivered counts a record's outcome; only acknowledged records go into the latency histogram,
// since a failure's latency is that of the timeout that caused it (publish.Observer).
func (m *Metrics) Delivered(trades, bytes int, latency time.Duration, err error) {
	if err != nil {
		m.recordsFailed.Inc()
		m.tradesFailed.Add(float64(trades))
		return
	}
	m.recordsAcked.Inc()
	m.tradesAcked.Add(float64(trades))
	m.bytesAcked.Add(float64(bytes))
	m.latency.Observe(latency.Seconds())
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Server is the metrics listener.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
	log  *slog.Logger
}

// Listen starts serving h on GET /metrics at addr (host:port; port 0 picks a free one). It fails
// at once when the address is taken, so that a mistyped flag stops the producer before it
// produces.
func Listen(addr string, h http.Handler, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener on %s: %w (set --metrics-addr / PRODUCER_METRICS_ADDR to another address, or empty to disable)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	s := &Server{ln: ln, done: make(chan error, 1), log: logger,
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() { s.done <- s.srv.Serve(ln) }()
	logger.Info("metrics listening", "url", "http://"+ln.Addr().String()+"/metrics")
	return s, nil
}

// Addr is the address the listener is bound to.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops the listener, letting a scrape in progress finish until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down the metrics listener: %w", err)
	}
	if err := <-s.done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics listener: %w", err)
	}
	return nil
}
