// Package rawpath is the raw path: its plan (plans.go: one streaming query, Kafka → parse.Apply →
// the Connect server's fan-out sink, which writes each micro-batch to every table of Sinks) and its
// supervision. The supervisor is general over queries: it starts them, polls them
// (which also keeps the Spark Connect session alive: the server stops a session's queries after
// about an hour without calls), logs one line per micro-batch, restarts a failed query from its
// checkpoint with backoff (but stops them all on a failure that says a disk is full), and stops
// them all on shutdown.
package rawpath

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"idxstream/spark_script/internal/fault"
	"idxstream/spark_script/internal/offsets"
	sc "idxstream/sparkconnect"
	"idxstream/storage"
)

// Query is the part of *sc.StreamingQuery the supervisor uses.
type Query interface {
	ID() string
	RunID() string
	Status(ctx context.Context) (sc.QueryStatus, error)
	LastProgress(ctx context.Context) (*sc.Progress, error)
	Exception(ctx context.Context) (*sc.QueryException, error)
	Stop(ctx context.Context) error
}

// Spec names a query and how to start it.
type Spec struct {
	Name  string
	Start func(ctx context.Context) (Query, error)
}

// State is what the status endpoint shows of one query.
type State struct {
	Name       string       `json:"name"`
	Stalled    bool         `json:"stalled"`
	ID         string       `json:"id,omitempty"`
	RunID      string       `json:"run_id,omitempty"`
	Active     bool         `json:"active"`
	Status     string       `json:"status,omitempty"`
	Restarts   int          `json:"restarts"`
	LastError  string       `json:"last_error,omitempty"`
	Progress   *sc.Progress `json:"last_progress,omitempty"`
	KafkaLag   int64        `json:"kafka_lag"`
	RestartsAt *time.Time   `json:"restart_at,omitempty"`
}

// Supervisor runs a set of queries.
type Supervisor struct {
	Specs      []Spec
	Poll       time.Duration // how often each query is checked
	MaxBackoff time.Duration // longest wait before a restart (default 1 min)
	// Ready, when set, must succeed before a failed query is restarted (the sink answers again).
	Ready func(ctx context.Context) error
	// StallAfter flags a query that is active but has reported no progress for this long
	// (Spark reports progress at least every 10 s even when idle). Zero disables the check.
	StallAfter time.Duration
	Logger     *slog.Logger

	mu     sync.Mutex
	states []State
}

type running struct {
	spec         Spec
	q            Query
	lastBatch    int64
	lastProgress time.Time // when the query last reported progress (or started)
	stalled      bool
	backoff      time.Duration
	restartAt    time.Time
}

// States is safe to call from other goroutines.
func (s *Supervisor) States() []State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]State(nil), s.states...)
}

// startAll starts every query once; an error here (a missing table, a bad option, an unreachable
// server) is returned, since restarting would not help.
func (s *Supervisor) startAll(ctx context.Context) ([]*running, error) {
	rs := make([]*running, 0, len(s.Specs))
	for _, spec := range s.Specs {
		q, err := spec.Start(ctx)
		if err != nil {
			s.stopAll(rs)
			return nil, err
		}
		s.Logger.Info("streaming query started", "query", spec.Name, "id", q.ID(), "run_id", q.RunID())
		rs = append(rs, &running{spec: spec, q: q, lastBatch: -1, lastProgress: time.Now()})
	}
	s.mu.Lock()
	s.states = make([]State, len(rs))
	for i, r := range rs {
		s.states[i] = State{Name: r.spec.Name, ID: r.q.ID(), RunID: r.q.RunID(), Active: true}
	}
	s.mu.Unlock()
	return rs, nil
}

