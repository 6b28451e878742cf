// Package check states the product's guarantees once, for every suite that runs the pipeline:
//
//   - every trade exactly once in each Cassandra table the job writes (real_time_data and the
//     dashboard's trades_by_ticker), with its values: whole tables are counted, so a duplicate or
//     a stray row fails as surely as a missing one;
//   - MySQL's volume and trade count per (market date, sector), over every row the views read,
//     equal to the trades';
//   - every bad element in rejects with its reason.
//
// The checks read a namespace of the test's own (testkit.Suite.FreshNamespace), so the tables
// hold only what the test produced. Each returns an error that says what differs; callers poll
// them with testkit.Eventually while the pipeline catches up.
package check

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"idxstream/trade"
)

// Trades checks real_time_data: exactly the trades, each once, with equal values (created_at to
// the millisecond, Cassandra's resolution).
func Trades(ctx context.Context, s *gocql.Session, want []trade.Trade) error {
	byID, err := uniqueIDs(want)
	if err != nil {
		return err
	}
	var n, wrong int
	var first string
	err = eachStored(ctx, s, func(g trade.Trade) {
		n++
		w, ok := byID[g.ID]
		if ok && sameTrade(g, w) {
			return
		}
		wrong++
		if first == "" {
			if ok {
				first = fmt.Sprintf("trade %d: stored %+v, want %+v", g.ID, g, w)
			} else {
				first = fmt.Sprintf("trade %d is stored but was never produced", g.ID)
			}
		}
	})
	if err != nil {
		return err
	}
	if n != len(want) || wrong > 0 {
		return fmt.Errorf("real_time_data holds %d rows for %d trades, %d of them wrong or foreign (first: %s)", n, len(want), wrong, orNone(first))
	}
	return nil
}

// eachStored calls f with every row of real_time_data.
func eachStored(ctx context.Context, s *gocql.Session, f func(trade.Trade)) error {
	it := s.Query(`SELECT id, created_at, ticker, sector, volume, market_cap, price FROM real_time_data`).
		PageSize(5000).IterContext(ctx)
	var g trade.Trade
	for it.Scan(&g.ID, &g.CreatedAt, &g.Ticker, &g.Sector, &g.Volume, &g.MarketCap, &g.Price) {
		f(g)
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("read real_time_data: %w", err)
	}
	return nil
}

// TradesSince checks real_time_data when its rows expire (a TTL): every row is a trade of
// produced with its values, and every produced trade created at or after since is there. Rows
// older than since may or may not have expired yet.
func TradesSince(ctx context.Context, s *gocql.Session, produced []trade.Trade, since time.Time) error {
	byID, err := uniqueIDs(produced)
	if err != nil {
		return err
	}
	var wrong int
	var first string
	present := make(map[int64]bool, len(produced))
	err = eachStored(ctx, s, func(g trade.Trade) {
		w, ok := byID[g.ID]
		if ok && sameTrade(g, w) && !present[g.ID] {
			present[g.ID] = true
			return
		}
		wrong++
		if first == "" {
			first = fmt.Sprintf("trade %d: stored %+v, produced %+v (produced: %v)", g.ID, g, w, ok)
		}
	})
	if err != nil {
		return err
	}
	var missing, recent int
	for _, w := range produced {
		if w.CreatedAt.Before(since) {
			continue
		}
		recent++
		if !present[w.ID] {
			missing++
		}
	}
	if wrong > 0 || missing > 0 {
		return fmt.Errorf("real_time_data: %d of the %d trades since %s missing, %d rows wrong or foreign (first: %s)",
			missing, recent, since.Format(time.RFC3339), wrong, orNone(first))
	}
	return nil
}

