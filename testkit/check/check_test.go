package check

import (
	"strings"
	"testing"
	"time"

	"idxstream/trade"
)

func TestExpectedTotalsUseTheMarketDate(t *testing.T) {
	jkt, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	// 18:30 UTC is 01:30 the next day in Jakarta.
	ts := []trade.Trade{
		{ID: 1, Sector: "Energy", Volume: 100, CreatedAt: time.Date(2026, 12, 1, 18, 30, 0, 0, time.UTC)},
		{ID: 2, Sector: "Energy", Volume: 200, CreatedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)},
		{ID: 3, Sector: "Energy", Volume: 300, CreatedAt: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)},
	}
	got := ExpectedTotals(ts, jkt)
	want := map[DateSector]Sum{{"2026-12-02", "Energy"}: {400, 2}, {"2026-12-01", "Energy"}: {200, 1}}
	if err := DiffTotals(got, want); err != nil {
		t.Error(err)
	}
}

func TestDiffTotals(t *testing.T) {
	want := map[DateSector]Sum{{"2026-12-02", "Energy"}: {400, 2}}
	tests := []struct {
		name string
		got  map[DateSector]Sum
		msg  string // empty: equal
	}{
		{"equal", map[DateSector]Sum{{"2026-12-02", "Energy"}: {400, 2}}, ""},
		{"volume doubled", map[DateSector]Sum{{"2026-12-02", "Energy"}: {800, 4}}, "volume 800 in 4 trades, want 400 in 2"},
		{"same volume, other count", map[DateSector]Sum{{"2026-12-02", "Energy"}: {400, 3}}, "volume 400 in 3 trades"},
		{"missing", map[DateSector]Sum{}, "volume 0 in 0 trades, want 400 in 2"},
		{"extra sector", map[DateSector]Sum{{"2026-12-02", "Energy"}: {400, 2}, {"2026-12-02", "X"}: {1, 1}}, "X: volume 1 in 1 trades, want none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DiffTotals(tt.got, want)
			switch {
			case tt.msg == "" && err != nil:
				t.Errorf("unexpected difference: %v", err)
			case tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)):
				t.Errorf("error %v, want one saying %q", err, tt.msg)
			}
		})
	}
}

func TestUniqueIDsCatchesABrokenTest(t *testing.T) {
	if _, err := uniqueIDs([]trade.Trade{{ID: 1}, {ID: 1}}); err == nil {
		t.Error("two trades with one id must be refused")
	}
}
