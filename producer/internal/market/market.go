// Package market simulates trades on the Indonesia Stock Exchange (IDX): each company's price
// follows a seeded random walk in trading time, starting at its reference price from
// trading.profile, on the IDX price-fraction grid and inside the day's auto-rejection band;
// volumes are whole lots with a heavy tail; market cap is price × listed shares.
//
// The model is pure (no I/O, no clock): given the same companies, seed, options and times it
// produces the same trades, so a run can be reproduced. It does not assign ids (see package ids)
// and does not decide when to trade: the caller passes each round's time, and the schedule (package
// session) only tells the model how much trading time has passed and which trading day it is.
//
// # Price
//
// A company's fair value moves in log space as a mean-reverting random walk per second of
// trading time (an Ornstein-Uhlenbeck process that returns to the profile's reference price with a
// half-life of 20 trading days), plus rare news jumps (on average one per company every 20 trading
// days, Laplace-distributed with a mean size of 3%). The daily volatility depends on the price
// range of the reference price: 3.5% up to Rp 200, 2.2% up to Rp 5,000, 1.6% above, so that a
// typical day moves a stock by a few percent and a limit move is rare. Because the walk runs in
// trading time, the number of trades per second (--rate) changes how finely the path is sampled,
// not how far it goes. Each trade happens at the grid price just below or just above the fair value
// (the bid or the ask), the nearer one more often, so consecutive trades bounce between
// neighbouring ticks as on an exchange's tape.
//
// Trading days are Jakarta calendar dates of the schedule's windows. On the first day of a run the
// reference price is the profile's; on each later day it is the previous day's last trade (the
// close). Every trade of the day lies inside the day's band (see Limits); the fair value is held
// inside it too, so a stock that reaches a limit trades at the limit until the walk turns.
//
// # IDX rules used
//
// Price fractions (tick sizes), five bands: 1 below Rp 200; 2 from Rp 200 to below 500; 5 from Rp
// 500 to below 2,000; 10 from Rp 2,000 to below 5,000; 25 from Rp 5,000. Lots of 100 shares
// (since January 2014). Lowest price Rp 50; largest order 50,000 lots.
//
// Auto rejection: an order priced more than a percentage above (ARA, auto rejection atas) or below
// (ARB, auto rejection bawah) the reference price is refused; the percentage depends on the
// reference price's range, Rp 50-200 / above 200 to 5,000 / above 5,000:
//
//	in force from  ARA           ARB           source
//	(March 2020)   35, 25, 20%   7% all        pandemic relaxation (used for every earlier day, see rules.go)
//	2023-06-05     35, 25, 20%   15% all       normalisation stage I, IDX Decree Kep-00055/BEI/03-2023 (30 March 2023)
//	2023-09-04     35, 25, 20%   35, 25, 20%   stage II, symmetric, same decree
//	2025-04-08     35, 25, 20%   15% all       IDX Decree Kep-00003/BEI/04-2025 (8 April 2025), with OJK
//
// Sources (news pages quoting the IDX's announcements): Kontan, "Jangan Lupa, ARB 15% Mulai
// Berlaku Pekan Depan" (May 2023, IDX press release 027/BEI.SPR/03-2023); Liputan6, "Siap-siap,
// Batasan Auto Rejection Simetris Mulai Berlaku 4 September 2023" (31 August 2023); IDX Channel,
// "Keuntungan ARA dan ARB Simetris" (September 2023, pandemic ARA unchanged with ARB 7%);
// Ragamutama.com, "Auto Rejection Asimetris BEI: IHSG Siap Dibuka dengan Batas Penurunan 15%" (8
// April 2025) and propaganda.id, "Bursa Efek Indonesia Sesuaikan Aturan Perdagangan" (April 2025),
// both naming Kep-00002/BEI/04-2025 and Kep-00003/BEI/04-2025 of 8 April 2025; mediaperbankan.com,
// "ARB Saham Indonesia Berapa Persen? Aturan Terbaru BEI 2025" (September 2025, ARB still 15%). The
// symmetric bands were restored on 4 September 2023, not in 2025; the search found no return to
// them after 8 April 2025 in pages up to September 2025, so the last row is taken to be in force
// today. How the IDX rounds a limit to the grid was not found: the model rounds inwards, which is
// never outside the band whatever the exchange's rounding. Special-monitoring-board stocks, IPO days
// and ETFs have other limits and are not simulated.
//
// Volumes: the tail of the distribution of shares per trade follows a power law with an exponent
// of about 3/2 on the New York, Paris and London exchanges (Plerou, Gopikrishnan, Gabaix, Stanley,
// "On the Origin of Power-Law Fluctuations in Stock Prices", Quantitative Finance 4, 2004). Lots
// here are drawn from a Pareto (Lomax) distribution with that tail: median 4 lots, one trade in
// about 70 above 100 lots, one in 2,000 above 1,000 lots, capped at MaxLots. No IDX-specific
// figure was found; this is the general market regularity.
package market