// Run starts the queries, then supervises them until ctx ends and stops them. It returns an
// error only when a query cannot be started at all (the other queries are stopped then).
func (s *Supervisor) Run(ctx context.Context) error {
	rs, err := s.startAll(ctx)
	if err != nil {
		return err
	}
	maxBackoff := s.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = time.Minute
	}
	tick := time.NewTicker(s.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.stopAll(rs)
			return nil
		case <-tick.C:
		}
		for i, r := range rs {
			if err := s.check(ctx, i, r, maxBackoff); err != nil {
				s.stopAll(rs)
				return err
			}
		}
	}
}

// check looks at one query and restarts it when it failed. It returns an error only when the
// failure says a disk is full (storage.ErrFull): a restart would fail the same way, and the job
// stops instead so that the stores keep the space they need.
func (s *Supervisor) check(ctx context.Context, i int, r *running, maxBackoff time.Duration) error {
	log := s.Logger.With("query", r.spec.Name)
	if r.q == nil { // waiting to restart
		if time.Now().Before(r.restartAt) {
			return nil
		}
		if s.Ready != nil {
			if err := s.Ready(ctx); err != nil {
				r.restartAt = time.Now().Add(max(r.backoff, 2*time.Second))
				log.Warn("sink not ready; restart postponed", "err", err)
				s.update(i, func(st *State) { st.LastError = err.Error(); st.RestartsAt = &r.restartAt })
				return nil
			}
		}
		q, err := r.spec.Start(ctx)
		if err != nil {
			if err, full := storage.FullError(err); full {
				return fmt.Errorf("restart query %s: %w", r.spec.Name, err)
			}
			r.backoff = min(r.backoff*2, maxBackoff)
			r.restartAt = time.Now().Add(r.backoff)
			log.Error("restart failed; will retry", "err", err, "retry_in", r.backoff)
			s.update(i, func(st *State) { st.LastError = err.Error(); st.RestartsAt = &r.restartAt })
			return nil
		}
		r.q, r.lastBatch, r.lastProgress, r.stalled = q, -1, time.Now(), false
		log.Info("streaming query restarted from its checkpoint", "id", q.ID(), "run_id", q.RunID())
		s.update(i, func(st *State) { st.Restarts++; st.RunID = q.RunID(); st.Active = true; st.RestartsAt = nil })
		return nil
	}
	st, err := r.q.Status(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("query status unavailable", "err", err)
		}
		return nil
	}
	if !st.IsActive {
		msg := "stopped without an error"
		if exc, err := r.q.Exception(ctx); err == nil && exc != nil {
			msg = exc.Error()
		}
		if err, full := storage.FullError(errors.New(msg)); full {
			s.update(i, func(st *State) { st.Active = false; st.LastError = msg })
			return fmt.Errorf("query %s: %w", r.spec.Name, err)
		}
		r.backoff = max(min(r.backoff*2, maxBackoff), 2*time.Second)
		r.restartAt = time.Now().Add(r.backoff)
		log.Error("streaming query failed; restarting from its checkpoint", "err", msg, "retry_in", r.backoff)
		r.q = nil
		s.update(i, func(st *State) { st.Active = false; st.LastError = msg; st.RestartsAt = &r.restartAt })
		return nil
	}
	p, err := r.q.LastProgress(ctx)
	if err == nil && p != nil && p.Timestamp.After(r.lastProgress) {
		r.lastProgress = p.Timestamp
	}
	stalled := s.StallAfter > 0 && time.Since(r.lastProgress) > s.StallAfter
	if stalled && !r.stalled {
		log.Error("streaming query reports no progress; it may be hung in the Cassandra connector. "+
			"If it does not recover, restart the Spark Connect server (STACK_SERVICES=spark make down up) and the job",
			"since", r.lastProgress.Format(time.RFC3339))
	}
	r.stalled = stalled
	if err != nil || p == nil {
		s.update(i, func(x *State) { x.Status = st.Message; x.Stalled = stalled })
		return nil
	}
	lag := Lag(p)
	if p.BatchID != r.lastBatch {
		r.lastBatch = p.BatchID
		r.backoff = 0 // a batch went through: the query is healthy again
		rowsOut := p.Sink.NumOutputRows
		var perSec float64
		if p.BatchDuration > 0 {
			perSec = float64(rowsOut) / (float64(p.BatchDuration) / 1000)
		}
		log.Info("batch", "path", "raw", "batch", p.BatchID, "kafka_records", sourceRows(p), "rows_out", rowsOut,
			"rows_per_s", fmt.Sprintf("%.0f", perSec), "duration_ms", p.BatchDuration, "kafka_lag", lag)
		if sourceRows(p) > 0 {
			fault.Hit(fault.RawProgress)
		}
	}
	s.update(i, func(x *State) {
		x.Status, x.Progress, x.KafkaLag, x.Active, x.Stalled = st.Message, p, lag, true, stalled
	})
	return nil
}

