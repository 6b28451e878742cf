// Package batchlog is the write-ahead log of the aggregate path, kept in MySQL next to the rows it
// protects (tables agg_batches and aggregated_data, see schema/mysql). A batch's Kafka offset range
// is recorded before the batch runs and the batch is committed only after its rows are written; a
// batch found planned but not committed is replayed with the same range, after its partial rows
// are deleted, so each batch's rows are written exactly once.
package batchlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"idxstream/spark_script/internal/offsets"
)

// Batch is one entry of the log.
type Batch struct {
	ID          int64
	Topic       string
	Start, End  offsets.Offsets
	PlannedAt   time.Time  // also the processed_at of the batch's rows, so a replay writes the same values
	CommittedAt *time.Time // nil while the batch is planned but not written
	Trades      int64
}

// Fence checks, inside a transaction, that this process still holds the job's lease
// (lease.Lease.Fence) and keeps it from being taken until the transaction ends.
type Fence interface {
	Fence(ctx context.Context, tx *sql.Tx) error
}

// Log reads and writes the batch log. Safe for concurrent use (database/sql pools connections).
type Log struct {
	db    *sql.DB
	fence Fence
}

// New uses db, a connection to the trading database as the job's user. Every write (plan, clear,
// commit) first passes fence, in its own transaction, so that a process that lost the lease writes
// nothing more; a nil fence checks nothing (tools, tests).
func New(db *sql.DB, fence Fence) *Log { return &Log{db: db, fence: fence} }

// fenced runs f in a transaction that first passes the fence.
func (l *Log) fenced(ctx context.Context, what string, f func(tx *sql.Tx) error) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit a no-op
	if l.fence != nil {
		if err := l.fence.Fence(ctx, tx); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// Last returns the newest batch of topic, or nil when the topic has none yet.
func (l *Log) Last(ctx context.Context, topic string) (*Batch, error) {
	row := l.db.QueryRowContext(ctx, `SELECT batch_id, start_offsets, end_offsets, planned_at, committed_at, trades
		FROM agg_batches WHERE topic = ? ORDER BY batch_id DESC LIMIT 1`, topic)
	var (
		b          = Batch{Topic: topic}
		start, end string
		committed  sql.NullTime
		trades     sql.NullInt64
		err        error
	)
	if err = row.Scan(&b.ID, &start, &end, &b.PlannedAt, &committed, &trades); errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read last batch of %s: %w", topic, err)
	}
	if b.Start, err = offsets.Decode(start); err != nil {
		return nil, fmt.Errorf("batch %d: %w", b.ID, err)
	}
	if b.End, err = offsets.Decode(end); err != nil {
		return nil, fmt.Errorf("batch %d: %w", b.ID, err)
	}
	if committed.Valid {
		b.CommittedAt = &committed.Time
	}
	b.Trades = trades.Int64
	return &b, nil
}

// Plan records a new batch for topic with the given range and returns it. Its id is one more
// than the largest in the log.
func (l *Log) Plan(ctx context.Context, topic string, p offsets.Plan, now time.Time) (*Batch, error) {
	b := &Batch{Topic: topic, Start: p.Start, End: p.End, PlannedAt: now.UTC().Truncate(time.Microsecond)}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("plan batch: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(batch_id), 0) + 1 FROM agg_batches FOR UPDATE`).Scan(&b.ID); err != nil {
		return nil, fmt.Errorf("plan batch: next id: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO agg_batches (batch_id, topic, start_offsets, end_offsets, planned_at)
		VALUES (?, ?, ?, ?, ?)`, b.ID, topic, p.Start.Encode(), p.End.Encode(), b.PlannedAt); err != nil {
		return nil, fmt.Errorf("plan batch %d: %w", b.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("plan batch %d: commit: %w", b.ID, err)
	}
	return b, nil
}

// ClearRows deletes whatever rows an earlier, unfinished attempt of the batch wrote.
// Only the lease holder may do so (the fence).
func (l *Log) ClearRows(ctx context.Context, batchID int64) (int64, error) {
	var n int64
	err := l.fenced(ctx, fmt.Sprintf("clear rows of batch %d", batchID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM aggregated_data WHERE batch_id = ?`, batchID)
		if err != nil {
			return fmt.Errorf("clear rows of batch %d: %w", batchID, err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// Commit marks the batch written, with the number of trades it aggregated.
func (l *Log) Commit(ctx context.Context, batchID, trades int64, now time.Time) error {
	return l.fenced(ctx, fmt.Sprintf("commit batch %d", batchID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE agg_batches SET committed_at = ?, trades = ? WHERE batch_id = ? AND committed_at IS NULL`,
			now.UTC(), trades, batchID)
		if err != nil {
			return fmt.Errorf("commit batch %d: %w", batchID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("commit batch %d: no planned batch with that id (committed twice?)", batchID)
		}
		return nil
	})
}

// RowStats sums the rows a batch wrote: what the aggregate of a run must equal before it is committed.
func (l *Log) RowStats(ctx context.Context, batchID int64) (rows, trades int64, err error) {
	err = l.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(trades), 0) FROM aggregated_data WHERE batch_id = ?`, batchID).
		Scan(&rows, &trades)
	if err != nil {
		return 0, 0, fmt.Errorf("count rows of batch %d: %w", batchID, err)
	}
	return rows, trades, nil
}
