package market

import (
	"reflect"
	"testing"
	"time"

	"idxstream/trade"
)

func TestTickSize(t *testing.T) {
	tests := []struct {
		price, want int64
	}{
		{1, 1}, {50, 1}, {199, 1},
		{200, 2}, {498, 2}, {499, 2},
		{500, 5}, {1995, 5}, {1999, 5},
		{2000, 10}, {4990, 10}, {4999, 10},
		{5000, 25}, {9875, 25}, {100000, 25},
	}
	for _, tc := range tests {
		if got := TickSize(tc.price); got != tc.want {
			t.Errorf("TickSize(%d) = %d, want %d", tc.price, got, tc.want)
		}
	}
}

func TestOnGridAndSnap(t *testing.T) {
	tests := []struct {
		price int64
		on    bool
		snap  int64
	}{
		{199, true, 199}, {201, false, 200}, {202, true, 202},
		{503, false, 500}, {505, true, 505}, {2005, false, 2000},
		{5010, false, 5000}, {5025, true, 5025}, {0, false, 1},
	}
	for _, tc := range tests {
		if got := OnGrid(tc.price); got != tc.on {
			t.Errorf("OnGrid(%d) = %v, want %v", tc.price, got, tc.on)
		}
		if got := SnapDown(tc.price); got != tc.snap {
			t.Errorf("SnapDown(%d) = %d, want %d", tc.price, got, tc.snap)
		}
	}
}

// Every price on the grid moves one tick to a neighbour on the grid, across band boundaries,
// and up/down are inverse.
func TestStepsStayOnGrid(t *testing.T) {
	for p := int64(2); p <= 20000; p++ {
		if !OnGrid(p) {
			continue
		}
		u, d := up(p), down(p)
		if !OnGrid(u) || !OnGrid(d) {
			t.Fatalf("from %d: up %d (on grid %v), down %d (on grid %v)", p, u, OnGrid(u), d, OnGrid(d))
		}
		if down(u) != p || up(d) != p {
			t.Fatalf("from %d: down(up) = %d, up(down) = %d", p, down(u), up(d))
		}
		// no grid price is skipped
		for q := p + 1; q < u; q++ {
			if OnGrid(q) {
				t.Fatalf("up(%d) = %d skips grid price %d", p, u, q)
			}
		}
	}
}

func testCompanies() []Company {
	return []Company{
		{"BBCA", "Bank Central Asia", "Financials", 123275050000},
		{"GOTO", "GoTo Gojek Tokopedia", "Technology", 1189827447466},
		{"UNTR", "United Tractors", "Industrials", 3730135136},
		{"BIRD", "Blue Bird", "Transportation & Logistic", 2501045520},
	}
}

func TestGeneratorTrades(t *testing.T) {
	cs := testCompanies()
	g := New(cs, 42)
	at := time.Date(2026, 11, 23, 9, 0, 0, 123456789, time.FixedZone("WIB", 7*3600))
	var ts []trade.Trade
	for range 25000 {
		ts = g.Round(ts[:0], at, len(cs))
		for i, tr := range ts {
			c := cs[i]
			p := int64(tr.Price)
			switch {
			case tr.Ticker != c.Ticker || tr.Sector != c.Sector:
				t.Fatalf("trade %d is %s/%s, want %s/%s", i, tr.Ticker, tr.Sector, c.Ticker, c.Sector)
			case float64(p) != tr.Price || !OnGrid(p):
				t.Fatalf("%s price %v is not on the IDX grid", tr.Ticker, tr.Price)
			case p < MinPrice:
				t.Fatalf("%s price %d below %d", tr.Ticker, p, MinPrice)
			case tr.Volume <= 0 || tr.Volume%trade.Lot != 0 || tr.Volume > MaxLots*trade.Lot:
				t.Fatalf("%s volume %d is not 1..%d whole lots", tr.Ticker, tr.Volume, MaxLots)
			case tr.MarketCap != tr.Price*float64(c.Shares):
				t.Fatalf("%s market cap %v, want %v", tr.Ticker, tr.MarketCap, tr.Price*float64(c.Shares))
			case !tr.CreatedAt.Equal(at.Truncate(time.Microsecond)) || tr.CreatedAt.Location() != time.UTC:
				t.Fatalf("created_at %v, want %v in UTC", tr.CreatedAt, at.Truncate(time.Microsecond))
			case tr.ID != 0:
				t.Fatalf("generator set id %d", tr.ID)
			}
			tr.ID = 1
			if err := trade.Validate(tr); err != nil {
				t.Fatalf("invalid trade %+v: %v", tr, err)
			}
		}
	}
	// after 25,000 steps mean reversion keeps prices within a plausible band of the start
	fresh := New(cs, 42)
	for i := range cs {
		if r := float64(g.Price(i)) / float64(fresh.Price(i)); r < 0.2 || r > 5 {
			t.Errorf("%s drifted from %d to %d", cs[i].Ticker, fresh.Price(i), g.Price(i))
		}
	}
}

func TestGeneratorMovesPrices(t *testing.T) {
	g := New(testCompanies(), 7)
	start := g.Price(0)
	moved := false
	for range 100 {
		g.Round(nil, time.Unix(0, 0), 4)
		moved = moved || g.Price(0) != start
	}
	if !moved {
		t.Error("price of company 0 never moved in 100 rounds")
	}
}

func TestGeneratorReproducible(t *testing.T) {
	at := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	run := func(seed uint64) []trade.Trade {
		g := New(testCompanies(), seed)
		var ts []trade.Trade
		for r := range 200 {
			ts = g.Round(ts, at.Add(time.Duration(r)*time.Millisecond), 4)
		}
		return ts
	}
	a, b, c := run(1), run(1), run(2)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed gave different trades")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds gave the same trades")
	}
}

func TestGeneratorPartialRound(t *testing.T) {
	g := New(testCompanies(), 1)
	ts := g.Round(nil, time.Unix(0, 0), 2)
	if len(ts) != 2 || ts[0].Ticker != "BBCA" || ts[1].Ticker != "GOTO" {
		t.Errorf("partial round = %+v, want BBCA and GOTO", ts)
	}
}

func TestStartPricesPlausible(t *testing.T) {
	g := New(testCompanies(), 3)
	for i, c := range g.Companies() {
		p := g.Price(i)
		if !OnGrid(p) || p < MinPrice || p > 50000 {
			t.Errorf("%s starts at %d", c.Ticker, p)
		}
	}
}

// BenchmarkRound measures the model alone: one round of 24 companies (the producer's default, one
// trade each) per op, with the per-trade cost reported as ns/trade.
func BenchmarkRound(b *testing.B) {
	cs := make([]Company, 24)
	for i := range cs {
		cs[i] = testCompanies()[i%4]
	}
	g := New(cs, 1)
	at := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	buf := make([]trade.Trade, 0, len(cs))
	b.ReportAllocs()
	for b.Loop() {
		buf = g.Round(buf[:0], at, len(cs))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cs)), "ns/trade")
}
