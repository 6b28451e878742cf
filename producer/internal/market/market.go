// Package market simulates trades on the Indonesia Stock Exchange (IDX): a seeded random walk of
// each company's price on the IDX price-fraction grid, volumes in whole lots, and market cap.
//
// The model is pure (no I/O, no clock): given the same companies, seed and times it produces the
// same trades, so a run can be reproduced. It does not assign ids (see package ids).
//
// IDX rules used (the exchange's five-band price fractions; the 100-share lot in force since
// January 2014): price fraction 1 below Rp 200; 2 from Rp 200 to below 500; 5 from Rp 500 to
// below 2,000; 10 from Rp 2,000 to below 5,000; 25 from Rp 5,000. The regular market's lowest
// price is Rp 50. The largest order is 50,000 lots.
package market

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"

	"idxstream/trade"
)

// Limits of the simulation.
const (
	MinPrice = 50    // lowest price on the IDX regular market, rupiah
	MaxLots  = 50000 // largest order on the IDX, lots
)

// Company is one row of MySQL trading.profile.
type Company struct {
	Ticker string
	Name   string
	Sector string
	Shares int64 // listed shares; market cap = price × Shares
}

// TickSize returns the IDX price fraction (tick size) for a price in rupiah.
func TickSize(price int64) int64 {
	switch {
	case price < 200:
		return 1
	case price < 500:
		return 2
	case price < 2000:
		return 5
	case price < 5000:
		return 10
	default:
		return 25
	}
}

// OnGrid reports whether price is a positive multiple of its band's price fraction.
func OnGrid(price int64) bool {
	return price > 0 && price%TickSize(price) == 0
}

// SnapDown returns the largest price on the grid that is <= price (and >= 1).
func SnapDown(price int64) int64 {
	if price < 1 {
		return 1
	}
	return price - price%TickSize(price)
}

// up and down move one tick. The band boundaries (200, 500, 2000, 5000) are multiples of the
// fractions above them, so a price on the grid stays on the grid.
func up(p int64) int64   { return p + TickSize(p) }
func down(p int64) int64 { return p - TickSize(p-1) }

// Generator produces rounds of trades, one per company, advancing each price by a random walk.
// It is not safe for concurrent use.
type Generator struct {
	rng       *rand.Rand
	companies []Company
	prices    []int64 // current price per company, on the grid
	refs      []float64
}

// New returns a generator for the companies, seeded with seed (PCG). Start prices are drawn so
// that market caps fall between about Rp 5 trillion and Rp 1,200 trillion, like IDX large caps;
// they depend on the ticker only, not on the seed, so that a restarted producer (new seed) trades
// each company around the same price as before instead of jumping to another one. The same
// companies (in the same order) and seed give the same trades.
func New(companies []Company, seed uint64) *Generator {
	g := &Generator{
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		companies: append([]Company(nil), companies...),
		prices:    make([]int64, len(companies)),
		refs:      make([]float64, len(companies)),
	}
	for i, c := range companies {
		h := fnv.New64a()
		h.Write([]byte(c.Ticker)) //nolint:errcheck // hash writes never fail
		start := rand.New(rand.NewPCG(h.Sum64(), 0x5eed))
		logCap := math.Log(5e12) + start.Float64()*(math.Log(1.2e15)-math.Log(5e12))
		p := math.Exp(logCap) / float64(max(c.Shares, 1))
		price := SnapDown(int64(min(max(p, MinPrice), 50000)))
		g.prices[i] = max(price, MinPrice)
		g.refs[i] = float64(g.prices[i])
	}
	return g
}

// Companies returns the companies in generation order (shared; do not modify).
func (g *Generator) Companies() []Company { return g.companies }

// Price returns the current price of company i.
func (g *Generator) Price(i int) int64 { return g.prices[i] }

// Round appends one trade for each of the first n companies (n <= len(Companies())) to dst,
// all created at the given time (truncated to microseconds, UTC), and returns the extended
// slice. IDs are left zero.
func (g *Generator) Round(dst []trade.Trade, at time.Time, n int) []trade.Trade {
	at = at.UTC().Truncate(time.Microsecond)
	for i := range g.companies[:n] {
		c := &g.companies[i]
		p := g.step(i)
		lots := g.lots()
		dst = append(dst, trade.Trade{
			Ticker:    c.Ticker,
			CreatedAt: at,
			Price:     float64(p),
			MarketCap: float64(p) * float64(c.Shares),
			Volume:    lots * trade.Lot,
			Sector:    c.Sector,
		})
	}
	return dst
}

// step moves company i's price: unchanged 40% of the time, otherwise one tick (80%) or two
// ticks (20%), up with a probability that leans back toward the start price (mean reversion), so
// that long runs stay plausible. It never goes below MinPrice.
func (g *Generator) step(i int) int64 {
	p := g.prices[i]
	r := g.rng.Float64()
	if r < 0.4 {
		return p
	}
	ticks := 1
	if r > 0.88 {
		ticks = 2
	}
	pUp := 0.5 - 0.25*math.Log(float64(p)/g.refs[i])
	pUp = min(max(pUp, 0.2), 0.8)
	goUp := g.rng.Float64() < pUp
	for range ticks {
		if goUp {
			p = up(p)
		} else if q := down(p); q >= MinPrice {
			p = q
		}
	}
	g.prices[i] = p
	return p
}

// lots draws an order size: log-normal with a median of about 12 lots, 1 to MaxLots.
func (g *Generator) lots() int64 {
	l := int64(math.Round(math.Exp(2.5 + 1.3*g.rng.NormFloat64())))
	return min(max(l, 1), MaxLots)
}
