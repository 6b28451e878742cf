package dataset

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"idxstream/dashboard/internal/market"
)

type fakeMySQL struct {
	companies []market.Company
	err       error
	calls     int
}

func (f *fakeMySQL) VolumeToday(context.Context) ([]market.SectorVolume, error) {
	return []market.SectorVolume{{Sector: "A", TotalVolume: 1}, {Sector: "B", TotalVolume: 3}}, f.err
}
func (f *fakeMySQL) Timeline(context.Context) ([]market.TimelinePoint, error) { return nil, f.err }
func (f *fakeMySQL) LastBatch(context.Context) (market.Batch, error)          { return market.Batch{}, f.err }
func (f *fakeMySQL) Companies(context.Context) ([]market.Company, error) {
	f.calls++
	return f.companies, f.err
}

type fakeCassandra struct {
	day, tradesDay time.Time
	tickers        []string
	tradeTickers   []string
}

func (f *fakeCassandra) LatestTrades(_ context.Context, cs []market.Company, day time.Time, _ int) ([]market.Trade, error) {
	f.tradesDay, f.tradeTickers = day, nil
	for _, c := range cs {
		f.tradeTickers = append(f.tradeTickers, c.Ticker)
	}
	return nil, nil
}

func (f *fakeCassandra) Series(_ context.Context, cs []market.Company, day time.Time, _ int) ([]market.TickerSeries, error) {
	f.day, f.tickers = day, nil
	for _, c := range cs {
		f.tickers = append(f.tickers, c.Ticker)
	}
	return nil, nil
}

func TestToday(t *testing.T) {
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{"Jakarta morning is the same UTC day", time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC), "2026-11-23"},
		{"after 17:00 UTC it is tomorrow in Jakarta", time.Date(2026, 11, 23, 17, 30, 0, 0, time.UTC), "2026-11-24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cass := &fakeCassandra{}
			s, err := New(Config{MySQL: &fakeMySQL{companies: []market.Company{{Ticker: "BBCA"}}}, Cassandra: cass,
				Location: jakarta, RawInterval: time.Hour, AggInterval: time.Hour, Now: func() time.Time { return tt.now }})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Today().Format(time.DateOnly); got != tt.want {
				t.Errorf("Today() = %s, want %s", got, tt.want)
			}
			s.Refresh(t.Context())
			if got := cass.day.Format(time.DateOnly); got != tt.want {
				t.Errorf("trades_by_ticker read for day %s, want %s", got, tt.want)
			}
			if got := cass.tradesDay.Format(time.DateOnly); got != tt.want || !slices.Equal(cass.tradeTickers, []string{"BBCA"}) {
				t.Errorf("latest trades read for day %s of %v, want %s of [BBCA]", got, cass.tradeTickers, tt.want)
			}
		})
	}
}

func TestVolumeSorted(t *testing.T) {
	s, err := New(Config{MySQL: &fakeMySQL{}, Cassandra: &fakeCassandra{}, RawInterval: time.Hour, AggInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	v := s.Volume.Refresh(t.Context()).Value
	if len(v) != 2 || v[0].Sector != "B" {
		t.Errorf("volume = %v, want B first", v)
	}
}

func TestPricesSurviveMySQLOutage(t *testing.T) {
	my := &fakeMySQL{companies: []market.Company{{Ticker: "BBCA"}, {Ticker: "TLKM"}}}
	cass := &fakeCassandra{}
	s, err := New(Config{MySQL: my, Cassandra: cass, RawInterval: time.Hour, AggInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if snap := s.Prices.Refresh(t.Context()); !snap.OK() {
		t.Fatalf("first refresh failed: %v", snap.Err)
	}
	my.err = errors.New("down")
	if snap := s.Prices.Refresh(t.Context()); !snap.OK() {
		t.Errorf("prices failed while only MySQL is down: %v", snap.Err)
	}
	if len(cass.tickers) != 2 {
		t.Errorf("read %v, want the cached two tickers", cass.tickers)
	}
	if my.calls != 1 {
		t.Errorf("profile read %d times within a minute, want 1", my.calls)
	}
}

func TestPricesWithoutTickerList(t *testing.T) {
	s, err := New(Config{MySQL: &fakeMySQL{err: errors.New("down")}, Cassandra: &fakeCassandra{}, RawInterval: time.Hour, AggInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if snap := s.Prices.Refresh(t.Context()); snap.Err == nil {
		t.Error("prices succeeded without any ticker list")
	}
}

func TestNewRejectsMissingStores(t *testing.T) {
	if _, err := New(Config{RawInterval: time.Second, AggInterval: time.Second}); err == nil {
		t.Error("New accepted nil stores")
	}
}

func TestStates(t *testing.T) {
	my := &fakeMySQL{companies: []market.Company{{Ticker: "BBCA"}}}
	s, err := New(Config{MySQL: my, Cassandra: &fakeCassandra{}, RawInterval: time.Hour, AggInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s.Refresh(t.Context()) // everything answers; the ticker list is cached
	my.err = errors.New("down")
	s.Refresh(t.Context())
	s.Refresh(t.Context())
	want := map[string]struct {
		db       string
		ok       bool
		failures uint64
	}{
		Volume: {MySQLDatabase, false, 2}, Timeline: {MySQLDatabase, false, 2}, Batch: {MySQLDatabase, false, 2},
		Trades: {CassandraDatabase, true, 0}, Prices: {CassandraDatabase, true, 0},
	}
	got := s.States()
	if len(got) != len(want) {
		t.Fatalf("%d states, want %d", len(got), len(want))
	}
	for _, st := range got {
		w := want[st.Name]
		if st.Database != w.db || st.OK != w.ok || st.Failures != w.failures || !st.HasValue || st.FetchedAt.IsZero() {
			t.Errorf("%s: %+v, want %+v", st.Name, st, w)
		}
	}
}
