//go:build integration

package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"idxstream/dashboard/internal/itest"
	"idxstream/dashboard/internal/market"
)

func getJSON[T any](t *testing.T, url string) (envelope[T], int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env envelope[T]
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("decode %s: %v", url, err)
	}
	return env, resp.StatusCode
}

// TestEndpointsShowInsertedRows inserts aggregates (as the job user) and raw trades (gocql) and
// checks that the JSON endpoints of a dashboard over the real databases return exactly them.
func TestEndpointsShowInsertedRows(t *testing.T) {
	e := newRealEnv(t, time.Hour, time.Hour)
	job := e.mysql.Open(t, e.mysql.JobUser, e.mysql.JobPassword)
	sess := e.cass.Session(t)

	today := itest.MarketToday(t, job)
	tag := itest.RandomTag(6)
	rows := []itest.SectorRow{{Sector: "itest " + tag + " big", Volume: 9_000_000}, {Sector: "itest " + tag + " small", Volume: 4_200}}
	itest.InsertAggregates(t, job, today, time.Now().UTC(), rows)
	now := time.Now().UTC().Truncate(time.Millisecond)
	ticker, sector := itest.AnyCompany(t, job)
	trade := itest.Trade{ID: itest.RandomID(), CreatedAt: now, Ticker: ticker, Volume: 700, Price: 4321.5}
	itest.InsertTickerTrade(t, sess, trade, today)

	e.sets.Refresh(t.Context())

	vol, status := getJSON[[]market.SectorVolume](t, e.srv.URL+"/api/volume-today")
	if status != http.StatusOK || vol.Stale {
		t.Fatalf("volume-today: status %d, %+v", status, vol)
	}
	var mine []market.SectorVolume
	for _, v := range vol.Data {
		if v.Sector == rows[0].Sector || v.Sector == rows[1].Sector {
			mine = append(mine, v)
		}
	}
	want := []market.SectorVolume{{Sector: rows[0].Sector, TotalVolume: rows[0].Volume}, {Sector: rows[1].Sector, TotalVolume: rows[1].Volume}}
	if !slices.Equal(mine, want) {
		t.Errorf("volume-today has %+v of ours, want %+v", mine, want)
	}
	if !slices.IsSortedFunc(vol.Data, func(a, b market.SectorVolume) int { return int(b.TotalVolume - a.TotalVolume) }) {
		t.Errorf("volume-today not sorted largest first: %+v", vol.Data)
	}

	trades, status := getJSON[[]market.Trade](t, e.srv.URL+"/api/trades/latest")
	if status != http.StatusOK {
		t.Fatalf("trades/latest: status %d", status)
	}
	i := slices.IndexFunc(trades.Data, func(x market.Trade) bool { return x.ID == trade.ID })
	if i < 0 {
		t.Fatalf("trade %d missing from /api/trades/latest (%d trades)", trade.ID, len(trades.Data))
	}
	got := trades.Data[i]
	if !got.CreatedAt.Equal(trade.CreatedAt) || got.Ticker != trade.Ticker || got.Sector != sector ||
		got.Volume != trade.Volume || got.Price != trade.Price {
		t.Errorf("trade = %+v, want %+v", got, trade)
	}

	var hl health
	resp, err := http.Get(e.srv.URL + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&hl); err != nil {
		t.Fatal(err)
	}
	for _, d := range hl.Databases {
		if !d.Up {
			t.Errorf("health says %s is down: %+v", d.Name, hl)
		}
	}
	if hl.LagSeconds == nil {
		t.Error("health has no lag although a trade was just inserted")
	}
	if hl.MarketDate != today.Format(time.DateOnly) {
		t.Errorf("market date %s, MySQL's market_today %s", hl.MarketDate, today.Format(time.DateOnly))
	}
}
