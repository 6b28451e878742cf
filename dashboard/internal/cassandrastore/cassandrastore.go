// Package cassandrastore reads the dashboard's raw-trade data sets from Cassandra's query-first
// table trades_by_ticker (trades per ticker and market date, newest first): the latest trades
// across the market and each ticker's price history. Every query names its partition; the raw
// table real_time_data is never read.
package cassandrastore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"idxstream/dashboard/internal/market"
)

// Config says how to reach Cassandra.
type Config struct {
	// Hosts are the contact points, host or host:port (CASSANDRA_HOSTS, default 127.0.0.1).
	Hosts []string
	// Keyspace holds the tables (CASSANDRA_KEYSPACE, default trading).
	Keyspace string
	// User and Password are the dashboard's Cassandra role (CASSANDRA_DASHBOARD_USER, default
	// trading_dashboard; CASSANDRA_DASHBOARD_PASSWORD, written into .env by `make up`). With a
	// Password the store authenticates with gocql.PasswordAuthenticator; without one it connects
	// without credentials, which only a Cassandra without authentication accepts. The store
	// never puts Password in an error or a log line; neither should the caller.
	User, Password string
	// Consistency is the level of every read (CASSANDRA_CONSISTENCY; default LOCAL_QUORUM, ONE on
	// a single node at RF 1). The zero value, ANY, is no read level and stands for the default.
	Consistency gocql.Consistency
	// Timeout bounds connecting and each query (default 3 s).
	Timeout time.Duration
	// Parallel caps the concurrent per-ticker queries of Series (default 8).
	Parallel int
}

// Store reads the dashboard's Cassandra data sets. It connects lazily and again after a failed
// connect, so a Cassandra that is down at start-up only makes reads fail until it is back. It is
// safe for concurrent use.
type Store struct {
	cfg Config

	mu      sync.Mutex
	session *gocql.Session
}

// New returns a store; it does not connect yet.
func New(cfg Config) *Store {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	if cfg.Consistency == gocql.Any {
		cfg.Consistency = gocql.LocalQuorum
	}
	return &Store{cfg: cfg}
}

func (s *Store) sess() (*gocql.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session != nil && !s.session.Closed() {
		return s.session, nil
	}
	sess, err := clusterConfig(s.cfg).CreateSession()
	if err != nil {
		return nil, connectError(s.cfg, err)
	}
	s.session = sess
	return sess, nil
}

// clusterConfig turns the store's Config into gocql's: one connection per host (the dashboard
// polls a few queries every few seconds), reads at Consistency, Timeout for connecting and for
// each query, and a PasswordAuthenticator when a password is set.
func clusterConfig(cfg Config) *gocql.ClusterConfig {
	c := gocql.NewCluster(cfg.Hosts...)
	c.Keyspace = cfg.Keyspace
	c.Consistency = cfg.Consistency
	c.Timeout, c.ConnectTimeout = cfg.Timeout, cfg.Timeout
	c.NumConns = 1
	c.ReconnectInterval = 10 * time.Second
	if cfg.Password != "" {
		c.Authenticator = gocql.PasswordAuthenticator{Username: cfg.User, Password: cfg.Password}
	}
	return c
}

// connectError wraps a failed connect with the hosts and, when no password was given, with
// what to set. gocql reports "authentication required" as a plain error (no sentinel or type to
// test with errors.Is/As), so the hint is added to every failure without credentials, worded
// so that it is also right when the cause was something else. Neither gocql's error nor this
// one contains the password.
func connectError(cfg Config, err error) error {
	if cfg.Password == "" {
		return fmt.Errorf("connect to cassandra %v without credentials (a Cassandra with authentication "+
			"refuses that: set CASSANDRA_DASHBOARD_PASSWORD; `make up` writes it into .env): %w", cfg.Hosts, err)
	}
	return fmt.Errorf("connect to cassandra %v as %s: %w", cfg.Hosts, cfg.User, err)
}

// Close closes the session, if any.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session != nil {
		s.session.Close()
		s.session = nil
	}
}

// Ping checks that Cassandra answers a query.
func (s *Store) Ping(ctx context.Context) error {
	sess, err := s.sess()
	if err != nil {
		return err
	}
	var v string
	if err := sess.Query("SELECT release_version FROM system.local").ScanContext(ctx, &v); err != nil {
		return fmt.Errorf("ping cassandra: %w", err)
	}
	return nil
}

