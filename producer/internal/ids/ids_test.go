package ids

import (
	"context"
	"errors"
	"testing"

	"idxstream/trade"
)

// memReserver is an in-memory id_blocks table.
type memReserver struct {
	next  map[string]int64
	calls int
	err   error
}

func (m *memReserver) Reserve(_ context.Context, topic string, n int64) (int64, error) {
	m.calls++
	if m.err != nil {
		return 0, m.err
	}
	if m.next[topic] == 0 {
		m.next[topic] = 1
	}
	first := m.next[topic]
	m.next[topic] += n
	return first, nil
}

func assign(t *testing.T, a *Allocator, n int) []int64 {
	t.Helper()
	ts := make([]trade.Trade, n)
	if err := a.Assign(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	out := make([]int64, n)
	for i := range ts {
		out[i] = ts[i].ID
	}
	return out
}

func TestAllocator(t *testing.T) {
	tests := []struct {
		name      string
		block     int64
		batches   []int
		wantCalls int
	}{
		{"one block", 100, []int{10, 20, 70}, 1},
		{"exact block boundary", 10, []int{10, 10}, 2},
		{"batch spans blocks", 7, []int{20}, 3},
		{"block of one", 1, []int{3}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &memReserver{next: map[string]int64{}}
			a := New(r, "t", tc.block)
			want := int64(1)
			for _, n := range tc.batches {
				for _, id := range assign(t, a, n) {
					if id != want {
						t.Fatalf("id %d, want %d (contiguous)", id, want)
					}
					want++
				}
			}
			if r.calls != tc.wantCalls {
				t.Errorf("%d reservations, want %d", r.calls, tc.wantCalls)
			}
			first, last := a.Range()
			if first != 1 || last != want-1 {
				t.Errorf("Range = %d..%d, want 1..%d", first, last, want-1)
			}
		})
	}
}

// A restarted producer (new allocator, same table) continues after the old block and never
// reuses an id, even when the old one did not use all of its block.
func TestAllocatorRestartNeverCollides(t *testing.T) {
	r := &memReserver{next: map[string]int64{}}
	seen := map[int64]bool{}
	for run := range 3 {
		a := New(r, "trading_data", 50)
		for _, id := range assign(t, a, 30+run*40) {
			if seen[id] {
				t.Fatalf("run %d reused id %d", run, id)
			}
			seen[id] = true
		}
	}
	// per-topic sequences are independent
	if ids := assign(t, New(r, "other", 50), 1); ids[0] != 1 {
		t.Errorf("first id of a new topic = %d, want 1", ids[0])
	}
}

func TestAllocatorError(t *testing.T) {
	boom := errors.New("boom")
	a := New(&memReserver{next: map[string]int64{}, err: boom}, "t", 10)
	err := a.Assign(context.Background(), make([]trade.Trade, 1))
	if !errors.Is(err, boom) {
		t.Errorf("Assign = %v, want wrapped boom", err)
	}
}
