// Package aggpath is the aggregate path: the loop that turns the trades the raw path staged in
// MySQL into the volume per market date and sector. Every trigger it plans one batch over a Kafka
// offset range that is fixed (written ahead in the batch log) before the batch runs and never
// reaches past what the raw path committed (so every valid copy of the range is staged), and
// batchlog.Settle counts each trade id once, writes the volume and commits the batch in one
// transaction. A batch left uncommitted by a crash or an error is settled again with the same
// range. The path runs no Spark job of its own: the raw path's micro-batches read and parse each
// record once for every table, agg_stage included.
package aggpath

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"idxstream/spark_script/internal/batchlog"
	"idxstream/spark_script/internal/fault"
	"idxstream/spark_script/internal/offsets"
	"idxstream/storage"
)

// Log is the part of batchlog.Log the loop needs.
type Log interface {
	Last(ctx context.Context, topic string) (*batchlog.Batch, error)
	Plan(ctx context.Context, topic string, p offsets.Plan, now time.Time) (*batchlog.Batch, error)
	Settle(ctx context.Context, b *batchlog.Batch, now time.Time, repair batchlog.Repair) (batchlog.Settled, error)
	Prune(ctx context.Context, before time.Time) (int64, error)
}

// Gate tells how far the raw path has committed each partition of the topic; ok is false while it
// cannot tell (its query has not finished a batch yet). A batch never reaches past it, so that
// the raw path has staged every copy of a batch's range and written every trade of it before the
// batch's conflicts are repaired in the raw tables, and never writes them again afterwards.
type Gate interface {
	Committed(topic string) (end offsets.Offsets, ok bool)
}

// Repairer makes the raw path's tables keep the first copy of a conflicting trade and records the
// later copy in rejects. It must be idempotent.
type Repairer interface {
	Repair(ctx context.Context, topic string, cs []batchlog.Conflict) error
}

// Bounds reads the topic's earliest and latest offsets (offsets.Reader).
type Bounds interface {
	Bounds(ctx context.Context, topic string) (start, end offsets.Offsets, err error)
}

// Path is the aggregate path of one topic.
type Path struct {
	Topic      string
	MaxRecords int64         // cap of Kafka records per batch (maxOffsetsPerTrigger)
	Trigger    time.Duration // time between batch starts
	// RawTrigger, when set, is the raw path's trigger: batches then start half-way between two
	// raw micro-batches (Spark starts those at multiples of the interval since the Unix epoch), so
	// that this path's MySQL work falls where the raw path's stage writes leave MySQL idle, instead of
	// slowing the raw batches down (their duration is part of every trade's freshness).
	RawTrigger time.Duration
	Log        Log
	Bounds     Bounds
	Gate       Gate // nil: batches reach the end of the topic
	Repair     Repairer
	// Horizon is how long the ids of counted trades are remembered (JOB_DEDUP_HORIZON); zero keeps
	// them for ever.
	Horizon time.Duration
	Logger  *slog.Logger
	Now     func() time.Time // time.Now when nil

	pruned time.Time // when the ids were last pruned

	mu   sync.Mutex
	last Progress
}

