// Package market holds the values the dashboard reads from the databases and shows: sector
// volumes, trades, price series, movers and pipeline freshness. It has no I/O; the stores fill
// these types and the web layer renders them.
package market

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// SectorVolume is one row of the MySQL view volume_today: the shares traded today (market date)
// in one sector.
type SectorVolume struct {
	Sector      string `json:"sector"`
	TotalVolume int64  `json:"total_volume"`
}

// SortVolumes orders volumes from the largest to the smallest, ties by sector name, in place.
func SortVolumes(v []SectorVolume) {
	slices.SortFunc(v, func(a, b SectorVolume) int {
		if c := cmp.Compare(b.TotalVolume, a.TotalVolume); c != 0 {
			return c
		}
		return cmp.Compare(a.Sector, b.Sector)
	})
}

// TimelinePoint is one row of the MySQL view volume_timeline_today: the volume a sector traded in
// one minute (UTC) of processing.
type TimelinePoint struct {
	Sector      string    `json:"sector"`
	Minute      time.Time `json:"minute"`
	TotalVolume int64     `json:"total_volume"`
}

// Trade is one raw trade as the dashboard shows it (from Cassandra's trades_by_ticker).
type Trade struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Ticker    string    `json:"ticker"`
	Sector    string    `json:"sector"`
	Volume    int64     `json:"volume"`
	Price     float64   `json:"price"`
}

// SortTrades orders trades from the newest to the oldest, ties by descending id, in place.
func SortTrades(t []Trade) {
	slices.SortFunc(t, func(a, b Trade) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

// PricePoint is one trade's price at one time.
type PricePoint struct {
	At    time.Time `json:"at"`
	Price float64   `json:"price"`
}

// TickerSeries is a ticker's trading today (market date) from Cassandra's trades_by_ticker: the
// day's first trade price (Open) and its most recent trades, oldest first.
type TickerSeries struct {
	Ticker  string       `json:"ticker"`
	Sector  string       `json:"sector,omitempty"`
	Open    float64      `json:"open"`
	Points  []PricePoint `json:"points"`
	Volume  int64        `json:"volume_recent"`
	Updated time.Time    `json:"updated"`
}

// Last returns the most recent price, or Open when the series has no points.
func (s TickerSeries) Last() float64 {
	if len(s.Points) == 0 {
		return s.Open
	}
	return s.Points[len(s.Points)-1].Price
}

// Mover is a ticker's price change since the day's first trade.
type Mover struct {
	Ticker        string  `json:"ticker"`
	Sector        string  `json:"sector,omitempty"`
	Open          float64 `json:"open"`
	Last          float64 `json:"last"`
	Change        float64 `json:"change"`
	ChangePercent float64 `json:"change_percent"`
}

// Movers computes each series' change since its open, ordered by the size of the percentage
// change (largest first, ties by ticker). Series without any trade today are left out.
func Movers(series []TickerSeries) []Mover {
	out := make([]Mover, 0, len(series))
	for _, s := range series {
		if s.Open <= 0 || len(s.Points) == 0 {
			continue
		}
		last := s.Last()
		m := Mover{Ticker: s.Ticker, Sector: s.Sector, Open: s.Open, Last: last, Change: last - s.Open}
		m.ChangePercent = math.Round(m.Change/s.Open*100*100) / 100
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Mover) int {
		if c := cmp.Compare(math.Abs(b.ChangePercent), math.Abs(a.ChangePercent)); c != 0 {
			return c
		}
		return cmp.Compare(a.Ticker, b.Ticker)
	})
	return out
}

// Company is one row of MySQL's profile table, as far as the dashboard needs it.
type Company struct {
	Ticker string `json:"ticker"`
	Name   string `json:"name"`
	Sector string `json:"sector"`
}

// Batch is the MySQL view last_batch: the newest committed micro-batch of the aggregate path.
// Zero values mean that no batch has been committed yet.
type Batch struct {
	ID          int64     `json:"batch_id"`
	CommittedAt time.Time `json:"committed_at"`
}

// Aggregate path states (AggregateHealth).
const (
	AggregateOK      = "ok"      // the last batch committed within StallTriggers triggers
	AggregateIdle    = "idle"    // older, but no trade arrived since: nothing to aggregate
	AggregateStalled = "stalled" // older, and trades arrived since that wait to be aggregated
	AggregateNone    = "none"    // no batch committed yet
)

// StallTriggers is how many aggregate triggers may pass after the last committed batch before
// the aggregate path counts as stalled (when trades wait).
const StallTriggers = 3

// AggregateHealth judges the aggregate path from the newest committed batch b, the creation time
// of the newest trade the dashboard knows (zero: none), the path's trigger (JOB_AGG_TRIGGER) and
// now. A batch older than StallTriggers triggers means a stall only if trades arrived after it:
// with the market closed nothing arrives, nothing is committed, and that is not a fault.
func AggregateHealth(b Batch, newestTrade time.Time, trigger time.Duration, now time.Time) (state, reason string) {
	if b.CommittedAt.IsZero() {
		return AggregateNone, ""
	}
	if now.Sub(b.CommittedAt) <= StallTriggers*trigger {
		return AggregateOK, ""
	}
	// No relative times in the reason: the page keeps ages current itself, and a reason is only
	// re-rendered when data changes.
	head := fmt.Sprintf("no batch committed for more than %d × the %s aggregate trigger", StallTriggers, trigger)
	if !newestTrade.After(b.CommittedAt) {
		return AggregateIdle, head + "; no trade arrived since, so nothing waits"
	}
	return AggregateStalled, head + " although trades arrived since"
}
