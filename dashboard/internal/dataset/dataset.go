// Package dataset defines the data sets the dashboard shows and keeps each one fresh with one
// feed.Poller: however many pages are open, each data set costs its database one query per
// interval.
//
//	name      source                                                   interval
//	volume    MySQL view volume_today                                  AggInterval
//	timeline  MySQL view volume_timeline_today                         AggInterval
//	batch     MySQL view last_batch                                    AggInterval
//	trades    Cassandra trades_by_ticker, newest rows of each ticker   RawInterval
//	prices    Cassandra trades_by_ticker, one partition per ticker     RawInterval
//	          (both for the tickers of MySQL's profile and today's
//	          market date; the list is cached: a MySQL outage keeps
//	          the last list)
package dataset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"idxstream/dashboard/internal/feed"
	"idxstream/dashboard/internal/market"
)

// Names of the data sets: the change notices carry them, and the web panels name the data sets
// they show by them.
const (
	Volume   = "volume"
	Timeline = "timeline"
	Batch    = "batch"
	Trades   = "trades"
	Prices   = "prices"
)

// MySQL is what the data sets need from MySQL (*mysqlstore.Store).
type MySQL interface {
	VolumeToday(ctx context.Context) ([]market.SectorVolume, error)
	Timeline(ctx context.Context) ([]market.TimelinePoint, error)
	LastBatch(ctx context.Context) (market.Batch, error)
	Companies(ctx context.Context) ([]market.Company, error)
}

// Cassandra is what the data sets need from Cassandra (*cassandrastore.Store).
type Cassandra interface {
	LatestTrades(ctx context.Context, companies []market.Company, day time.Time, limit int) ([]market.Trade, error)
	Series(ctx context.Context, companies []market.Company, day time.Time, points int) ([]market.TickerSeries, error)
}

// Config configures the data sets.
type Config struct {
	MySQL     MySQL
	Cassandra Cassandra
	// Location is the market time zone; "today" for trades_by_ticker is the date there.
	Location *time.Location
	// RawInterval polls the Cassandra data sets, AggInterval the MySQL ones.
	RawInterval, AggInterval time.Duration
	// Timeout bounds one fetch (0: the interval).
	Timeout time.Duration
	// LatestTrades and SeriesPoints size the trades table and the price lines.
	LatestTrades, SeriesPoints int
	// Publisher hears about every change (usually a *feed.Broker).
	Publisher feed.Publisher
	Logger    *slog.Logger
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// Sets holds the pollers of all data sets.
type Sets struct {
	Volume   *feed.Poller[[]market.SectorVolume]
	Timeline *feed.Poller[[]market.TimelinePoint]
	Batch    *feed.Poller[market.Batch]
	Trades   *feed.Poller[[]market.Trade]
	Prices   *feed.Poller[[]market.TickerSeries]

	loc *time.Location
	now func() time.Time
}

// New builds the pollers; nothing is fetched until Run or Refresh.
func New(cfg Config) (*Sets, error) {
	if cfg.MySQL == nil || cfg.Cassandra == nil {
		return nil, errors.New("new data sets: a store is nil")
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pc := func(name string, every time.Duration) feed.PollerConfig {
		return feed.PollerConfig{Name: name, Interval: every, Timeout: cfg.Timeout,
			Publisher: cfg.Publisher, Logger: cfg.Logger, Now: cfg.Now}
	}
	s := &Sets{loc: cfg.Location, now: cfg.Now}
	var errs []error
	var err error
	s.Volume, err = feed.NewPoller(pc(Volume, cfg.AggInterval), func(ctx context.Context) ([]market.SectorVolume, error) {
		v, err := cfg.MySQL.VolumeToday(ctx)
		market.SortVolumes(v)
		return v, err
	})
	errs = append(errs, err)
	s.Timeline, err = feed.NewPoller(pc(Timeline, cfg.AggInterval), cfg.MySQL.Timeline)
	errs = append(errs, err)
	s.Batch, err = feed.NewPoller(pc(Batch, cfg.AggInterval), cfg.MySQL.LastBatch)
	errs = append(errs, err)
	tickers := &companyCache{mysql: cfg.MySQL}
	s.Trades, err = feed.NewPoller(pc(Trades, cfg.RawInterval), func(ctx context.Context) ([]market.Trade, error) {
		companies, err := tickers.get(ctx)
		if err != nil {
			return nil, err
		}
		return cfg.Cassandra.LatestTrades(ctx, companies, s.Today(), cfg.LatestTrades)
	})
	errs = append(errs, err)
	s.Prices, err = feed.NewPoller(pc(Prices, cfg.RawInterval), func(ctx context.Context) ([]market.TickerSeries, error) {
		companies, err := tickers.get(ctx)
		if err != nil {
			return nil, err
		}
		return cfg.Cassandra.Series(ctx, companies, s.Today(), cfg.SeriesPoints)
	})
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new data sets: %w", err)
	}
	return s, nil
}

// Today returns the market date now, as midnight UTC of that date.
func (s *Sets) Today() time.Time {
	t := s.now().In(s.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Location returns the market time zone.
func (s *Sets) Location() *time.Location { return s.loc }

// Now returns the current time of the sets' clock.
func (s *Sets) Now() time.Time { return s.now() }

// Run polls every data set until ctx is done and returns when all pollers have stopped.
func (s *Sets) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.Volume.Run(ctx) })
	wg.Go(func() { s.Timeline.Run(ctx) })
	wg.Go(func() { s.Batch.Run(ctx) })
	wg.Go(func() { s.Trades.Run(ctx) })
	wg.Go(func() { s.Prices.Run(ctx) })
	wg.Wait()
}

