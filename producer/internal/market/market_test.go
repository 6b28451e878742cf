package market

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"idxstream/producer/internal/session"
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
		if got := trade.TickSize(tc.price); got != tc.want {
			t.Errorf("trade.TickSize(%d) = %d, want %d", tc.price, got, tc.want)
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
		if got := trade.OnGrid(float64(tc.price)); got != tc.on {
			t.Errorf("OnGrid(%d) = %v, want %v", tc.price, got, tc.on)
		}
		if got := SnapDown(tc.price); got != tc.snap {
			t.Errorf("SnapDown(%d) = %d, want %d", tc.price, got, tc.snap)
		}
	}
	up := []struct{ price, want int64 }{
		{199, 199}, {201, 202}, {499, 500}, {503, 505}, {1999, 2000}, {2005, 2010}, {4271, 4280}, {5010, 5025}, {0, 1},
	}
	for _, tc := range up {
		if got := SnapUp(tc.price); got != tc.want {
			t.Errorf("SnapUp(%d) = %d, want %d", tc.price, got, tc.want)
		}
	}
}

// Every price on the grid moves one tick to a neighbour on the grid, across band boundaries,
// and up/down are inverse.
func TestStepsStayOnGrid(t *testing.T) {
	for p := int64(2); p <= 20000; p++ {
		if !trade.OnGrid(float64(p)) {
			continue
		}
		u, d := up(p), down(p)
		if !trade.OnGrid(float64(u)) || !trade.OnGrid(float64(d)) {
			t.Fatalf("from %d: up %d (on grid %v), down %d (on grid %v)", p, u, trade.OnGrid(float64(u)), d, trade.OnGrid(float64(d)))
		}
		if down(u) != p || up(d) != p {
			t.Fatalf("from %d: down(up) = %d, up(down) = %d", p, down(u), up(d))
		}
		// no grid price is skipped
		for q := p + 1; q < u; q++ {
			if trade.OnGrid(float64(q)) {
				t.Fatalf("up(%d) = %d skips grid price %d", p, u, q)
			}
		}
	}
}

func testCompanies() []Company {
	return []Company{
		{"BBCA", "Bank Central Asia", "Financials", 123275050000, 9400},
		{"GOTO", "GoTo Gojek Tokopedia", "Technology", 1189827447466, 68},
		{"UNTR", "United Tractors", "Industrials", 3730135136, 25000},
		{"BIRD", "Blue Bird", "Transportation & Logistic", 2501045520, 1700},
	}
}

// wib builds a Jakarta time; 2026-11-23 is a Monday.
func wib(month time.Month, day, h, m int) time.Time {
	return time.Date(2026, month, day, h, m, 0, 0, session.Jakarta)
}

