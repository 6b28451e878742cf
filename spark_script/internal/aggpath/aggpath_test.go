package aggpath

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"idxstream/spark_script/internal/batchlog"
	"idxstream/spark_script/internal/offsets"
	"idxstream/storage"
)

// fakeLog keeps the batch log and the aggregated rows (batch id -> trades) in memory; its stage
// holds one trade per Kafka record. Settle can fail (MySQL's error, or a crash mid-way).
type fakeLog struct {
	batches   []*batchlog.Batch
	committed map[int64]int64 // trades counted by committed batches
	conflicts []batchlog.Conflict
	failNext  bool
	failWith  error             // returned by every Settle when set
	ranges    []offsets.Offsets // the end of every range settled
}

func (f *fakeLog) Last(_ context.Context, _ string) (*batchlog.Batch, error) {
	if len(f.batches) == 0 {
		return nil, nil
	}
	b := *f.batches[len(f.batches)-1]
	return &b, nil
}
func (f *fakeLog) Plan(_ context.Context, topic string, p offsets.Plan, now time.Time) (*batchlog.Batch, error) {
	b := &batchlog.Batch{ID: int64(len(f.batches) + 1), Topic: topic, Start: p.Start, End: p.End, PlannedAt: now}
	f.batches = append(f.batches, b)
	c := *b
	return &c, nil
}
func (f *fakeLog) Settle(ctx context.Context, b *batchlog.Batch, now time.Time, repair batchlog.Repair) (batchlog.Settled, error) {
	f.ranges = append(f.ranges, b.End)
	if f.failWith != nil {
		return batchlog.Settled{}, f.failWith
	}
	if f.failNext {
		f.failNext = false
		return batchlog.Settled{}, errors.New("connection lost")
	}
	lb := f.batches[b.ID-1]
	if lb.CommittedAt != nil {
		return batchlog.Settled{}, errors.New("committed twice")
	}
	n := offsets.Plan{Start: b.Start, End: b.End}.Records()
	st := batchlog.Settled{Staged: n, Trades: n, Rows: 1, Conflicts: f.conflicts}
	if repair != nil && len(st.Conflicts) > 0 {
		if err := repair(ctx, st.Conflicts); err != nil {
			return batchlog.Settled{}, err
		}
	}
	lb.CommittedAt, lb.Trades = &now, st.Trades
	f.committed[b.ID] = st.Trades
	return st, nil
}
func (f *fakeLog) Prune(context.Context, time.Time) (int64, error) { return 0, nil }

type fakeBounds struct{ start, end offsets.Offsets }

func (f *fakeBounds) Bounds(context.Context, string) (offsets.Offsets, offsets.Offsets, error) {
	return f.start, f.end, nil
}