// NewestTrade is the creation time of the newest trade the Cassandra data sets hold (zero when
// they hold none): the pipeline's data lag is measured from it.
func (s *Sets) NewestTrade() time.Time {
	var newest time.Time
	if t := s.Trades.Snapshot().Value; len(t) > 0 {
		newest = t[0].CreatedAt // newest first
	}
	for _, p := range s.Prices.Snapshot().Value {
		if p.Updated.After(newest) {
			newest = p.Updated
		}
	}
	return newest
}

// Database names of State.
const (
	MySQLDatabase     = "mysql"
	CassandraDatabase = "cassandra"
)

// State is how one data set is doing, without its value (the metrics).
type State struct {
	Name      string
	Database  string // MySQLDatabase or CassandraDatabase: where its rows come from
	HasValue  bool
	OK        bool      // the last fetch succeeded
	FetchedAt time.Time // when the value shown was fetched
	Failures  uint64    // fetches failed since start
}

// States lists every data set's state, in a fixed order.
func (s *Sets) States() []State {
	return []State{
		stateOf(s.Volume, MySQLDatabase), stateOf(s.Timeline, MySQLDatabase), stateOf(s.Batch, MySQLDatabase),
		stateOf(s.Trades, CassandraDatabase), stateOf(s.Prices, CassandraDatabase),
	}
}

func stateOf[T any](p *feed.Poller[T], db string) State {
	snap := p.Snapshot()
	return State{Name: p.Name(), Database: db, HasValue: snap.HasValue, OK: snap.OK(), FetchedAt: snap.FetchedAt, Failures: snap.Failures}
}

// Refresh fetches every data set once, now (tests and start-up).
func (s *Sets) Refresh(ctx context.Context) {
	s.Volume.Refresh(ctx)
	s.Timeline.Refresh(ctx)
	s.Batch.Refresh(ctx)
	s.Trades.Refresh(ctx)
	s.Prices.Refresh(ctx)
}

// companyCache remembers the last company list so that a MySQL outage does not stop the price
// lines, which come from Cassandra. The list is re-read at most once a minute.
type companyCache struct {
	mysql MySQL
	mu    sync.Mutex
	list  []market.Company
	at    time.Time
}

func (c *companyCache) get(ctx context.Context) ([]market.Company, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.list != nil && time.Since(c.at) < time.Minute {
		return c.list, nil
	}
	list, err := c.mysql.Companies(ctx)
	if err != nil {
		if c.list != nil {
			return c.list, nil
		}
		return nil, fmt.Errorf("list tickers: %w", err)
	}
	c.list, c.at = list, time.Now()
	return list, nil
}