func TestLimits(t *testing.T) {
	symmetric := time.Date(2024, 1, 10, 10, 0, 0, 0, session.Jakarta)
	stageI := time.Date(2023, 7, 3, 10, 0, 0, 0, session.Jakarta)
	pandemic := time.Date(2021, 7, 1, 10, 0, 0, 0, session.Jakarta)
	now := wib(11, 23, 10, 0) // ARB 15% since 2025-04-08
	tests := []struct {
		name   string
		ref    int64
		day    time.Time
		lo, hi int64
	}{
		{"2026, Rp 200-5,000: ARA 25%, ARB 15%", 1000, now, 850, 1250},
		{"2026, above Rp 5,000: ARA 20%, ARB 15%", 9000, now, 7650, 10800},
		{"2026, up to Rp 200: ARA 35%, ARB 15%", 100, now, 85, 135},
		{"2026, Rp 200 is in the 35% range", 200, now, 170, 270},
		{"2026, Rp 5,000 is in the 25% range", 5000, now, 4250, 6250},
		{"2026, limits rounded inwards to the grid", 5025, now, 4280, 6025},
		{"2026, never below Rp 50", 50, now, 50, 67},
		{"2026, ARA limit across a tick band", 4990, now, 4250, 6225},
		{"first day of Kep-00003/BEI/04-2025", 1000, time.Date(2025, 4, 8, 0, 0, 0, 0, session.Jakarta), 850, 1250},
		{"last day of symmetric bands", 1000, time.Date(2025, 4, 7, 23, 59, 0, 0, session.Jakarta), 750, 1250},
		{"symmetric 2024, Rp 200-5,000", 1000, symmetric, 750, 1250},
		{"symmetric 2024, above Rp 5,000", 9000, symmetric, 7200, 10800},
		{"symmetric 2024, up to Rp 200", 100, symmetric, 65, 135},
		{"stage I 2023", 1000, stageI, 850, 1250},
		{"pandemic 2021: ARB 7%", 1000, pandemic, 930, 1250},
		{"before 2020 uses the narrowest ARB", 1000, time.Date(2015, 1, 5, 10, 0, 0, 0, session.Jakarta), 930, 1250},
		{"date in UTC: 2025-04-07 17:00Z is 2025-04-08 in Jakarta", 1000, time.Date(2025, 4, 7, 17, 0, 0, 0, time.UTC), 850, 1250},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := Limits(tc.ref, tc.day)
			if lo != tc.lo || hi != tc.hi {
				t.Errorf("Limits(%d, %v) = [%d, %d], want [%d, %d]", tc.ref, tc.day, lo, hi, tc.lo, tc.hi)
			}
			if !trade.OnGrid(float64(lo)) || !trade.OnGrid(float64(hi)) {
				t.Errorf("limits [%d, %d] not on the grid", lo, hi)
			}
		})
	}
	// Over every grid price, both limits are on the grid and within the percentages.
	for ref := int64(MinPrice); ref <= 60000; ref = up(ref) {
		lo, hi := Limits(ref, now)
		ara := map[bool]float64{true: 0.35, false: 0.25}[ref <= 200]
		if ref > 5000 {
			ara = 0.20
		}
		if !trade.OnGrid(float64(lo)) || !trade.OnGrid(float64(hi)) || float64(hi) > float64(ref)*(1+ara)+1e-9 || float64(lo) < float64(ref)*0.85-1e-9 && lo != MinPrice || lo > ref || hi < ref {
			t.Fatalf("Limits(%d) = [%d, %d]", ref, lo, hi)
		}
	}
}

// checker follows a stream of trades like the exchange would: the day's reference price is the
// previous day's last trade (the profile's on the first day) and every trade must be on the grid
// and inside Limits. It is independent of the generator's own state.
type checker struct {
	t       *testing.T
	ref     map[string]int64
	last    map[string]int64
	day     map[string]int64
	atLimit int // trades at the day's upper or lower limit
	trades  int
}

func newChecker(t *testing.T, cs []Company) *checker {
	k := &checker{t: t, ref: map[string]int64{}, last: map[string]int64{}, day: map[string]int64{}}
	for _, c := range cs {
		k.last[c.Ticker] = SnapDown(c.RefPrice)
	}
	return k
}

func (k *checker) check(tr trade.Trade) {
	k.t.Helper()
	p := int64(tr.Price)
	if float64(p) != tr.Price || !trade.OnGrid(float64(p)) || p < MinPrice {
		k.t.Fatalf("%s price %v is not on the IDX grid", tr.Ticker, tr.Price)
	}
	if d := session.JakartaDay(tr.CreatedAt); d != k.day[tr.Ticker] {
		k.day[tr.Ticker], k.ref[tr.Ticker] = d, k.last[tr.Ticker]
	}
	lo, hi := Limits(k.ref[tr.Ticker], tr.CreatedAt)
	if p < lo || p > hi {
		k.t.Fatalf("%s at %v: price %d outside the day's band [%d, %d] (reference %d)",
			tr.Ticker, tr.CreatedAt.In(session.Jakarta), p, lo, hi, k.ref[tr.Ticker])
	}
	if p == lo || p == hi {
		k.atLimit++
	}
	k.trades++
	k.last[tr.Ticker] = p
}

// run generates a round every step inside the sessions of sched from from to until and passes
// each trade to fn.
func run(g *Generator, from, until time.Time, step time.Duration, fn func(trade.Trade)) {
	var ts []trade.Trade
	n := len(g.Companies())
	for at := from; at.Before(until); {
		w := g.Schedule().Window(at)
		if !w.Contains(at) {
			at = w.Open
			continue
		}
		ts = g.Round(ts[:0], at, n)
		for _, tr := range ts {
			fn(tr)
		}
		at = at.Add(step)
	}
}