func newPath() (*Path, *fakeLog, *fakeBounds) {
	l := &fakeLog{committed: map[int64]int64{}}
	bo := &fakeBounds{start: offsets.Offsets{0: 0, 1: 0}, end: offsets.Offsets{0: 0, 1: 0}}
	return &Path{Topic: "t", MaxRecords: 100, Trigger: time.Minute, Log: l, Bounds: bo,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, l, bo
}

func TestStepWithNothingNewRunsNoBatch(t *testing.T) {
	p, l, _ := newPath()
	ran, _, err := p.Step(context.Background())
	if err != nil || ran || len(l.batches) != 0 {
		t.Fatalf("Step on an empty topic: ran=%v err=%v batches=%d", ran, err, len(l.batches))
	}
}

func TestFailedBatchIsReplayedWithTheSameRangeAndCountedOnce(t *testing.T) {
	p, l, bo := newPath()
	ctx := context.Background()
	bo.end = offsets.Offsets{0: 30, 1: 20}
	l.failNext = true
	if _, _, err := p.Step(ctx); err == nil {
		t.Fatal("Step hid the aggregation error")
	}
	bo.end = offsets.Offsets{0: 40, 1: 25} // more arrived meanwhile: must not join the replay
	if ran, _, err := p.Step(ctx); err != nil || !ran {
		t.Fatalf("replay: ran=%v err=%v", ran, err)
	}
	if len(l.batches) != 1 || l.batches[0].CommittedAt == nil || l.batches[0].Trades != 50 {
		t.Fatalf("after replay: %+v", l.batches[0])
	}
	if !reflect.DeepEqual(l.ranges[0], l.ranges[1]) {
		t.Fatalf("replay used another range: %v then %v", l.ranges[0], l.ranges[1])
	}
	if ran, _, err := p.Step(ctx); err != nil || !ran {
		t.Fatalf("next batch: ran=%v err=%v", ran, err)
	}
	var total int64
	for _, n := range l.committed {
		total += n
	}
	if total != 65 {
		t.Fatalf("aggregated %d trades over all batches, want every record exactly once (65)", total)
	}
	if got := l.batches[1].Start; !reflect.DeepEqual(got, offsets.Offsets{0: 30, 1: 20}) {
		t.Fatalf("second batch starts at %v, want the first batch's end", got)
	}
}

func TestStepReportsMoreWhenCapped(t *testing.T) {
	p, _, bo := newPath()
	bo.end = offsets.Offsets{0: 150, 1: 150}
	_, more, err := p.Step(context.Background())
	if err != nil || !more {
		t.Fatalf("capped batch: more=%v err=%v, want more=true", more, err)
	}
	if got := p.LastProgress(); got.Records != 100 || got.Lag != 200 {
		t.Fatalf("progress %+v, want 100 records and a lag of 200", got)
	}
}

type fakeGate struct {
	end offsets.Offsets
	ok  bool
}

func (g *fakeGate) Committed(string) (offsets.Offsets, bool) { return g.end, g.ok }

func TestBatchesNeverPassTheRawPath(t *testing.T) {
	p, l, bo := newPath()
	g := &fakeGate{}
	p.Gate = g
	ctx := context.Background()
	bo.end = offsets.Offsets{0: 30, 1: 20}
	if ran, _, err := p.Step(ctx); err != nil || ran {
		t.Fatalf("ran=%v err=%v before the raw path reported", ran, err)
	}
	g.end, g.ok = offsets.Offsets{0: 10}, true // partition 1 not reported yet
	if ran, _, err := p.Step(ctx); err != nil || !ran {
		t.Fatalf("ran=%v err=%v", ran, err)
	}
	if got := l.batches[0].End; !reflect.DeepEqual(got, offsets.Offsets{0: 10, 1: 0}) {
		t.Fatalf("batch ends at %v, want the raw path's committed offsets", got)
	}
	if got := p.LastProgress().Lag; got != 40 {
		t.Fatalf("lag %d, want 40 (measured against Kafka, not the gate)", got)
	}
}

func TestARecreatedTopicStopsThePath(t *testing.T) {
	p, _, bo := newPath()
	ctx := context.Background()
	bo.end = offsets.Offsets{0: 30, 1: 20}
	if _, _, err := p.Step(ctx); err != nil {
		t.Fatal(err)
	}
	bo.end = offsets.Offsets{0: 5, 1: 20} // deleted and created again, with fewer records
	_, _, err := p.Step(ctx)
	if !errors.Is(err, ErrTopicChanged) {
		t.Fatalf("Step on a recreated topic: %v, want ErrTopicChanged", err)
	}
	if err := p.Run(ctx); !errors.Is(err, ErrTopicChanged) {
		t.Fatalf("Run kept going on a recreated topic: %v", err)
	}
}

func TestAFullDiskStopsThePathWithTheBatchLeftToReplay(t *testing.T) {
	p, l, bo := newPath()
	bo.end = offsets.Offsets{0: 30, 1: 20}
	l.failWith = errors.New("Error 1114 (HY000): The table 'trade_ids' is full")
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, storage.ErrFull) {
			t.Fatalf("Run on a full MySQL: %v, want storage.ErrFull", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept retrying a batch that fails for a full disk")
	}
	if len(l.batches) != 1 || l.batches[0].CommittedAt != nil {
		t.Fatalf("want the batch planned and uncommitted, to be replayed: %+v", l.batches)
	}
	if p.LastProgress().Error == "" {
		t.Error("the status does not say why the path stopped")
	}
}

type fakeRepair struct{ got []batchlog.Conflict }

func (f *fakeRepair) Repair(_ context.Context, _ string, cs []batchlog.Conflict) error {
	f.got = append(f.got, cs...)
	return nil
}

func TestConflictsAreRepairedBeforeTheCommit(t *testing.T) {
	p, l, bo := newPath()
	r := &fakeRepair{}
	p.Repair = r
	l.conflicts = []batchlog.Conflict{{Partition: 1, Offset: 3}}
	bo.end = offsets.Offsets{0: 1, 1: 4}
	if _, _, err := p.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(r.got) != 1 || p.LastProgress().Conflicts != 1 {
		t.Fatalf("repaired %v, progress %+v", r.got, p.LastProgress())
	}
}

func TestMidway(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("15:04:05.000", s)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(2026, 11, 24, v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
	}
	tests := []struct {
		t    string
		raw  time.Duration
		want string
	}{
		{"10:00:00.000", 10 * time.Second, "10:00:05.000"},
		{"10:00:04.999", 10 * time.Second, "10:00:05.000"},
		{"10:00:05.000", 10 * time.Second, "10:00:05.000"}, // already half-way
		{"10:00:05.001", 10 * time.Second, "10:00:15.000"},
		{"10:00:59.000", 10 * time.Second, "10:01:05.000"},
		{"10:00:01.000", 3 * time.Second, "10:00:01.500"}, // 36001 s since the epoch's midnight is 1 past a multiple of 3
		{"10:00:00.100", 200 * time.Millisecond, "10:00:00.100"},
	}
	for _, tc := range tests {
		if got := Midway(at(tc.t), tc.raw); !got.Equal(at(tc.want)) {
			t.Errorf("Midway(%s, %s) = %s, want %s", tc.t, tc.raw, got.Format("15:04:05.000"), tc.want)
		}
	}
}
