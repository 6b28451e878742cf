//go:build integration

package batchlog_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"testing"
	"time"

	"idxstream/spark_script/internal/batchlog"
	"idxstream/spark_script/internal/offsets"
	"idxstream/testkit"
)

var suite = testkit.NewSuite("batchlog")

func TestMain(m *testing.M) { os.Exit(suite.Run(m)) }

// staged is one copy as the raw path stages it.
type staged struct {
	part          int32
	offset        int64
	element       int32
	at            time.Time // record time
	id, hash      int64
	sector        string
	volume        int64
	createdAtSecs int64
}

func stage(t *testing.T, db *sql.DB, topic string, rows ...staged) {
	t.Helper()
	for _, r := range rows {
		created := time.Unix(1764640800+r.createdAtSecs, 123456000).UTC()
		if _, err := db.Exec(`INSERT INTO agg_stage (topic, kafka_partition, kafka_offset, element, kafka_ts_us, kafka_day, id, hash,
				created_us, ticker, sector, volume, price, market_cap, `+"`date`"+`) VALUES (?, ?, ?, ?, ?, '2025-12-02', ?, ?, ?, 'BBCA', ?, ?, 9000, 9000, '2025-12-02')`,
			topic, r.part, r.offset, r.element, r.at.UnixMicro(), r.id, r.hash, created.UnixMicro(), r.sector, r.volume); err != nil {
			t.Fatalf("stage: %v", err)
		}
	}
}

type fence struct{ err error }

func (f *fence) Fence(context.Context, *sql.Tx) error { return f.err }