func TestGeneratorTrades(t *testing.T) {
	cs := testCompanies()
	for _, tc := range []struct {
		name       string
		opts       Options
		step       time.Duration
		days       int
		wantLimits bool
	}{
		{"idx sessions, default volatility", Options{Schedule: session.IDX()}, 20 * time.Second, 70, false},
		{"idx sessions, volatility x8 reaches the limits", Options{Schedule: session.IDX(), Volatility: 8}, 20 * time.Second, 70, true},
		{"continuous, volatility x8", Options{Volatility: 8}, 2 * time.Minute, 30, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := New(cs, 42, tc.opts)
			k := newChecker(t, cs)
			from := wib(11, 23, 9, 0).Add(123456789 * time.Nanosecond)
			run(g, from, from.AddDate(0, 0, tc.days), tc.step, func(tr trade.Trade) {
				k.check(tr)
				c := cs[slices.IndexFunc(cs, func(c Company) bool { return c.Ticker == tr.Ticker })]
				switch {
				case tr.Sector != c.Sector:
					t.Fatalf("%s sector %q, want %q", tr.Ticker, tr.Sector, c.Sector)
				case tr.Volume <= 0 || tr.Volume%trade.Lot != 0 || tr.Volume > MaxLots*trade.Lot:
					t.Fatalf("%s volume %d is not 1..%d whole lots", tr.Ticker, tr.Volume, MaxLots)
				case tr.MarketCap != tr.Price*float64(c.Shares):
					t.Fatalf("%s market cap %v, want %v", tr.Ticker, tr.MarketCap, tr.Price*float64(c.Shares))
				case tr.CreatedAt.Location() != time.UTC || tr.CreatedAt.Nanosecond()%1000 != 0:
					t.Fatalf("created_at %v: want UTC, whole microseconds", tr.CreatedAt)
				case !g.Schedule().Window(tr.CreatedAt).Contains(tr.CreatedAt):
					t.Fatalf("trade at %v, outside the sessions", tr.CreatedAt.In(session.Jakarta))
				case tr.ID != 0:
					t.Fatalf("generator set id %d", tr.ID)
				}
				tr.ID = 1
				if err := trade.Validate(tr, tr.CreatedAt, Reference(cs)); err != nil {
					t.Fatalf("invalid trade %+v: %v", tr, err)
				}
			})
			t.Logf("%d trades, %d at a limit", k.trades, k.atLimit)
			if tc.wantLimits && k.atLimit == 0 {
				t.Error("no trade at a limit: the band was never exercised")
			}
			// Mean reversion keeps prices within a plausible range of the reference.
			for i, c := range cs {
				if tc.opts.Volatility != 0 {
					break
				}
				if r := float64(g.Price(i)) / float64(c.RefPrice); r < 0.25 || r > 4 {
					t.Errorf("%s drifted from %d to %d", c.Ticker, c.RefPrice, g.Price(i))
				}
			}
		})
	}
}