// Progress describes the last batch the path finished.
type Progress struct {
	BatchID    int64     `json:"batch_id"`
	Records    int64     `json:"kafka_records"`
	Trades     int64     `json:"trades"`
	Duplicates int64     `json:"duplicates_dropped"`
	Conflicts  int       `json:"conflicts_rejected"`
	Rows       int64     `json:"rows"`
	Replayed   bool      `json:"replayed"`
	Duration   string    `json:"duration"`
	Settle     string    `json:"settle_duration"` // MySQL: count once, aggregate, repair, commit
	Committed  time.Time `json:"committed_at"`
	Lag        int64     `json:"kafka_lag"`
	Error      string    `json:"error,omitempty"`
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
	kafkaEnd := logEnd
	if last != nil {
		if err := unchanged(last.End, kafkaEnd); err != nil {
			return false, false, err
		}
	}
	if p.Gate != nil {
		committed, ok := p.Gate.Committed(p.Topic)
		if !ok {
			return false, false, nil // the raw path has not finished a batch yet
		}
		logEnd = capped(logEnd, committed)
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
	var repair batchlog.Repair
	if p.Repair != nil {
		repair = func(ctx context.Context, cs []batchlog.Conflict) error { return p.Repair.Repair(ctx, p.Topic, cs) }
	}
	settleStart := p.now()
	st, err := p.Log.Settle(ctx, b, settleStart, repair)
	if err != nil {
		return false, false, err
	}
	done := p.now()
	for _, c := range st.Conflicts {
		p.Logger.Warn("conflicting copy of a trade sent to rejects; the first copy stays", "id", c.Got.ID,
			"partition", c.Partition, "offset", c.Offset, "element", c.Element, "first_batch", c.FirstBatch)
	}
	p.prune(ctx)
	records := offsets.Plan{Start: b.Start, End: b.End}.Records()
	var lag int64
	for part, end := range kafkaEnd {
		if e := b.End[part]; end > e {
			lag += end - e
		}
	}
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	prog := Progress{BatchID: b.ID, Records: records, Trades: st.Trades, Duplicates: st.Duplicates, Conflicts: len(st.Conflicts),
		Rows: st.Rows, Replayed: replay, Duration: ms(done.Sub(started)),
		Settle: ms(done.Sub(settleStart)), Committed: done.UTC(), Lag: lag}
	p.mu.Lock()
	p.last = prog
	p.mu.Unlock()
	p.Logger.Info("batch committed", "path", "aggregate", "batch", b.ID, "kafka_records", records, "trades", st.Trades,
		"duplicates_dropped", st.Duplicates, "conflicts_rejected", len(st.Conflicts), "rows", st.Rows,
		"duration", prog.Duration, "settle", prog.Settle,
		"kafka_lag", lag, "replayed", replay)
	return true, lag > 0 && records >= p.MaxRecords, nil
}

// prune forgets ids older than the horizon, at most once a minute; a failure only delays it.
func (p *Path) prune(ctx context.Context) {
	now := p.now()
	if p.Horizon <= 0 || now.Sub(p.pruned) < time.Minute {
		return
	}
	p.pruned = now
	n, err := p.Log.Prune(ctx, now.Add(-p.Horizon))
	if err != nil {
		p.Logger.Warn("could not forget old trade ids; will retry", "err", err)
		return
	}
	if n > 0 {
		p.Logger.Info("forgot trade ids older than the horizon", "ids", n, "horizon", p.Horizon)
	}
}

// ErrTopicChanged: the topic holds fewer records than the batch log has read, so it was deleted
// and created again (or truncated). The path stops instead of guessing where to resume.
var ErrTopicChanged = errors.New("the topic was recreated or truncated")

// unchanged checks that every partition the log has read still reaches at least as far.
func unchanged(read, end offsets.Offsets) error {
	for part, o := range read {
		e, ok := end[part]
		if !ok || e < o {
			return fmt.Errorf("%w: partition %d ends at offset %d, but the aggregate path has read up to %d "+
				"(to count the new topic from its start, stop the job and remove the topic's batches: see docs/operations.md, \"A recreated topic\")",
				ErrTopicChanged, part, e, o)
		}
	}
	return nil
}

// capped is end, each partition capped by committed (a partition the raw path has not reported
// yet is capped at 0, which offsets.Next reads as no progress).
func capped(end, committed offsets.Offsets) offsets.Offsets {
	out := make(offsets.Offsets, len(end))
	for part, e := range end {
		out[part] = min(e, committed[part])
	}
	return out
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
		err, full := storage.FullError(err)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrTopicChanged):
			p.Logger.Error("aggregate path stopped", "err", err)
			return err
		case full:
			// A retry would fail the same way and take the space a store needs to recover; the
			// batch stays planned and is replayed when the job starts again.
			p.Logger.Error("aggregate path stopped: a store is out of space", "err", err)
			p.mu.Lock()
			p.last.Error = err.Error()
			p.mu.Unlock()
			return err
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
