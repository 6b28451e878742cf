package market

import (
	"slices"
	"testing"
	"time"
)

func TestMovers(t *testing.T) {
	at := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	pts := func(prices ...float64) []PricePoint {
		out := make([]PricePoint, len(prices))
		for i, p := range prices {
			out[i] = PricePoint{At: at.Add(time.Duration(i) * time.Second), Price: p}
		}
		return out
	}
	tests := []struct {
		name   string
		series []TickerSeries
		want   []Mover
	}{
		{"empty", nil, []Mover{}},
		{"no trade today is left out", []TickerSeries{{Ticker: "BBCA", Open: 0}}, []Mover{}},
		{"ordered by size of change", []TickerSeries{
			{Ticker: "AAAA", Open: 100, Points: pts(100, 101)},
			{Ticker: "BBBB", Open: 200, Points: pts(190)},
			{Ticker: "CCCC", Open: 50, Points: pts(50)},
		}, []Mover{
			{Ticker: "BBBB", Open: 200, Last: 190, Change: -10, ChangePercent: -5},
			{Ticker: "AAAA", Open: 100, Last: 101, Change: 1, ChangePercent: 1},
			{Ticker: "CCCC", Open: 50, Last: 50, Change: 0, ChangePercent: 0},
		}},
		{"ties by ticker", []TickerSeries{
			{Ticker: "ZZZZ", Open: 100, Points: pts(102)},
			{Ticker: "YYYY", Open: 100, Points: pts(98)},
		}, []Mover{
			{Ticker: "YYYY", Open: 100, Last: 98, Change: -2, ChangePercent: -2},
			{Ticker: "ZZZZ", Open: 100, Last: 102, Change: 2, ChangePercent: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Movers(tt.series); !slices.Equal(got, tt.want) {
				t.Errorf("Movers() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSorts(t *testing.T) {
	v := []SectorVolume{{Sector: "B", TotalVolume: 10}, {Sector: "A", TotalVolume: 10}, {Sector: "C", TotalVolume: 30}}
	SortVolumes(v)
	if want := []SectorVolume{{Sector: "C", TotalVolume: 30}, {Sector: "A", TotalVolume: 10}, {Sector: "B", TotalVolume: 10}}; !slices.Equal(v, want) {
		t.Errorf("SortVolumes = %v, want %v", v, want)
	}
	at := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	tr := []Trade{{ID: 1, CreatedAt: at}, {ID: 3, CreatedAt: at.Add(-time.Second)}, {ID: 2, CreatedAt: at}}
	SortTrades(tr)
	var ids []int64
	for _, x := range tr {
		ids = append(ids, x.ID)
	}
	if !slices.Equal(ids, []int64{2, 1, 3}) {
		t.Errorf("SortTrades ids = %v, want [2 1 3]", ids)
	}
}

func TestAggregateHealth(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 15, 30, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	tests := []struct {
		name   string
		batch  Batch
		newest time.Time
		state  string
		reason string
	}{
		{"no batch yet", Batch{}, ago(time.Second), AggregateNone, ""},
		{"recent batch", Batch{ID: 4, CommittedAt: ago(35 * time.Second)}, ago(time.Second), AggregateOK, ""},
		{"exactly three triggers", Batch{ID: 4, CommittedAt: ago(3 * time.Minute)}, ago(time.Second), AggregateOK, ""},
		{"old batch, trades since", Batch{ID: 4, CommittedAt: ago(10 * time.Minute)}, ago(2 * time.Second), AggregateStalled,
			"no batch committed for more than 3 × the 1m0s aggregate trigger although trades arrived since"},
		{"old batch, no trade since", Batch{ID: 4, CommittedAt: ago(10 * time.Minute)}, ago(11 * time.Minute), AggregateIdle,
			"no batch committed for more than 3 × the 1m0s aggregate trigger; no trade arrived since, so nothing waits"},
		{"old batch, no trade known", Batch{ID: 4, CommittedAt: ago(10 * time.Minute)}, time.Time{}, AggregateIdle, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, reason := AggregateHealth(tt.batch, tt.newest, time.Minute, now)
			if state != tt.state || (tt.reason != "" && reason != tt.reason) {
				t.Errorf("AggregateHealth = %q, %q; want %q, %q", state, reason, tt.state, tt.reason)
			}
		})
	}
}
