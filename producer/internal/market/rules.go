package market

import (
	"time"

	"idxstream/producer/internal/session"
	"idxstream/trade"
)

// Limits of the IDX regular market that the simulation keeps.
const (
	// MinPrice is the lowest price of the regular market for stocks on the main, development and
	// new-economy boards, rupiah.
	MinPrice = 50
	// MaxLots is the largest order the IDX accepts, lots: 50,000 lots or 5% of the listed shares,
	// whichever is less (source: EFG Hermes, "Market Information: Indonesian Stock Exchange",
	// volume order limit). For every sample company 5% of the shares is far above 50,000 lots.
	MaxLots = 50000
)

// SnapDown returns the largest price on the grid that is <= price (and >= 1).
func SnapDown(price int64) int64 {
	if price < 1 {
		return 1
	}
	return price - price%trade.TickSize(price)
}

// SnapUp returns the smallest price on the grid that is >= price (and >= 1).
func SnapUp(price int64) int64 {
	q := SnapDown(price)
	if q < price {
		return up(q)
	}
	return q
}

// up and down move one tick. The band boundaries (200, 500, 2000, 5000) are multiples of the
// fractions above them, so a price on the grid stays on the grid.
func up(p int64) int64   { return p + trade.TickSize(p) }
func down(p int64) int64 { return p - trade.TickSize(p-1) }

// autoRejection is one regime of the IDX's auto-rejection limits: the percentages above (ARA) and
// below (ARB) the reference price that an order may not exceed, by the reference price's range
// (Rp 50-200, above 200 to 5,000, above 5,000).
type autoRejection struct {
	from         int64 // first trading day in force, days since 1970-01-01 in Jakarta
	upper, lower [3]int64
}

// autoRejections holds the regimes in the order they came into force; see the package
// documentation for their sources. A day before the first entry uses the first entry.
var autoRejections = []autoRejection{
	// Pandemic relaxation, in force until stage I of the normalisation. It began in March 2020;
	// its 7% ARB is the narrowest lower band the IDX has used, so using it for every earlier day
	// never makes a trade that the rule of that day would have refused.
	{from: day(2020, 3, 1), upper: [3]int64{35, 25, 20}, lower: [3]int64{7, 7, 7}},
	// Normalisation stage I (Kep-00055/BEI/03-2023): ARB 15% for every range, ARA unchanged.
	{from: day(2023, 6, 5), upper: [3]int64{35, 25, 20}, lower: [3]int64{15, 15, 15}},
	// Stage II, symmetric auto rejection (Kep-00055/BEI/03-2023).
	{from: day(2023, 9, 4), upper: [3]int64{35, 25, 20}, lower: [3]int64{35, 25, 20}},
	// Kep-00003/BEI/04-2025 of 8 April 2025: ARB 15% for every range again, ARA unchanged.
	{from: day(2025, 4, 8), upper: [3]int64{35, 25, 20}, lower: [3]int64{15, 15, 15}},
}

func day(y int, m time.Month, d int) int64 {
	return session.JakartaDay(time.Date(y, m, d, 0, 0, 0, 0, session.Jakarta))
}

// rulesOn returns the regime in force on trading day d (days since 1970-01-01 in Jakarta).
func rulesOn(d int64) autoRejection {
	r := autoRejections[0]
	for _, x := range autoRejections[1:] {
		if d >= x.from {
			r = x
		}
	}
	return r
}

// limits returns the band [lo, hi] for reference price ref under r.
func (r autoRejection) limits(ref int64) (lo, hi int64) {
	ref = max(ref, MinPrice)
	band := 2
	switch {
	case ref <= 200:
		band = 0
	case ref <= 5000:
		band = 1
	}
	hi = SnapDown(ref * (100 + r.upper[band]) / 100)
	lo = max(SnapUp((ref*(100-r.lower[band])+99)/100), MinPrice)
	return lo, hi
}

// Limits returns the lowest and highest prices the IDX accepts on the trading day that contains
// instant day (its Jakarta date), for a stock whose reference price (the previous day's close) is
// ref rupiah. Both are on the price grid and inside the auto-rejection percentages: the upper
// limit is the highest grid price at or below ref × (1 + ARA), the lower limit the lowest grid
// price at or above ref × (1 − ARB), and never below MinPrice.
func Limits(ref int64, day time.Time) (lo, hi int64) {
	return rulesOn(session.JakartaDay(day)).limits(ref)
}
