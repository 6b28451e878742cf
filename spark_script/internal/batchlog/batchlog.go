// Package batchlog is the write-ahead log of the aggregate path, kept in MySQL next to the rows it
// protects (tables agg_batches, agg_stage, trade_ids and aggregated_data, see schema/mysql). The
// raw path stages every valid copy of a trade it reads in agg_stage, with the Kafka offset it came
// from. A batch's offset range, never past what the raw path committed, is recorded before the
// batch runs; one transaction then counts the range's trades whose ids were not accepted before,
// writes the batch's rows and commits it (Settle). A batch found planned but not committed is
// settled again with the same range, so each trade id is counted exactly once.
package batchlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"idxstream/spark_script/internal/fault"
	"idxstream/spark_script/internal/offsets"
	"idxstream/trade"
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
	return l.fencedAt(ctx, what, sql.LevelDefault, f)
}

// fencedAt is fenced at the given isolation level.
func (l *Log) fencedAt(ctx context.Context, what string, level sql.IsolationLevel, f func(tx *sql.Tx) error) error {
	tx, err := l.db.BeginTx(ctx, &sql.TxOptions{Isolation: level})
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

// Conflict is a staged copy of a trade whose id was accepted with other values: by an earlier
// batch, or earlier in the same batch (Kafka time, then partition, offset and element order).
type Conflict struct {
	Partition  int32
	Offset     int64
	Element    int32
	KafkaDay   time.Time // market date of the record's time: the rejects partition
	Got        trade.Trade
	First      trade.Trade // the accepted copy, which stays
	FirstBatch int64
}

// Settled is what a batch found.
type Settled struct {
	Staged     int64 // valid trades the batch read (with copies)
	Trades     int64 // trades counted for the first time
	Duplicates int64 // copies of counted trades with the same values, dropped
	Rows       int64 // rows written to aggregated_data
	Conflicts  []Conflict
}

// Repair is given a batch's conflicts before the batch commits (so that a crash repeats it); it must
// be idempotent.
type Repair func(ctx context.Context, cs []Conflict) error

// Settle ends a batch from the copies staged for its range, in one transaction that first passes
// the fence: the ids not accepted before go to trade_ids (one copy each), the batch's volume and
// trade count per (date, sector) is written from them to aggregated_data, repair is given the
// conflicts, and the batch is committed. Either all of it happens or none, so a replay after any
// failure starts from the same state, and no trade is counted twice. The range's staged rows, and
// any left below it, are deleted once the batch committed.
func (l *Log) Settle(ctx context.Context, b *Batch, now time.Time, repair Repair) (Settled, error) {
	var st Settled
	what := fmt.Sprintf("settle batch %d", b.ID)
	// READ COMMITTED: the reads of agg_stage take no gap locks, which would hold up the raw path's
	// inserts of the next offsets until the batch commits. Nothing else writes the batch's range.
	inBatch := staged("s", b)
	err := l.fencedAt(ctx, what, sql.LevelReadCommitted, func(tx *sql.Tx) error {
		// A raw micro-batch run again stages its rows again: a repeated (partition, offset,
		// element) is the same copy.
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT kafka_partition, kafka_offset, element) FROM agg_stage s WHERE `+inBatch,
			b.Topic).Scan(&st.Staged); err != nil {
			return fmt.Errorf("%s: count staged trades: %w", what, err)
		}
		// The first copy of each id in the batch, unless the id was accepted before. The window
		// orders copies of one id deterministically, so a replay picks the same one.
		res, err := tx.ExecContext(ctx, `INSERT INTO trade_ids
				(id, batch_id, hash, kafka_partition, kafka_offset, element, created_us, ticker, sector, volume, price, market_cap, `+"`date`"+`)
			SELECT r.id, ?, r.hash, r.kafka_partition, r.kafka_offset, r.element, r.created_us, r.ticker, r.sector,
				r.volume, r.price, r.market_cap, r.`+"`date`"+`
			FROM (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.id ORDER BY s.kafka_ts_us, s.kafka_partition, s.kafka_offset, s.element) AS n
				FROM agg_stage s WHERE `+inBatch+`) r
			LEFT JOIN trade_ids t ON t.id = r.id
			WHERE r.n = 1 AND t.id IS NULL`, b.ID, b.Topic)
		if err != nil {
			return fmt.Errorf("%s: record new trade ids: %w", what, err)
		}
		st.Trades, _ = res.RowsAffected()
		res, err = tx.ExecContext(ctx, `INSERT INTO aggregated_data (processing_id, batch_id, processed_at, sector, total_volume, trades, `+"`date`"+`)
			SELECT CONCAT(?, ':', `+"`date`"+`, ':', sector), ?, ?, sector, SUM(volume), COUNT(*), `+"`date`"+`
			FROM trade_ids WHERE batch_id = ? GROUP BY `+"`date`"+`, sector`, b.ID, b.ID, b.PlannedAt, b.ID)
		if err != nil {
			return fmt.Errorf("%s: write volume per (date, sector): %w", what, err)
		}
		st.Rows, _ = res.RowsAffected()
		if st.Conflicts, err = conflicts(ctx, tx, inBatch, b.Topic); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		// Every staged copy is counted once, is a conflict, or else repeats a counted copy's values.
		st.Duplicates = st.Staged - st.Trades - int64(len(st.Conflicts))
		if len(st.Conflicts) > 0 && repair != nil {
			if err := repair(ctx, st.Conflicts); err != nil {
				return fmt.Errorf("%s: send %d conflicting copies to rejects: %w", what, len(st.Conflicts), err)
			}
		}
		fault.Hit(fault.AggWritten)
		res, err = tx.ExecContext(ctx, `UPDATE agg_batches SET committed_at = ?, trades = ? WHERE batch_id = ? AND committed_at IS NULL`,
			now.UTC(), st.Trades, b.ID)
		if err != nil {
			return fmt.Errorf("%s: commit: %w", what, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%s: no planned batch with that id (committed twice?)", what)
		}
		return nil
	})
	if err != nil {
		return Settled{}, err
	}
	// The stage of a committed range is no longer needed; outside the transaction, since a
	// leftover is harmless (no later batch reads below its start) and the delete is long. Also
	// READ COMMITTED, so that it locks the rows it deletes and not the gap after them.
	if err := l.clearBelow(ctx, b.Topic, b.End); err != nil {
		return st, fmt.Errorf("clear the stage of committed batch %d: %w", b.ID, err)
	}
	return st, nil
}

// clearBelow deletes the staged rows of topic below end, per partition.
func (l *Log) clearBelow(ctx context.Context, topic string, end offsets.Offsets) error {
	tx, err := l.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit a no-op
	for part, o := range end {
		if _, err := tx.ExecContext(ctx, `DELETE FROM agg_stage WHERE topic = ? AND kafka_partition = ? AND kafka_offset < ?`, topic, part, o); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// staged is the SQL condition on agg_stage (as alias) of the rows of b's topic and range: from
// b.Start to b.End (exclusive) per partition, a partition missing from b.Start beginning at 0. It
// takes the topic as its one parameter; the offsets are numbers of the log, never text from
// outside, so they are written in place.
func staged(alias string, b *Batch) string {
	parts := make([]int32, 0, len(b.End))
	for part := range b.End {
		parts = append(parts, part)
	}
	slices.Sort(parts)
	conds := make([]string, 0, len(parts))
	for _, part := range parts {
		if b.Start[part] >= b.End[part] {
			continue
		}
		conds = append(conds, fmt.Sprintf("(%[1]s.kafka_partition = %[2]d AND %[1]s.kafka_offset >= %[3]d AND %[1]s.kafka_offset < %[4]d)",
			alias, part, b.Start[part], b.End[part]))
	}
	if len(conds) == 0 {
		conds = append(conds, "FALSE")
	}
	return alias + ".topic = ? AND (" + strings.Join(conds, " OR ") + ")"
}

// conflicts finds the staged copies (agg_stage s WHERE inBatch, for topic) whose id was accepted
// with other values.
func conflicts(ctx context.Context, tx *sql.Tx, inBatch, topic string) ([]Conflict, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT s.kafka_partition, s.kafka_offset, s.element, s.kafka_day,
			s.id, s.created_us, s.ticker, s.sector, s.volume, s.price, s.market_cap,
			t.created_us, t.ticker, t.sector, t.volume, t.price, t.market_cap, t.batch_id
		FROM agg_stage s JOIN trade_ids t ON t.id = s.id
		WHERE `+inBatch+` AND s.hash <> t.hash
		ORDER BY s.kafka_partition, s.kafka_offset, s.element`, topic)
	if err != nil {
		return nil, fmt.Errorf("find conflicting copies: %w", err)
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		var (
			c              Conflict
			gotUS, firstUS int64
		)
		g, f := &c.Got, &c.First
		if err := rows.Scan(&c.Partition, &c.Offset, &c.Element, &c.KafkaDay,
			&g.ID, &gotUS, &g.Ticker, &g.Sector, &g.Volume, &g.Price, &g.MarketCap,
			&firstUS, &f.Ticker, &f.Sector, &f.Volume, &f.Price, &f.MarketCap, &c.FirstBatch); err != nil {
			return nil, fmt.Errorf("read conflicting copy: %w", err)
		}
		f.ID = g.ID
		g.CreatedAt, f.CreatedAt = time.UnixMicro(gotUS).UTC(), time.UnixMicro(firstUS).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read conflicting copies: %w", err)
	}
	return out, nil
}

// Prune forgets the ids accepted by batches planned before the given time, a chunk at a time,
// and returns how many it removed. A copy of a forgotten trade would be counted again; the
// horizon is chosen so that the job rejects such a copy as too old (docs/operations.md).
func (l *Log) Prune(ctx context.Context, before time.Time) (int64, error) {
	var first sql.NullInt64
	if err := l.db.QueryRowContext(ctx, `SELECT MIN(batch_id) FROM agg_batches WHERE planned_at >= ?`, before.UTC()).Scan(&first); err != nil {
		return 0, fmt.Errorf("prune trade ids: find the horizon's first batch: %w", err)
	}
	if !first.Valid {
		return 0, nil // no batch inside the horizon: keep everything rather than guess
	}
	var total int64
	for {
		var n int64
		err := l.fenced(ctx, "prune trade ids", func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM trade_ids WHERE batch_id < ? LIMIT 20000`, first.Int64)
			if err != nil {
				return fmt.Errorf("prune trade ids: %w", err)
			}
			n, _ = res.RowsAffected()
			return nil
		})
		total += n
		if err != nil || n < 20000 {
			return total, err
		}
	}
}