import (
	"math"
	"math/rand/v2"
	"time"

	"idxstream/producer/internal/session"
	"idxstream/trade"
)

// FallbackRefPrice is the reference price of a company whose profile has none (RefPrice 0), in
// rupiah: a middle price of the Rp 200-5,000 range.
const FallbackRefPrice = 1000

// Company is one row of MySQL trading.profile.
type Company struct {
	Ticker string
	Name   string
	Sector string
	Shares int64 // listed shares; market cap = price × Shares
	// RefPrice is profile.reference_price, rupiah: the first simulated day's reference price and
	// the level the walk returns to. 0 means unknown: FallbackRefPrice is used.
	RefPrice int64
}

// Options tune a Generator. The zero value is the default.
type Options struct {
	// Schedule says when the market trades; nil means session.Continuous().
	Schedule session.Schedule
	// Volatility multiplies the default daily volatilities and jump sizes; 0 means 1.
	Volatility float64
}

// Parameters of the walk (see the package documentation).
const (
	halfLifeDays = 20.0 // mean reversion to the profile's reference price
	jumpEvery    = 20.0 // trading days between news jumps of one company, on average
	jumpMean     = 0.03 // mean absolute size of a jump, in log price
	lotScale     = 6.0  // Lomax scale of the lot distribution
	lotTail      = 1.5  // its tail exponent
)

// dailyVol returns the daily volatility (in log price) for a reference price, by the ranges of the
// auto-rejection bands: cheap stocks move more in percent, and their tick alone is up to 2% of the
// price. With the jumps, these give a median absolute daily move of about 1.5% and a 99th
// percentile of 6-8%, well inside the 15% ARB (TestDailyMoves).
func dailyVol(ref int64) float64 {
	switch {
	case ref <= 200:
		return 0.035
	case ref <= 5000:
		return 0.022
	default:
		return 0.016
	}
}

// stock is the walk's state for one company.
type stock struct {
	anchor    float64 // log of the profile's reference price
	fair      float64 // log of the fair value
	fairPrice float64 // exp(fair)
	sigma     float64 // volatility per square root of a trading second
	untilJump float64 // trading seconds to the next news jump
	logLo     float64 // log(lo): the fair value stays in [logLo, logHi]
	logHi     float64
	ref       int64 // the day's reference price
	lo, hi    int64 // the day's band
	last      int64 // last trade price
}

// Generator produces rounds of trades, one per company. It is not safe for concurrent use.
type Generator struct {
	rng       *rand.Rand
	sched     session.Schedule
	companies []Company
	stocks    []stock
	revert    float64 // mean-reversion rate per trading second
	jumpRate  float64 // jumps per trading second
	jumpMean  float64

	started bool
	window  session.Window // the window of the last round's time, or the next one
	day     int64          // the trading day of the last round
	last    time.Time      // the latest round time seen
}

// New returns a generator for the companies, seeded with seed (PCG). Each company starts at its
// reference price (snapped to the grid, at least MinPrice), which does not depend on the seed, so
// that a restarted producer trades each company around the same price as before. The same
// companies (in the same order), seed, options and round times give the same trades.
func New(companies []Company, seed uint64, opts Options) *Generator {
	if opts.Schedule == nil {
		opts.Schedule = session.Continuous()
	}
	if opts.Volatility <= 0 {
		opts.Volatility = 1
	}
	daySec := opts.Schedule.DayLength().Seconds()
	g := &Generator{
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		sched:     opts.Schedule,
		companies: append([]Company(nil), companies...),
		stocks:    make([]stock, len(companies)),
		revert:    math.Ln2 / (halfLifeDays * daySec),
		jumpRate:  1 / (jumpEvery * daySec),
		jumpMean:  jumpMean * opts.Volatility,
	}
	for i, c := range companies {
		ref := c.RefPrice
		if ref <= 0 {
			ref = FallbackRefPrice
		}
		ref = max(SnapDown(ref), MinPrice)
		x := math.Log(float64(ref))
		g.stocks[i] = stock{
			anchor: x, fair: x, fairPrice: float64(ref),
			sigma:     dailyVol(ref) * opts.Volatility / math.Sqrt(daySec),
			untilJump: g.rng.ExpFloat64() / g.jumpRate,
			ref:       ref, lo: ref, hi: ref, last: ref,
		}
	}
	return g
}

// WithoutRefPrice returns the tickers of the companies that have no reference price, which start
// at FallbackRefPrice.
func WithoutRefPrice(companies []Company) []string {
	var out []string
	for _, c := range companies {
		if c.RefPrice <= 0 {
			out = append(out, c.Ticker)
		}
	}
	return out
}

// Companies returns the companies in generation order (shared; do not modify).
func (g *Generator) Companies() []Company { return g.companies }

// Schedule returns the schedule the generator was built with.
func (g *Generator) Schedule() session.Schedule { return g.sched }

// Price returns the last trade price of company i (its reference price before the first round).
func (g *Generator) Price(i int) int64 { return g.stocks[i].last }