// With the default volatility a typical day moves a few percent and a limit day is rare, whatever
// the number of trades per second.
func TestDailyMoves(t *testing.T) {
	cs := testCompanies()
	for _, step := range []time.Duration{time.Second, time.Minute} {
		t.Run(step.String(), func(t *testing.T) {
			g := New(cs, 7, Options{Schedule: session.IDX()})
			closes := map[string][]float64{}
			lastDay := map[string]int64{}
			var moves []float64
			limitDays := 0
			days := 60
			if step == time.Minute {
				days = 500
			}
			run(g, wib(11, 23, 9, 0), wib(11, 23, 9, 0).AddDate(0, 0, days), step, func(tr trade.Trade) {
				d := session.JakartaDay(tr.CreatedAt)
				if d != lastDay[tr.Ticker] {
					closes[tr.Ticker] = append(closes[tr.Ticker], tr.Price)
					lastDay[tr.Ticker] = d
				} else {
					closes[tr.Ticker][len(closes[tr.Ticker])-1] = tr.Price
				}
			})
			for _, c := range cs {
				cl := append([]float64{float64(c.RefPrice)}, closes[c.Ticker]...)
				for j := 1; j < len(cl); j++ {
					m := math.Abs(cl[j]/cl[j-1] - 1)
					moves = append(moves, m)
					if lo, hi := Limits(int64(cl[j-1]), wib(11, 23, 9, 0)); cl[j] == float64(lo) || cl[j] == float64(hi) {
						limitDays++
					}
				}
			}
			slices.Sort(moves)
			median, p99 := moves[len(moves)/2], moves[len(moves)*99/100]
			t.Logf("%d company-days: median |move| %.2f%%, 99th percentile %.2f%%, %d limit closes", len(moves), 100*median, 100*p99, limitDays)
			if median < 0.004 || median > 0.03 {
				t.Errorf("median daily move %.2f%%, want a few percent at most", 100*median)
			}
			if p99 > 0.15 {
				t.Errorf("99th percentile of daily moves %.2f%%: limit moves are not rare", 100*p99)
			}
			if float64(limitDays) > 0.01*float64(len(moves)) {
				t.Errorf("%d limit closes in %d company-days", limitDays, len(moves))
			}
		})
	}
}

func TestStartPrices(t *testing.T) {
	cs := append(testCompanies(), Company{"ZZZZ", "No Reference", "Financials", 1e9, 0}, Company{"ODDP", "Off Grid", "Energy", 1e9, 5012})
	g := New(cs, 3, Options{Schedule: session.IDX()})
	want := []int64{9400, 68, 25000, 1700, FallbackRefPrice, 5000}
	for i, c := range g.Companies() {
		if g.Price(i) != want[i] {
			t.Errorf("%s starts at %d, want %d (profile reference price %d)", c.Ticker, g.Price(i), want[i], c.RefPrice)
		}
	}
	if got := WithoutRefPrice(cs); !slices.Equal(got, []string{"ZZZZ"}) {
		t.Errorf("WithoutRefPrice = %v, want [ZZZZ]", got)
	}
	// The first trades are within a tick of the reference, and the first day's band is around it.
	ts := g.Round(nil, wib(11, 23, 9, 0), len(cs))
	for i, tr := range ts {
		if d := int64(tr.Price) - want[i]; d < -trade.TickSize(want[i]-1) || d > trade.TickSize(want[i]) {
			t.Errorf("%s first trade at %v, want within a tick of %d", tr.Ticker, tr.Price, want[i])
		}
		if lo, hi := g.Band(i); g.Reference(i) != want[i] || lo >= want[i] || hi <= want[i] {
			t.Errorf("%s: reference %d band [%d, %d], want the band around %d", tr.Ticker, g.Reference(i), lo, hi, want[i])
		}
	}
	// The start price does not depend on the seed.
	other := New(cs, 99, Options{})
	for i, c := range cs {
		if other.Price(i) != want[i] {
			t.Errorf("%s starts at %d with another seed, want %d", c.Ticker, other.Price(i), want[i])
		}
	}
}

// The next day's reference price is the previous day's last trade.
func TestReferenceIsPreviousClose(t *testing.T) {
	cs := testCompanies()
	g := New(cs, 5, Options{Schedule: session.IDX(), Volatility: 4})
	var ts []trade.Trade
	for at := wib(11, 27, 14, 0); at.Before(wib(11, 27, 15, 50)); at = at.Add(time.Minute) {
		ts = g.Round(ts[:0], at, len(cs)) // Friday afternoon
	}
	closes := make([]int64, len(cs))
	for i := range cs {
		closes[i] = g.Price(i)
	}
	ts = g.Round(ts[:0], wib(11, 30, 9, 0), len(cs)) // Monday
	for i, c := range cs {
		lo, hi := Limits(closes[i], wib(11, 30, 9, 0))
		if g.Reference(i) != closes[i] {
			t.Errorf("%s: Monday's reference %d, want Friday's close %d", c.Ticker, g.Reference(i), closes[i])
		}
		if glo, ghi := g.Band(i); glo != lo || ghi != hi {
			t.Errorf("%s: band [%d, %d], want [%d, %d]", c.Ticker, glo, ghi, lo, hi)
		}
	}
}