// LatestTrades reads the newest trades of market date day across companies: the newest limit
// rows of each company's trades_by_ticker partition, merged, newest first, at most limit. A
// trade's sector is its company's.
func (s *Store) LatestTrades(ctx context.Context, companies []market.Company, day time.Time, limit int) ([]market.Trade, error) {
	sess, err := s.sess()
	if err != nil {
		return nil, err
	}
	d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	per := make([][]market.Trade, len(companies))
	err = s.eachCompany(companies, func(i int, c market.Company) error {
		iter := sess.Query(`SELECT created_at, id, price, volume FROM trades_by_ticker
			WHERE ticker = ? AND day = ? LIMIT ?`, c.Ticker, d, limit).IterContext(ctx)
		t := market.Trade{Ticker: c.Ticker, Sector: c.Sector}
		for iter.Scan(&t.CreatedAt, &t.ID, &t.Price, &t.Volume) {
			t.CreatedAt = t.CreatedAt.UTC()
			per[i] = append(per[i], t)
		}
		if err := iter.Close(); err != nil {
			return fmt.Errorf("read latest trades of %s on %s: %w", c.Ticker, d.Format(time.DateOnly), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := slices.Concat(per...)
	if out == nil {
		out = []market.Trade{}
	}
	market.SortTrades(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// TickerSeries reads one ticker's trading on market date day (its year, month and day are used):
// the first trade's price and the newest points trades, returned oldest first. A ticker that
// has not traded yet gives a series without points and Open 0.
func (s *Store) TickerSeries(ctx context.Context, ticker string, day time.Time, points int) (market.TickerSeries, error) {
	sess, err := s.sess()
	if err != nil {
		return market.TickerSeries{}, err
	}
	d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	ts := market.TickerSeries{Ticker: ticker, Points: []market.PricePoint{}}
	err = sess.Query(`SELECT price FROM trades_by_ticker WHERE ticker = ? AND day = ?
		ORDER BY created_at ASC, id ASC LIMIT 1`, ticker, d).ScanContext(ctx, &ts.Open)
	if errors.Is(err, gocql.ErrNotFound) {
		return ts, nil
	}
	if err != nil {
		return ts, fmt.Errorf("read open of %s on %s: %w", ticker, d.Format(time.DateOnly), err)
	}
	iter := sess.Query(`SELECT created_at, price, volume FROM trades_by_ticker
		WHERE ticker = ? AND day = ? LIMIT ?`, ticker, d, points).IterContext(ctx)
	var (
		p   market.PricePoint
		vol int64
	)
	for iter.Scan(&p.At, &p.Price, &vol) {
		p.At = p.At.UTC()
		ts.Points = append(ts.Points, p)
		ts.Volume += vol
	}
	if err := iter.Close(); err != nil {
		return ts, fmt.Errorf("read prices of %s on %s: %w", ticker, d.Format(time.DateOnly), err)
	}
	for i, j := 0, len(ts.Points)-1; i < j; i, j = i+1, j-1 {
		ts.Points[i], ts.Points[j] = ts.Points[j], ts.Points[i]
	}
	if n := len(ts.Points); n > 0 {
		ts.Updated = ts.Points[n-1].At
	}
	return ts, nil
}

// Series reads TickerSeries for every company on day, a few tickers at a time, in the order given.
// Any failure fails the whole read (the caller keeps its last good copy).
func (s *Store) Series(ctx context.Context, companies []market.Company, day time.Time, points int) ([]market.TickerSeries, error) {
	out := make([]market.TickerSeries, len(companies))
	err := s.eachCompany(companies, func(i int, c market.Company) error {
		ts, err := s.TickerSeries(ctx, c.Ticker, day, points)
		ts.Sector = c.Sector
		out[i] = ts
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachCompany calls read for every company, at most Parallel at a time, and joins their errors.
func (s *Store) eachCompany(companies []market.Company, read func(i int, c market.Company) error) error {
	errs := make([]error, len(companies))
	sem := make(chan struct{}, s.cfg.Parallel)
	var wg sync.WaitGroup
	for i, c := range companies {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = read(i, c)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
