package metrics

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"idxstream/dashboard/internal/dataset"
	"idxstream/dashboard/internal/feed"
	"idxstream/dashboard/internal/market"
	"idxstream/dashboard/internal/web"
	"idxstream/testkit/scrape"
)

// stores is a fake of both databases with a settable clock.
type stores struct {
	mu    sync.Mutex
	now   time.Time
	batch market.Batch
	trade time.Time // creation time of the one trade
	myErr error
}

func (s *stores) clock() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now }
func (s *stores) mysqlErr() error  { s.mu.Lock(); defer s.mu.Unlock(); return s.myErr }

func (s *stores) VolumeToday(context.Context) ([]market.SectorVolume, error) {
	return []market.SectorVolume{{Sector: "Energy", TotalVolume: 100}}, s.mysqlErr()
}
func (s *stores) Timeline(context.Context) ([]market.TimelinePoint, error) { return nil, s.mysqlErr() }
func (s *stores) LastBatch(context.Context) (market.Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batch, s.myErr
}
func (s *stores) Companies(context.Context) ([]market.Company, error) {
	return []market.Company{{Ticker: "BBCA", Sector: "Financials"}}, s.mysqlErr()
}
func (s *stores) LatestTrades(context.Context, []market.Company, time.Time, int) ([]market.Trade, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []market.Trade{{ID: 1, CreatedAt: s.trade, Ticker: "BBCA", Sector: "Financials", Volume: 100, Price: 9000}}, nil
}
func (s *stores) Series(context.Context, []market.Company, time.Time, int) ([]market.TickerSeries, error) {
	return nil, nil
}

var t0 = time.Date(2026, 11, 23, 3, 15, 30, 0, time.UTC)

type env struct {
	db   *stores
	sets *dataset.Sets
	srv  *httptest.Server
}

// newEnv wires the data sets, the web handler and the metrics as main does.
func newEnv(t *testing.T) *env {
	t.Helper()
	db := &stores{now: t0, batch: market.Batch{ID: 9, CommittedAt: t0.Add(-30 * time.Second)}, trade: t0.Add(-2 * time.Second)}
	broker := &feed.Broker{}
	sets, err := dataset.New(dataset.Config{MySQL: db, Cassandra: db, RawInterval: time.Hour, AggInterval: time.Hour,
		LatestTrades: 10, SeriesPoints: 10, Publisher: broker, Now: db.clock})
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{Sets: sets, Broker: broker, AggTrigger: time.Minute})
	h, err := web.New(web.Config{Sets: sets, Broker: broker, Metrics: m.Handler(), Heartbeat: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Instrument(h, h.Route))
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	return &env{db: db, sets: sets, srv: srv}
}