func TestLots(t *testing.T) {
	g := New(testCompanies(), 11, Options{})
	const n = 1_000_000
	lots := make([]int64, n)
	for i := range lots {
		lots[i] = g.lots()
	}
	slices.Sort(lots)
	over := func(x int64) float64 {
		i, _ := slices.BinarySearch(lots, x+1)
		return float64(n-i) / n
	}
	t.Logf("median %d lots, >100: %.4f, >1000: %.5f, max %d", lots[n/2], over(100), over(1000), lots[n-1])
	if lots[0] < 1 || lots[n-1] > MaxLots {
		t.Errorf("lots from %d to %d, want 1 to %d", lots[0], lots[n-1], MaxLots)
	}
	if m := lots[n/2]; m < 2 || m > 8 {
		t.Errorf("median %d lots, want a few", m)
	}
	if f := over(100); f < 0.005 || f > 0.03 {
		t.Errorf("%.4f of trades above 100 lots, want about 1/70", f)
	}
	if f := over(1000); f < 1e-4 || f > 1.5e-3 {
		t.Errorf("%.5f of trades above 1,000 lots, want about 1/2000", f)
	}
	if f := over(10000); f == 0 {
		t.Error("no trade above 10,000 lots in a million: the tail is not heavy")
	}
}

func TestGeneratorMovesPrices(t *testing.T) {
	g := New(testCompanies(), 7, Options{})
	start := g.Price(0)
	moved := false
	at := wib(11, 23, 10, 0)
	for r := range 200 {
		g.Round(nil, at.Add(time.Duration(r)*time.Second), 4)
		moved = moved || g.Price(0) != start
	}
	if !moved {
		t.Error("price of company 0 never moved in 200 rounds")
	}
}

func TestGeneratorReproducible(t *testing.T) {
	at := wib(11, 23, 9, 0)
	run := func(seed uint64) []trade.Trade {
		g := New(testCompanies(), seed, Options{Schedule: session.IDX()})
		var ts []trade.Trade
		for r := range 2000 {
			ts = g.Round(ts, at.Add(time.Duration(r)*3*time.Second), 4)
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
	g := New(testCompanies(), 1, Options{})
	ts := g.Round(nil, wib(11, 23, 9, 0), 2)
	if len(ts) != 2 || ts[0].Ticker != "BBCA" || ts[1].Ticker != "GOTO" {
		t.Errorf("partial round = %+v, want BBCA and GOTO", ts)
	}
}

// BenchmarkRound measures the model alone: one round of 24 companies (the producer's default, one
// trade each) per op, 100µs of trading time apart (240,000 trades/s), with the per-trade cost
// reported as ns/trade.
func BenchmarkRound(b *testing.B) {
	cs := make([]Company, 24)
	for i := range cs {
		cs[i] = testCompanies()[i%4]
	}
	for _, sched := range []session.Schedule{session.Continuous(), session.IDX()} {
		b.Run(sched.Name(), func(b *testing.B) {
			g := New(cs, 1, Options{Schedule: sched})
			at := wib(11, 23, 9, 0)
			buf := make([]trade.Trade, 0, len(cs))
			b.ReportAllocs()
			for b.Loop() {
				buf = g.Round(buf[:0], at, len(cs))
				at = at.Add(100 * time.Microsecond)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cs)), "ns/trade")
		})
	}
}

// The series used for small steps of the fair value stays equal to exp of the log state.
func TestFairPriceSeries(t *testing.T) {
	g := New(testCompanies(), 13, Options{})
	at := wib(11, 23, 0, 0)
	var ts []trade.Trade
	for range 1_000_000 { // 1,000 s of trading per company, within one day
		ts = g.Round(ts[:0], at, 4)
		at = at.Add(time.Millisecond)
	}
	for i, s := range g.stocks {
		if exact := math.Exp(s.fair); math.Abs(s.fairPrice/exact-1) > 1e-9 {
			t.Errorf("%s: fair price %v, exp(fair) %v", g.companies[i].Ticker, s.fairPrice, exact)
		}
	}
}