// TradesByTicker checks the dashboard's table: one row per trade in its (ticker, market date)
// partition with its time, price and volume, and no other row.
func TradesByTicker(ctx context.Context, s *gocql.Session, want []trade.Trade, zone *time.Location) error {
	byID, err := uniqueIDs(want)
	if err != nil {
		return err
	}
	it := s.Query(`SELECT ticker, day, created_at, id, price, volume FROM trades_by_ticker`).PageSize(5000).IterContext(ctx)
	var ticker string
	var day, created time.Time
	var id, volume int64
	var price float64
	seen := make(map[int64]int, len(want))
	var n, wrong int
	var first string
	for it.Scan(&ticker, &day, &created, &id, &price, &volume) {
		n++
		seen[id]++
		w, ok := byID[id]
		if ok && w.Ticker == ticker && day.Format(time.DateOnly) == w.CreatedAt.In(zone).Format(time.DateOnly) &&
			created.Equal(w.CreatedAt.Truncate(time.Millisecond)) && price == w.Price && volume == w.Volume {
			continue
		}
		wrong++
		if first == "" {
			first = fmt.Sprintf("row (%s, %s, %s, %d, %v, %d) does not match a produced trade", ticker, day.Format(time.DateOnly), created.UTC().Format(time.RFC3339Nano), id, price, volume)
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("read trades_by_ticker: %w", err)
	}
	var twice []string
	for id, c := range seen {
		if c > 1 && len(twice) < 5 {
			twice = append(twice, fmt.Sprintf("%d×%d", id, c))
		}
	}
	if n != len(want) || wrong > 0 || len(twice) > 0 {
		return fmt.Errorf("trades_by_ticker holds %d rows for %d trades, %d wrong or foreign (first: %s), repeated ids: %s",
			n, len(want), wrong, orNone(first), orNone(strings.Join(twice, " ")))
	}
	return nil
}

// DateSector is one row of the aggregate: a market date (YYYY-MM-DD) and a sector.
type DateSector struct{ Date, Sector string }

// Sum is the volume and the number of trades behind it.
type Sum struct{ Volume, Trades int64 }

// ExpectedTotals is what the aggregate path must hold for the trades: volume and trade count per
// market date (in zone) and sector.
func ExpectedTotals(ts []trade.Trade, zone *time.Location) map[DateSector]Sum {
	out := map[DateSector]Sum{}
	for _, t := range ts {
		k := DateSector{t.CreatedAt.In(zone).Format(time.DateOnly), t.Sector}
		s := out[k]
		s.Volume += t.Volume
		s.Trades++
		out[k] = s
	}
	return out
}

// MySQLTotals reads the aggregate as the views read it: every row of aggregated_data.
func MySQLTotals(ctx context.Context, db *sql.DB) (map[DateSector]Sum, error) {
	rows, err := db.QueryContext(ctx, "SELECT DATE_FORMAT(`date`, '%Y-%m-%d'), sector, SUM(total_volume), SUM(trades) FROM aggregated_data GROUP BY 1, 2")
	if err != nil {
		return nil, fmt.Errorf("read aggregated_data: %w", err)
	}
	defer rows.Close()
	out := map[DateSector]Sum{}
	for rows.Next() {
		var k DateSector
		var s Sum
		if err := rows.Scan(&k.Date, &k.Sector, &s.Volume, &s.Trades); err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, rows.Err()
}

// Totals checks that MySQL's volume and trade count per (market date, sector) equal the trades'.
func Totals(ctx context.Context, db *sql.DB, want []trade.Trade, zone *time.Location) error {
	got, err := MySQLTotals(ctx, db)
	if err != nil {
		return err
	}
	return DiffTotals(got, ExpectedTotals(want, zone))
}

// DiffTotals says where got differs from want.
func DiffTotals(got, want map[DateSector]Sum) error {
	var d []string
	for k, w := range want {
		if g := got[k]; g != w {
			d = append(d, fmt.Sprintf("%s/%s: volume %d in %d trades, want %d in %d", k.Date, k.Sector, g.Volume, g.Trades, w.Volume, w.Trades))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%s/%s: volume %d in %d trades, want none", k.Date, k.Sector, g.Volume, g.Trades))
		}
	}
	if len(d) == 0 {
		return nil
	}
	sort.Strings(d)
	return fmt.Errorf("MySQL volume per (date, sector) differs: %s", strings.Join(d, "; "))
}

// Reject is one row of the rejects table.
type Reject struct {
	Topic     string
	Partition int32
	Offset    int64
	Element   int
	Reason    string
	Raw       string
}

// Rejects reads the whole rejects table of the session's keyspace.
func Rejects(ctx context.Context, s *gocql.Session) ([]Reject, error) {
	it := s.Query(`SELECT topic, kafka_partition, kafka_offset, element, reason, raw FROM rejects`).IterContext(ctx)
	var out []Reject
	var r Reject
	for it.Scan(&r.Topic, &r.Partition, &r.Offset, &r.Element, &r.Reason, &r.Raw) {
		out = append(out, r)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("read rejects: %w", err)
	}
	return out, nil
}

// RejectReasons checks that rejects holds exactly want: reason -> number of elements.
func RejectReasons(ctx context.Context, s *gocql.Session, want map[string]int) error {
	rs, err := Rejects(ctx, s)
	if err != nil {
		return err
	}
	got := map[string]int{}
	for _, r := range rs {
		got[r.Reason]++
	}
	var d []string
	for reason, n := range want {
		if got[reason] != n {
			d = append(d, fmt.Sprintf("%q: %d, want %d", reason, got[reason], n))
		}
	}
	for reason, n := range got {
		if _, ok := want[reason]; !ok {
			d = append(d, fmt.Sprintf("%q: %d, want none", reason, n))
		}
	}
	if len(d) > 0 {
		sort.Strings(d)
		return fmt.Errorf("rejects by reason differ: %s", strings.Join(d, "; "))
	}
	return nil
}

func uniqueIDs(ts []trade.Trade) (map[int64]trade.Trade, error) {
	byID := make(map[int64]trade.Trade, len(ts))
	for _, t := range ts {
		if _, dup := byID[t.ID]; dup {
			return nil, fmt.Errorf("the test produced id %d twice as different trades: fix the test", t.ID)
		}
		byID[t.ID] = t
	}
	return byID, nil
}

func sameTrade(g, w trade.Trade) bool {
	return g.Ticker == w.Ticker && g.Sector == w.Sector && g.Volume == w.Volume && g.Price == w.Price &&
		g.MarketCap == w.MarketCap && g.CreatedAt.Equal(w.CreatedAt.Truncate(time.Millisecond))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