func (s *Supervisor) update(i int, f func(*State)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < len(s.states) {
		f(&s.states[i])
	}
}

// stopAll stops the queries at once, each under its own timeout and with a context of its own
// (shutdown happens after ctx ended). A stop waits for the query's running micro-batch.
func (s *Supervisor) stopAll(rs []*running) {
	var wg sync.WaitGroup
	for _, r := range rs {
		if r.q == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			if err := r.q.Stop(ctx); err != nil {
				s.Logger.Error("stop query", "query", r.spec.Name, "err", err)
				return
			}
			s.Logger.Info("streaming query stopped", "query", r.spec.Name)
		}()
	}
	wg.Wait()
}

// Committed is the Kafka offset up to which every query has committed its batches, per partition
// of topic (the smallest over the queries); ok is false until each has finished one.
// A query's last progress stays valid while it restarts: its checkpoint never goes back.
func (s *Supervisor) Committed(topic string) (offsets.Offsets, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out offsets.Offsets
	for _, st := range s.states {
		if st.Progress == nil {
			return nil, false
		}
		end := sourceEnd(st.Progress, topic)
		if end == nil {
			return nil, false
		}
		if out == nil {
			out = end
			continue
		}
		for part, o := range out {
			if e, ok := end[part]; !ok || e < o {
				out[part] = e // a partition missing from one query counts as 0
			}
		}
	}
	return out, out != nil
}

// sourceEnd is the end offsets of the batch's Kafka source for topic.
func sourceEnd(p *sc.Progress, topic string) offsets.Offsets {
	var out offsets.Offsets
	for _, src := range p.Sources {
		for t, parts := range kafkaOffsets(src.EndOffset) {
			if t != topic {
				continue
			}
			out = offsets.Offsets{}
			for part, o := range parts {
				n, err := strconv.ParseInt(part, 10, 32)
				if err != nil {
					return nil
				}
				out[int32(n)] = o
			}
		}
	}
	return out
}

// Lag is how many Kafka records the batch left behind: latestOffset minus endOffset, summed over
// the partitions of every source (0 when the source does not report latestOffset). Spark sends
// the offsets as JSON text inside a JSON string.
func Lag(p *sc.Progress) int64 {
	var lag int64
	for _, src := range p.Sources {
		end, latest := kafkaOffsets(src.EndOffset), kafkaOffsets(src.LatestOffset)
		for topic, parts := range latest {
			for part, l := range parts {
				if d := l - end[topic][part]; d > 0 {
					lag += d
				}
			}
		}
	}
	return lag
}

// kafkaOffsets decodes {"topic":{"0":12}}, given as an object or as a string holding one.
func kafkaOffsets(raw json.RawMessage) map[string]map[string]int64 {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		raw = json.RawMessage(text)
	}
	var o map[string]map[string]int64
	if json.Unmarshal(raw, &o) != nil {
		return nil
	}
	return o
}

// sourceRows sums the Kafka records the batch read over its sources.
func sourceRows(p *sc.Progress) int64 {
	var n int64
	for _, src := range p.Sources {
		n += src.NumInputRows
	}
	return n
}