// Reference returns the reference price of company i on the trading day of the last round.
func (g *Generator) Reference(i int) int64 { return g.stocks[i].ref }

// Band returns the lowest and highest price company i may trade at on the trading day of the last
// round (both equal to the reference price before the first round).
func (g *Generator) Band(i int) (lo, hi int64) { return g.stocks[i].lo, g.stocks[i].hi }

// Round appends one trade for each of the first n companies (n <= len(Companies())) to dst,
// all created at the given time (truncated to microseconds, UTC), and returns the extended
// slice. IDs are left zero. The time should fall inside a window of the schedule (the feed only
// trades then); a time before the previous round's moves no price. Companies left out of a partial
// round do not move in it.
func (g *Generator) Round(dst []trade.Trade, at time.Time, n int) []trade.Trade {
	at = at.UTC().Truncate(time.Microsecond)
	dt := g.advance(at)
	// Exact Ornstein-Uhlenbeck step over dt: the distance to the anchor decays by keep, and the
	// noise has the standard deviation sd (per unit of sigma).
	keep, sd := 1.0, 0.0
	if dt > 0 {
		keep = math.Exp(-g.revert * dt)
		sd = math.Sqrt(-math.Expm1(-2*g.revert*dt) / (2 * g.revert))
	}
	for i := range g.companies[:n] {
		c := &g.companies[i]
		p := g.step(&g.stocks[i], dt, keep, sd)
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

// advance moves the clock of the model to at and returns the trading time since the previous
// round, in seconds. When at falls on a new trading day, each company's reference price becomes
// its last price (on the first round, the profile's) and its band is set for the day.
func (g *Generator) advance(at time.Time) float64 {
	if !g.window.Contains(at) {
		g.window = g.sched.Window(at)
	}
	var dt float64
	if g.started && at.After(g.last) {
		if g.window.Contains(g.last) {
			dt = at.Sub(g.last).Seconds()
		} else {
			dt = session.TradingTime(g.sched, g.last, at).Seconds()
		}
		g.last = at
	}
	if d := g.window.Day(); !g.started || d != g.day {
		rules := rulesOn(d)
		for i := range g.stocks {
			s := &g.stocks[i]
			s.ref = s.last
			s.lo, s.hi = rules.limits(s.ref)
			s.logLo, s.logHi = math.Log(float64(s.lo)), math.Log(float64(s.hi))
			s.fairPrice = math.Exp(s.fair)
		}
		g.day = d
	}
	if !g.started {
		g.started, g.last = true, at
	}
	return dt
}

// step advances company s's fair value by dt trading seconds and returns the price of its next
// trade: the grid price just below or just above the fair value, inside the day's band.
func (g *Generator) step(s *stock, dt, keep, sd float64) int64 {
	if dt > 0 {
		x := s.anchor + (s.fair-s.anchor)*keep + s.sigma*sd*g.rng.NormFloat64()
		if s.untilJump -= dt; s.untilJump <= 0 {
			j := g.jumpMean * g.rng.ExpFloat64()
			if g.rng.Uint32()&1 == 0 {
				j = -j
			}
			x += j
			s.untilJump = g.rng.ExpFloat64() / g.jumpRate
		}
		if x < s.logLo || x > s.logHi {
			x = min(max(x, s.logLo), s.logHi)
			s.fairPrice = math.Exp(x)
		} else if d := x - s.fair; d > -1.0/1024 && d < 1.0/1024 {
			// The usual step at producer rates is far below 0.1%: a third-order series of exp(d)
			// (relative error below 1e-13) instead of math.Exp, which would be a quarter of the
			// model's time. The price is recomputed exactly at each clamp and each new day.
			s.fairPrice *= 1 + d*(1+d*(0.5+d*(1.0/6)))
		} else {
			s.fairPrice = math.Exp(x)
		}
		s.fair = x
	}
	// Bid and ask around the fair value; the ask is taken with the probability that makes the
	// expected trade price equal the fair value.
	bid := SnapDown(int64(s.fairPrice))
	p := bid
	if ask := up(bid); g.rng.Float64()*float64(ask-bid) < s.fairPrice-float64(bid) {
		p = ask
	}
	p = min(max(p, s.lo), s.hi)
	s.last = p
	return p
}

// lots draws an order size from a Lomax distribution (median 4 lots, tail exponent 3/2), 1 to
// MaxLots.
func (g *Generator) lots() int64 {
	v := lotScale * (math.Exp(g.rng.ExpFloat64()*(1/lotTail)) - 1)
	if v >= MaxLots {
		return MaxLots
	}
	return max(int64(math.Ceil(v)), 1)
}

// Reference is the contract's view of the companies (trade.Validate): their tickers, sectors and
// listed shares.
func Reference(cs []Company) trade.Reference {
	ref := trade.Reference{MaxSkew: trade.DefaultMaxSkew, Listings: make(map[string]trade.Listing, len(cs))}
	for _, c := range cs {
		ref.Listings[c.Ticker] = trade.Listing{Sector: c.Sector, Shares: c.Shares}
	}
	return ref
}
