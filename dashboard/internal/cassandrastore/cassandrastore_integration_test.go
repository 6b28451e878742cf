//go:build integration

package cassandrastore

import (
	"context"
	"os"
	"testing"
	"time"

	"idxstream/dashboard/internal/itest"
	"idxstream/dashboard/internal/market"
	"idxstream/testkit"
)

// suite gives the package's tests a namespace of their own (testkit): they never write into the
// product's keyspace or database.
var suite = testkit.NewSuite("dashcass")

func TestMain(m *testing.M) { os.Exit(suite.Run(m)) }

func TestLatestTradesMergesTickers(t *testing.T) {
	c := itest.CassandraFromEnv(t, suite.Namespace(t))
	sess := c.Session(t)
	store := New(Config{Hosts: c.Hosts, Keyspace: c.Keyspace, User: c.DashUser, Password: c.DashPass})
	t.Cleanup(store.Close)

	// Tickers and a day of their own, so that the partitions hold only these rows.
	day := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	a := market.Company{Ticker: "Q" + itest.RandomTag(3), Sector: "itest A"}
	b := market.Company{Ticker: "Q" + itest.RandomTag(3), Sector: "itest B"}
	t0 := time.Date(2026, 1, 3, 2, 0, 0, 0, time.UTC)
	rows := []struct {
		company market.Company
		trade   itest.Trade
	}{
		{a, itest.Trade{ID: 1, CreatedAt: t0, Ticker: a.Ticker, Volume: 100, Price: 1000}},
		{a, itest.Trade{ID: 2, CreatedAt: t0.Add(2 * time.Second), Ticker: a.Ticker, Volume: 200, Price: 1005}},
		{b, itest.Trade{ID: 3, CreatedAt: t0.Add(time.Second), Ticker: b.Ticker, Volume: 300, Price: 50}},
		{b, itest.Trade{ID: 4, CreatedAt: t0.Add(3 * time.Second), Ticker: b.Ticker, Volume: 400, Price: 51}},
	}
	for _, r := range rows {
		itest.InsertTickerTrade(t, sess, r.trade, day)
	}
	got, err := store.LatestTrades(t.Context(), []market.Company{a, b}, day, 3)
	if err != nil {
		t.Fatal(err)
	}
	// The three newest of both tickers, newest first, each with its company's sector.
	want := []market.Trade{
		{ID: 4, CreatedAt: t0.Add(3 * time.Second), Ticker: b.Ticker, Sector: b.Sector, Volume: 400, Price: 51},
		{ID: 2, CreatedAt: t0.Add(2 * time.Second), Ticker: a.Ticker, Sector: a.Sector, Volume: 200, Price: 1005},
		{ID: 3, CreatedAt: t0.Add(time.Second), Ticker: b.Ticker, Sector: b.Sector, Volume: 300, Price: 50},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d trades %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if g, w := got[i], want[i]; g.ID != w.ID || !g.CreatedAt.Equal(w.CreatedAt) || g.Ticker != w.Ticker ||
			g.Sector != w.Sector || g.Volume != w.Volume || g.Price != w.Price {
			t.Errorf("trade %d = %+v, want %+v", i, g, w)
		}
	}
	if !isNewestFirst(got) {
		t.Error("trades are not newest first")
	}
	none, err := store.LatestTrades(t.Context(), []market.Company{a, b}, day.AddDate(0, 0, 1), 3)
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("a day without trades gives %+v, %v; want an empty list", none, err)
	}
}

func isNewestFirst(ts []market.Trade) bool {
	for i := 1; i < len(ts); i++ {
		if ts[i].CreatedAt.After(ts[i-1].CreatedAt) {
			return false
		}
	}
	return true
}

func TestTickerSeries(t *testing.T) {
	c := itest.CassandraFromEnv(t, suite.Namespace(t))
	sess := c.Session(t)
	store := New(Config{Hosts: c.Hosts, Keyspace: c.Keyspace, User: c.DashUser, Password: c.DashPass})
	t.Cleanup(store.Close)

	ticker := "Q" + itest.RandomTag(3)
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC) // a day of its own: the partition is ours alone
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sess.Query("DELETE FROM trades_by_ticker WHERE ticker = ? AND day = ?", ticker, day).ExecContext(ctx); err != nil {
			t.Errorf("clean up trades_by_ticker: %v", err)
		}
	})
	t0 := time.Date(2026, 1, 2, 2, 0, 0, 0, time.UTC)
	prices := []float64{100, 105, 95, 110}
	for i, p := range prices {
		if err := sess.Query(`INSERT INTO trades_by_ticker (ticker, day, created_at, id, price, volume) VALUES (?, ?, ?, ?, ?, ?)`,
			ticker, day, t0.Add(time.Duration(i)*time.Minute), int64(i+1), p, int64(100*(i+1))).ExecContext(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		points     int
		wantPrices []float64
		wantVolume int64
	}{
		{"all", 10, []float64{100, 105, 95, 110}, 1000},
		{"newest two, oldest first", 2, []float64{95, 110}, 700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.TickerSeries(t.Context(), ticker, day, tt.points)
			if err != nil {
				t.Fatal(err)
			}
			if s.Open != 100 {
				t.Errorf("open %v, want 100 (the day's first trade)", s.Open)
			}
			var got []float64
			for _, p := range s.Points {
				got = append(got, p.Price)
			}
			if len(got) != len(tt.wantPrices) {
				t.Fatalf("prices %v, want %v", got, tt.wantPrices)
			}
			for i := range got {
				if got[i] != tt.wantPrices[i] {
					t.Errorf("prices %v, want %v", got, tt.wantPrices)
					break
				}
			}
			if s.Volume != tt.wantVolume || !s.Updated.Equal(t0.Add(3*time.Minute)) {
				t.Errorf("volume %d updated %v; want %d, %v", s.Volume, s.Updated, tt.wantVolume, t0.Add(3*time.Minute))
			}
		})
	}
	empty, err := store.TickerSeries(t.Context(), ticker, day.AddDate(0, 0, 1), 10)
	if err != nil || empty.Open != 0 || len(empty.Points) != 0 {
		t.Errorf("series of a day without trades = %+v, %v; want empty", empty, err)
	}
	series, err := store.Series(t.Context(), []market.Company{{Ticker: ticker, Sector: "itest"}}, day, 10)
	if err != nil || len(series) != 1 || series[0].Sector != "itest" || series[0].Last() != 110 {
		t.Errorf("Series = %+v, %v", series, err)
	}
}

func TestCassandraDownIsAnError(t *testing.T) {
	store := New(Config{Hosts: []string{"127.0.0.1:1"}, Keyspace: "trading", Timeout: time.Second})
	t.Cleanup(store.Close)
	if _, err := store.LatestTrades(t.Context(), []market.Company{{Ticker: "BBCA"}}, time.Now(), 10); err == nil {
		t.Error("no error from an unreachable Cassandra")
	}
}