func (e *env) scrape(t *testing.T) scrape.Families {
	t.Helper()
	f, err := scrape.Get(t.Context(), e.srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (e *env) get(t *testing.T, path string) {
	t.Helper()
	resp, err := http.Get(e.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestRequestLatencyByEndpoint(t *testing.T) {
	e := newEnv(t)
	e.sets.Refresh(t.Context())
	for range 3 {
		e.get(t, "/api/health")
	}
	e.get(t, "/api/volume-today")
	e.get(t, "/no/such/page?id=12345")
	f := e.scrape(t)
	tests := []struct {
		endpoint, code string
		want           uint64
	}{
		{"/api/health", "200", 3},
		{"/api/volume-today", "200", 1},
		{"other", "404", 1},
	}
	for _, tt := range tests {
		if n, ok := f.Count("idxstream_dashboard_request_duration_seconds", "endpoint", tt.endpoint, "code", tt.code); !ok || n != tt.want {
			t.Errorf("requests to %s with %s: %d (present %v), want %d", tt.endpoint, tt.code, n, ok, tt.want)
		}
	}
	if f.Type("idxstream_dashboard_request_duration_seconds") != "HISTOGRAM" {
		t.Errorf("request duration is a %s", f.Type("idxstream_dashboard_request_duration_seconds"))
	}
	// The label set stays bounded: patterns, never the raw paths.
	for _, ep := range f.Labels("idxstream_dashboard_request_duration_seconds", "endpoint") {
		if ep == "/no/such/page" || ep == "/events" {
			t.Errorf("endpoint label %q", ep)
		}
	}
}

func TestLiveConnections(t *testing.T) {
	e := newEnv(t)
	e.sets.Refresh(t.Context())
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil { // the stream is open
		t.Fatal(err)
	}
	if v, _ := e.scrape(t).Value("idxstream_dashboard_live_connections"); v != 1 {
		t.Errorf("live connections %v with one stream open, want 1", v)
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, _ := e.scrape(t).Value("idxstream_dashboard_live_connections")
		if v == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live connections %v after the stream closed, want 0", v)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok := e.scrape(t).Count("idxstream_dashboard_request_duration_seconds", "endpoint", "/events"); ok {
		t.Error("the event stream is timed like a request")
	}
}

func TestDataSetsAndDatabaseErrors(t *testing.T) {
	e := newEnv(t)
	f := e.scrape(t)
	if _, ok := f.Value("idxstream_dashboard_dataset_age_seconds"); ok {
		t.Error("a data set age before the first fetch")
	}
	e.sets.Refresh(t.Context())
	e.db.mu.Lock()
	e.db.now = e.db.now.Add(40 * time.Second)
	e.db.myErr = errors.New("connection refused")
	e.db.mu.Unlock()
	e.sets.Volume.Refresh(t.Context())
	e.sets.Volume.Refresh(t.Context())
	e.sets.Batch.Refresh(t.Context())

	f = e.scrape(t)
	tests := []struct {
		name  string
		pairs []string
		want  float64
	}{
		{"idxstream_dashboard_dataset_age_seconds", []string{"dataset", "volume", "database", "mysql"}, 40},
		{"idxstream_dashboard_dataset_age_seconds", []string{"dataset", "trades", "database", "cassandra"}, 40},
		{"idxstream_dashboard_dataset_up", []string{"dataset", "volume"}, 0},
		{"idxstream_dashboard_dataset_up", []string{"dataset", "trades"}, 1},
		{"idxstream_dashboard_database_errors_total", []string{"dataset", "volume", "database", "mysql"}, 2},
		{"idxstream_dashboard_database_errors_total", []string{"dataset", "batch"}, 1},
		{"idxstream_dashboard_database_errors_total", []string{"database", "cassandra"}, 0},
		{"idxstream_dashboard_data_lag_seconds", nil, 42},
		{"idxstream_dashboard_last_batch_age_seconds", nil, 70},
		{"idxstream_dashboard_aggregate_stalled", nil, 0},
	}
	for _, tt := range tests {
		if got, ok := f.Value(tt.name, tt.pairs...); !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.name, tt.pairs, got, ok, tt.want)
		}
	}
	if f.Type("idxstream_dashboard_database_errors_total") != "COUNTER" || f.Type("idxstream_dashboard_dataset_age_seconds") != "GAUGE" {
		t.Error("wrong metric types")
	}
}

// TestStalledAggregatePath: a last batch four triggers old while trades keep arriving.
func TestStalledAggregatePath(t *testing.T) {
	e := newEnv(t)
	e.db.mu.Lock()
	e.db.batch.CommittedAt = t0.Add(-4 * time.Minute)
	e.db.mu.Unlock()
	e.sets.Refresh(t.Context())
	f := e.scrape(t)
	if v, _ := f.Value("idxstream_dashboard_aggregate_stalled"); v != 1 {
		t.Errorf("aggregate_stalled = %v, want 1", v)
	}
	if v, _ := f.Value("idxstream_dashboard_last_batch_age_seconds"); v != 240 {
		t.Errorf("last_batch_age_seconds = %v, want 240", v)
	}
}
