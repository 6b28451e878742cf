//go:build integration

package cassandrastore

import (
	"context"
	"testing"
	"time"

	"idxstream/dashboard/internal/itest"
	"idxstream/dashboard/internal/market"
)

func TestLatestTradesReturnsInsertedRows(t *testing.T) {
	c := itest.CassandraFromEnv(t)
	sess := c.Session(t)
	store := New(Config{Hosts: c.Hosts, Keyspace: c.Keyspace})
	t.Cleanup(store.Close)

	now := time.Now().UTC().Truncate(time.Millisecond)
	ticker := "Q" + itest.RandomTag(3)
	want := []itest.Trade{
		{ID: itest.RandomID(), CreatedAt: now, Ticker: ticker, Sector: "itest", Volume: 300, Price: 1234.5},
		{ID: itest.RandomID(), CreatedAt: now.Add(-time.Minute), Ticker: ticker, Sector: "itest", Volume: 100, Price: 1200},
	}
	for _, tr := range want {
		itest.InsertMinuteTrade(t, sess, tr)
	}
	got, err := store.LatestTrades(t.Context(), now, 5000)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]market.Trade{}
	for _, tr := range got {
		byID[tr.ID] = tr
	}
	for _, w := range want {
		g, ok := byID[w.ID]
		if !ok {
			t.Errorf("trade %d not returned", w.ID)
			continue
		}
		if !g.CreatedAt.Equal(w.CreatedAt) || g.Ticker != w.Ticker || g.Sector != w.Sector || g.Volume != w.Volume || g.Price != w.Price {
			t.Errorf("trade %d = %+v, want %+v", w.ID, g, w)
		}
	}
	if !isNewestFirst(got) {
		t.Error("trades are not newest first")
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
	c := itest.CassandraFromEnv(t)
	sess := c.Session(t)
	store := New(Config{Hosts: c.Hosts, Keyspace: c.Keyspace})
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
	if _, err := store.LatestTrades(t.Context(), time.Now(), 10); err == nil {
		t.Error("no error from an unreachable Cassandra")
	}
}
