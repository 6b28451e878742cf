//go:build integration

package jobtest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"idxstream/trade"
)

// marketZone is the zone of the market date, the one the job is configured with.
func marketZone() *time.Location {
	loc, err := time.LoadLocation(env("MARKET_TZ", "Asia/Jakarta"))
	if err != nil {
		panic(err) // the job would refuse it too; the test cannot go on
	}
	return loc
}

type dateSector struct{ date, sector string }

// expectedSums is what the aggregate path must hold: volume per market date and sector.
func expectedSums(ts []trade.Trade) map[dateSector]int64 {
	out := map[dateSector]int64{}
	for _, tr := range ts {
		out[dateSector{tr.CreatedAt.In(marketZone()).Format("2006-01-02"), tr.Sector}] += tr.Volume
	}
	return out
}

// mysqlSums reads the committed aggregate of the topic.
func (s *stack) mysqlSums(ctx context.Context, topic string) (map[dateSector]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DATE_FORMAT(a.date, '%Y-%m-%d'), a.sector, SUM(a.total_volume)
		FROM aggregated_data a JOIN agg_batches b ON a.batch_id = b.batch_id
		WHERE b.topic = ? AND b.committed_at IS NOT NULL GROUP BY 1, 2`, topic)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[dateSector]int64{}
	for rows.Next() {
		var k dateSector
		var v int64
		if err := rows.Scan(&k.date, &k.sector, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

func diffSums(got, want map[dateSector]int64) error {
	var diffs []string
	for k, w := range want {
		if got[k] != w {
			diffs = append(diffs, fmt.Sprintf("%s/%s: %d, want %d", k.date, k.sector, got[k], w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s/%s: %d, want none", k.date, k.sector, g))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("volume per (date, sector) differs: %s", strings.Join(diffs, "; "))
	}
	return nil
}

// cassandraTrades reads the given ids from real_time_data.
func (s *stack) cassandraTrades(ctx context.Context, ts []trade.Trade) (map[int64]trade.Trade, error) {
	out := make(map[int64]trade.Trade, len(ts))
	const chunk = 100
	for i := 0; i < len(ts); i += chunk {
		ids := make([]int64, 0, chunk)
		for _, tr := range ts[i:min(i+chunk, len(ts))] {
			ids = append(ids, tr.ID)
		}
		it := s.cass.Query(`SELECT id, created_at, ticker, sector, volume, market_cap, price FROM real_time_data WHERE id IN ?`, ids).
			WithContext(ctx).Iter()
		var tr trade.Trade
		for it.Scan(&tr.ID, &tr.CreatedAt, &tr.Ticker, &tr.Sector, &tr.Volume, &tr.MarketCap, &tr.Price) {
			out[tr.ID] = tr
		}
		if err := it.Close(); err != nil {
			return nil, fmt.Errorf("read real_time_data: %w", err)
		}
	}
	return out, nil
}

// allInCassandra checks that every trade is in Cassandra with equal values (created_at to the
// millisecond: Cassandra's timestamp resolution).
func (s *stack) allInCassandra(ctx context.Context, ts []trade.Trade) error {
	got, err := s.cassandraTrades(ctx, ts)
	if err != nil {
		return err
	}
	if len(got) != len(ts) {
		return fmt.Errorf("%d of %d trades in Cassandra", len(got), len(ts))
	}
	for _, want := range ts {
		g := got[want.ID]
		if g.Ticker != want.Ticker || g.Sector != want.Sector || g.Volume != want.Volume || g.Price != want.Price ||
			g.MarketCap != want.MarketCap || !g.CreatedAt.Equal(want.CreatedAt.Truncate(time.Millisecond)) {
			return fmt.Errorf("trade %d differs: got %+v, want %+v", want.ID, g, want)
		}
	}
	return nil
}

// rejects reads the reasons recorded for the topic's partitions over the last two market dates.
func (s *stack) rejects(ctx context.Context, topic string, partitions int32) (map[string]int, error) {
	out := map[string]int{}
	now := time.Now().In(marketZone())
	for p := int32(0); p < partitions; p++ {
		for _, day := range []time.Time{now, now.AddDate(0, 0, -1)} {
			it := s.cass.Query(`SELECT reason FROM rejects WHERE topic = ? AND kafka_partition = ? AND day = ?`,
				topic, p, day.Format("2006-01-02")).WithContext(ctx).Iter()
			var reason string
			for it.Scan(&reason) {
				out[reason]++
			}
			if err := it.Close(); err != nil {
				return nil, fmt.Errorf("read rejects: %w", err)
			}
		}
	}
	return out, nil
}

// deleteTrades removes the test's rows from the raw tables it can address by key.
func (s *stack) deleteTrades(ts []trade.Trade) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i < len(ts); i += 100 {
		ids := make([]int64, 0, 100)
		for _, tr := range ts[i:min(i+100, len(ts))] {
			ids = append(ids, tr.ID)
		}
		s.cass.Query(`DELETE FROM real_time_data WHERE id IN ?`, ids).WithContext(ctx).Exec() //nolint:errcheck // best effort
	}
}
