package web

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"idxstream/dashboard/internal/dataset"
	"idxstream/dashboard/internal/feed"
	"idxstream/dashboard/internal/market"
)

var errDown = errors.New("connection refused")

// fakeMySQL serves fixed data and counts queries per data set.
type fakeMySQL struct {
	mu        sync.Mutex
	volume    []market.SectorVolume
	timeline  []market.TimelinePoint
	batch     market.Batch
	companies []market.Company
	err       error

	volumeCalls, timelineCalls, batchCalls, companyCalls atomic.Int64
}

func (f *fakeMySQL) set(fn func(f *fakeMySQL)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeMySQL) VolumeToday(context.Context) ([]market.SectorVolume, error) {
	f.volumeCalls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]market.SectorVolume(nil), f.volume...), f.err
}

func (f *fakeMySQL) Timeline(context.Context) ([]market.TimelinePoint, error) {
	f.timelineCalls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]market.TimelinePoint(nil), f.timeline...), f.err
}

func (f *fakeMySQL) LastBatch(context.Context) (market.Batch, error) {
	f.batchCalls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.batch, f.err
}

func (f *fakeMySQL) Companies(context.Context) ([]market.Company, error) {
	f.companyCalls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]market.Company(nil), f.companies...), f.err
}

// fakeCassandra serves fixed data and counts queries per data set.
type fakeCassandra struct {
	mu     sync.Mutex
	trades []market.Trade
	series map[string]market.TickerSeries
	err    error

	tradeCalls, seriesCalls atomic.Int64
}

func (f *fakeCassandra) set(fn func(f *fakeCassandra)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeCassandra) LatestTrades(_ context.Context, _ []market.Company, _ time.Time, limit int) ([]market.Trade, error) {
	f.tradeCalls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	t := append([]market.Trade(nil), f.trades...)
	market.SortTrades(t)
	if len(t) > limit {
		t = t[:limit]
	}
	return t, f.err
}

func (f *fakeCassandra) Series(_ context.Context, companies []market.Company, _ time.Time, _ int) ([]market.TickerSeries, error) {
	f.seriesCalls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	out := make([]market.TickerSeries, 0, len(companies))
	for _, c := range companies {
		s := f.series[c.Ticker]
		s.Ticker, s.Sector = c.Ticker, c.Sector
		out = append(out, s)
	}
	return out, nil
}

// fixedNow is the fake clock: 10:15:30 in Jakarta on a trading day.
var fixedNow = time.Date(2026, 11, 23, 3, 15, 30, 0, time.UTC)

func sampleMySQL() *fakeMySQL {
	m0 := time.Date(2026, 11, 23, 3, 12, 0, 0, time.UTC)
	return &fakeMySQL{
		volume: []market.SectorVolume{
			{Sector: "Energy", TotalVolume: 1_250_000},
			{Sector: "Financials", TotalVolume: 4_830_500},
			{Sector: "Technology", TotalVolume: 902_300},
			{Sector: "Properties & Real Estate", TotalVolume: 310_000},
		},
		timeline: []market.TimelinePoint{
			{Sector: "Energy", Minute: m0, TotalVolume: 400_000},
			{Sector: "Financials", Minute: m0, TotalVolume: 1_500_000},
			{Sector: "Energy", Minute: m0.Add(time.Minute), TotalVolume: 350_000},
			{Sector: "Financials", Minute: m0.Add(time.Minute), TotalVolume: 1_700_000},
			{Sector: "Energy", Minute: m0.Add(2 * time.Minute), TotalVolume: 500_000},
			{Sector: "Financials", Minute: m0.Add(2 * time.Minute), TotalVolume: 1_630_500},
		},
		batch: market.Batch{ID: 42, CommittedAt: fixedNow.Add(-35 * time.Second)},
		companies: []market.Company{
			{Ticker: "ADRO", Name: "Alamtri Resources Indonesia", Sector: "Energy"},
			{Ticker: "BBCA", Name: "Bank Central Asia", Sector: "Financials"},
			{Ticker: "GOTO", Name: "GoTo Gojek Tokopedia", Sector: "Technology"},
		},
	}
}

func sampleCassandra() *fakeCassandra {
	at := func(sec int) time.Time { return fixedNow.Add(time.Duration(-sec) * time.Second) }
	return &fakeCassandra{
		trades: []market.Trade{
			{ID: 1003, CreatedAt: at(4), Ticker: "BBCA", Sector: "Financials", Volume: 500, Price: 9875},
			{ID: 1002, CreatedAt: at(9), Ticker: "GOTO", Sector: "Technology", Volume: 12_000, Price: 68},
			{ID: 1001, CreatedAt: at(15), Ticker: "ADRO", Sector: "Energy", Volume: 300, Price: 2450},
		},
		series: map[string]market.TickerSeries{
			"BBCA": {Open: 9800, Points: []market.PricePoint{{At: at(60), Price: 9825}, {At: at(30), Price: 9850}, {At: at(4), Price: 9875}}, Updated: at(4)},
			"GOTO": {Open: 70, Points: []market.PricePoint{{At: at(50), Price: 69}, {At: at(9), Price: 68}}, Updated: at(9)},
			"ADRO": {Open: 2450, Points: []market.PricePoint{{At: at(15), Price: 2450}}, Updated: at(15)},
		},
	}
}

// env is a handler over fake stores. Pollers are driven by Refresh, never by timers.
type env struct {
	my     *fakeMySQL
	cass   *fakeCassandra
	broker *feed.Broker
	sets   *dataset.Sets
	h      *Handler
}

func newEnv(t testing.TB, my *fakeMySQL, cass *fakeCassandra) *env {
	t.Helper()
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{my: my, cass: cass, broker: &feed.Broker{}}
	e.sets, err = dataset.New(dataset.Config{MySQL: my, Cassandra: cass, Location: jakarta,
		RawInterval: time.Hour, AggInterval: time.Hour, LatestTrades: 25, SeriesPoints: 120,
		Publisher: e.broker, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	e.h, err = New(Config{Sets: e.sets, Broker: e.broker})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.h.Close)
	return e
}
