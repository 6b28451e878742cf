// Package aggpath runs the aggregate path: every trigger, one batch over a Kafka offset range that
// is fixed (written ahead in the batch log) before the batch runs; the batch's volume per market
// date and sector is written to MySQL and the batch is committed only after the write. A batch
// left uncommitted by a crash or an error is replayed with the same range and replaces its rows.
//
// Spark Connect cannot run foreachBatch for a Go client, so this loop plays the role of the
// streaming engine's micro-batch planner for this path.
package aggpath

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"idxstream/spark_script/internal/batchlog"
	"idxstream/spark_script/internal/fault"
	"idxstream/spark_script/internal/offsets"
)

// Log is the part of batchlog.Log the loop needs.
type Log interface {
	Last(ctx context.Context, topic string) (*batchlog.Batch, error)
	Plan(ctx context.Context, topic string, p offsets.Plan, now time.Time) (*batchlog.Batch, error)
	ClearRows(ctx context.Context, batchID int64) (int64, error)
	RowStats(ctx context.Context, batchID int64) (rows, trades int64, err error)
	Commit(ctx context.Context, batchID, trades int64, now time.Time) error
}

// Bounds reads the topic's earliest and latest offsets (offsets.Reader).
type Bounds interface {
	Bounds(ctx context.Context, topic string) (start, end offsets.Offsets, err error)
}

// Aggregator runs a batch on Spark: reads exactly the batch's range from Kafka, aggregates the
// valid trades per market date and sector, and appends the rows (tagged with the batch id) to
// MySQL.
type Aggregator interface {
	Aggregate(ctx context.Context, b *batchlog.Batch) error
}

// Path is the aggregate path of one topic.
type Path struct {
	Topic      string
	MaxRecords int64         // cap of Kafka records per batch (maxOffsetsPerTrigger)
	Trigger    time.Duration // time between batch starts
	// RawTrigger, when set, is the raw path's trigger: batches then start half-way between two
	// raw micro-batches (Spark starts those at multiples of the interval since the Unix epoch), so
	// that this path's Spark work falls where the raw path leaves the executor idle instead of
	// slowing the raw batches down (their duration is part of every trade's freshness).
	RawTrigger time.Duration
	Log        Log
	Bounds     Bounds
	Spark      Aggregator
	Logger     *slog.Logger
	Now        func() time.Time // time.Now when nil

	mu   sync.Mutex
	last Progress
}

// Progress describes the last batch the path finished.
type Progress struct {
	BatchID   int64     `json:"batch_id"`
	Records   int64     `json:"kafka_records"`
	Trades    int64     `json:"trades"`
	Rows      int64     `json:"rows"`
	Replayed  bool      `json:"replayed"`
	Duration  string    `json:"duration"`
	Committed time.Time `json:"committed_at"`
	Lag       int64     `json:"kafka_lag"`
	Error     string    `json:"error,omitempty"`
}

// LastProgress is safe to call from other goroutines (the status endpoint).
func (p *Path) LastProgress() Progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

func (p *Path) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Step runs at most one batch: the replay of an uncommitted batch, or a new batch over what
// arrived since the last one. It reports whether a batch ran and whether more input is waiting
// beyond the cap (so the caller can run the next batch at once).
func (p *Path) Step(ctx context.Context) (ran, more bool, err error) {
	started := p.now()
	last, err := p.Log.Last(ctx, p.Topic)
	if err != nil {
		return false, false, err
	}
	logStart, logEnd, err := p.Bounds.Bounds(ctx, p.Topic)
	if err != nil {
		return false, false, err
	}
	b, replay := last, last != nil && last.CommittedAt == nil
	if !replay {
		var prevEnd offsets.Offsets
		if last != nil {
			prevEnd = last.End
		}
		plan := offsets.Next(prevEnd, logStart, logEnd, p.MaxRecords)
		for part, n := range plan.Skipped {
			p.Logger.Warn("records deleted by retention before they were aggregated", "partition", part, "records", n)
		}
		if plan.Records() == 0 {
			return false, false, nil
		}
		if b, err = p.Log.Plan(ctx, p.Topic, plan, started); err != nil {
			return false, false, err
		}
		fault.Hit(fault.AggPlanned)
	} else {
		p.Logger.Info("replaying uncommitted batch", "batch", b.ID)
	}
	cleared, err := p.Log.ClearRows(ctx, b.ID)
	if err != nil {
		return false, false, err
	}
	if cleared > 0 {
		p.Logger.Info("removed rows of an unfinished attempt", "batch", b.ID, "rows", cleared)
	}
	if err := p.Spark.Aggregate(ctx, b); err != nil {
		return false, false, fmt.Errorf("aggregate batch %d: %w", b.ID, err)
	}
	fault.Hit(fault.AggWritten)
	rows, trades, err := p.Log.RowStats(ctx, b.ID)
	if err != nil {
		return false, false, err
	}
	if err := p.Log.Commit(ctx, b.ID, trades, p.now()); err != nil {
		return false, false, err
	}
	records := offsets.Plan{Start: b.Start, End: b.End}.Records()
	var lag int64
	for part, end := range logEnd {
		if e := b.End[part]; end > e {
			lag += end - e
		}
	}
	prog := Progress{BatchID: b.ID, Records: records, Trades: trades, Rows: rows, Replayed: replay,
		Duration: p.now().Sub(started).Round(time.Millisecond).String(), Committed: p.now().UTC(), Lag: lag}
	p.mu.Lock()
	p.last = prog
	p.mu.Unlock()
	p.Logger.Info("batch committed", "path", "aggregate", "batch", b.ID, "kafka_records", records, "trades", trades,
		"rows", rows, "duration", prog.Duration, "kafka_lag", lag, "replayed", replay)
	return true, lag > 0 && records >= p.MaxRecords, nil
}

// Run steps every Trigger until ctx ends. A failing step is logged and retried with backoff
// (capped at the trigger), so an outage of MySQL, Kafka or Spark delays batches but never skips one.
func (p *Path) Run(ctx context.Context) error {
	backoff := time.Second
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		started := p.now()
		_, more, err := p.Step(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			p.Logger.Error("aggregate batch failed; will retry", "err", err, "retry_in", backoff)
			p.mu.Lock()
			p.last.Error = err.Error()
			p.mu.Unlock()
			wait, backoff = backoff, min(backoff*2, p.Trigger)
		case more:
			wait, backoff = 0, time.Second
		default:
			next := started.Add(p.Trigger)
			if p.RawTrigger > 0 {
				next = Midway(next, p.RawTrigger)
			}
			wait, backoff = max(next.Sub(p.now()), 0), time.Second
		}
	}
}

// Midway is the first instant at or after t that lies half-way between two of Spark's
// processing-time triggers of interval raw (which fire at multiples of raw since the Unix epoch).
func Midway(t time.Time, raw time.Duration) time.Time {
	r, half := raw.Nanoseconds(), raw.Nanoseconds()/2
	ns := t.UnixNano()
	next := (ns-half)/r*r + half
	if next < ns {
		next += r
	}
	return time.Unix(0, next).In(t.Location())
}