func plan(t *testing.T, l *batchlog.Log, topic string, start, end offsets.Offsets) *batchlog.Batch {
	t.Helper()
	b, err := l.Plan(context.Background(), topic, offsets.Plan{Start: start, End: end}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func totals(t *testing.T, db *sql.DB, batch int64) (volume, trades int64) {
	t.Helper()
	if err := db.QueryRow(`SELECT COALESCE(SUM(total_volume), 0), COALESCE(SUM(trades), 0) FROM aggregated_data WHERE batch_id = ?`, batch).
		Scan(&volume, &trades); err != nil {
		t.Fatal(err)
	}
	return volume, trades
}

func TestSettleCountsEachIDOnceAndFindsConflicts(t *testing.T) {
	ctx := context.Background()
	ns := suite.FreshNamespace(t)
	db := ns.MySQL(t, testkit.Job)
	f := &fence{}
	l := batchlog.New(db, f)
	t0 := time.Now().UTC().Truncate(time.Millisecond)

	// Batch 1 (partition 0 up to offset 6, partition 1 up to 4): trade 1 twice with the same
	// values, trade 2 once, trade 3 in two versions (the copy with the earlier record time is
	// first, though it has the larger offset). The raw path staged one copy twice (a micro-batch
	// run again), a copy of another topic, and already a copy of the next batch's range.
	b1 := plan(t, l, "t", offsets.Offsets{0: 0, 1: 0}, offsets.Offsets{0: 6, 1: 4})
	stage(t, db, "t",
		staged{0, 0, 0, t0, 1, 11, "Financials", 100, 0},
		staged{0, 5, 0, t0.Add(time.Second), 1, 11, "Financials", 100, 0},
		staged{1, 2, 0, t0, 2, 22, "Energy", 300, 1},
		staged{1, 2, 0, t0, 2, 22, "Energy", 300, 1},
		staged{1, 3, 1, t0.Add(-time.Second), 3, 33, "Energy", 500, 2},
		staged{0, 1, 0, t0, 3, 34, "Energy", 700, 2},
		staged{0, 9, 0, t0, 4, 44, "Financials", 200, 3},
	)
	stage(t, db, "other", staged{0, 3, 0, t0, 5, 55, "Energy", 1000, 4})
	var repaired []batchlog.Conflict
	repair := func(_ context.Context, cs []batchlog.Conflict) error { repaired = append(repaired, cs...); return nil }
	st, err := l.Settle(ctx, b1, time.Now(), repair)
	if err != nil {
		t.Fatal(err)
	}
	if st.Staged != 5 || st.Trades != 3 || st.Duplicates != 1 || len(st.Conflicts) != 1 {
		t.Fatalf("settled %+v, want 5 staged, 3 trades, 1 duplicate, 1 conflict", st)
	}
	c := st.Conflicts[0]
	if c.Got.ID != 3 || c.Got.Volume != 700 || c.First.Volume != 500 || c.FirstBatch != b1.ID || len(repaired) != 1 {
		t.Fatalf("conflict %+v (repaired %d): want the copy with volume 700 rejected, 500 kept", c, len(repaired))
	}
	if !c.Got.CreatedAt.Equal(time.Unix(1764640802, 123456000)) {
		t.Fatalf("conflict's created_at %v lost its microseconds", c.Got.CreatedAt)
	}
	if v, n := totals(t, db, b1.ID); v != 100+300+500 || n != 3 {
		t.Fatalf("batch 1 wrote volume %d in %d trades, want 900 in 3", v, n)
	}

	// Batch 2 (partition 0 from 6 to 10): a copy of trade 2 (same values), a conflicting copy of
	// trade 1, and trade 4, staged earlier.
	b2 := plan(t, l, "t", offsets.Offsets{0: 6, 1: 4}, offsets.Offsets{0: 10, 1: 4})
	stage(t, db, "t",
		staged{0, 7, 0, t0, 2, 22, "Energy", 300, 1},
		staged{0, 8, 0, t0, 1, 99, "Financials", 900, 0},
	)
	// A repair that fails (Cassandra down) leaves nothing behind: no ids, no rows, no commit.
	if _, err := l.Settle(ctx, b2, time.Now(), func(context.Context, []batchlog.Conflict) error { return errors.New("cassandra down") }); err == nil {
		t.Fatal("Settle hid the repair's failure")
	}
	if v, n := totals(t, db, b2.ID); v != 0 || n != 0 {
		t.Fatalf("a failed settle left rows: volume %d in %d trades", v, n)
	}
	// So does a lost lease.
	f.err = errors.New("lease lost")
	if _, err := l.Settle(ctx, b2, time.Now(), repair); err == nil {
		t.Fatal("Settle passed a failing fence")
	}
	f.err = nil
	st, err = l.Settle(ctx, b2, time.Now(), repair)
	if err != nil {
		t.Fatal(err)
	}
	if st.Trades != 1 || st.Duplicates != 1 || len(st.Conflicts) != 1 || st.Conflicts[0].FirstBatch != b1.ID {
		t.Fatalf("batch 2 settled %+v, want 1 trade, 1 duplicate, 1 conflict with batch 1", st)
	}
	if v, n := totals(t, db, b2.ID); v != 200 || n != 1 {
		t.Fatalf("batch 2 wrote volume %d in %d trades, want 200 in 1", v, n)
	}
	if _, err := l.Settle(ctx, b2, time.Now(), repair); err == nil {
		t.Fatal("a batch settled twice")
	}
	var left int
	if err := db.QueryRow(`SELECT COUNT(*) FROM agg_stage WHERE topic = 't'`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d staged rows of the settled ranges left (err %v)", left, err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM agg_stage WHERE topic = 'other'`).Scan(&left); err != nil || left != 1 {
		t.Fatalf("the other topic's staged copy is gone (%d rows, err %v)", left, err)
	}

	// Forgetting ids of batches before the horizon: batch 1's three ids go, batch 2's stays.
	if _, err := db.Exec(`UPDATE agg_batches SET planned_at = ? WHERE batch_id = ?`, time.Now().Add(-72*time.Hour).UTC(), b1.ID); err != nil {
		t.Fatal(err)
	}
	n, err := l.Prune(ctx, time.Now().Add(-48*time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("pruned %d ids (err %v), want batch 1's 3", n, err)
	}
}
