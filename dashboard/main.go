// Command dashboard serves the trading pipeline's web page: today's traded volume by sector, volume
// over time, top movers with price lines, the latest raw trades and the pipeline's health, live
// updated with server-sent events, plus JSON endpoints for the same data.
//
//	go run ./dashboard            # from the repository root; reads ./.env
//
// Configuration comes from environment variables (see internal/config and docs/contracts.md):
// DASHBOARD_ADDR (default 127.0.0.1:8501), MARKET_TZ, MYSQL_ADDR, MYSQL_DATABASE,
// MYSQL_DASHBOARD_USER / MYSQL_DASHBOARD_PASSWORD, CASSANDRA_HOSTS, CASSANDRA_KEYSPACE,
// CASSANDRA_DASHBOARD_USER / CASSANDRA_DASHBOARD_PASSWORD, DASHBOARD_RAW_INTERVAL,
// DASHBOARD_AGG_INTERVAL, JOB_AGG_TRIGGER (the job's, to tell a stalled aggregate path); flags
// override them (-h lists them). GET /metrics serves Prometheus metrics on the same address.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // MARKET_TZ works on machines without a zoneinfo database

	"github.com/joho/godotenv"

	"idxstream/dashboard/internal/cassandrastore"
	"idxstream/dashboard/internal/config"
	"idxstream/dashboard/internal/dataset"
	"idxstream/dashboard/internal/feed"
	"idxstream/dashboard/internal/metrics"
	"idxstream/dashboard/internal/mysqlstore"
	"idxstream/dashboard/internal/web"
)

func main() {
	// .env is optional; variables already set win.
	if err := godotenv.Load(); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, "dashboard: read .env:", err)
		os.Exit(2)
	}
	cfg, err := config.Load(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return // the flag package printed the usage
	}
	var logger *slog.Logger
	if err == nil {
		logger, err = cfg.Log.New(os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashboard: configuration:\n"+err.Error())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("dashboard stopped", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then stops in order: the listener and open streams, the
// pollers, the database clients. base is the root logger; each part tags it with its component.
func run(ctx context.Context, cfg config.Config, base *slog.Logger) error {
	logger := base.With("component", "dashboard")
	logger.Info("starting", "config", cfg) // Config.LogValue leaves the passwords out
	my, err := mysqlstore.Open(mysqlstore.Config{Addr: cfg.MySQLAddr, Database: cfg.MySQLDatabase,
		User: cfg.MySQLUser, Password: string(cfg.MySQLPassword), Timeout: cfg.QueryTimeout})
	if err != nil {
		return err
	}
	defer my.Close()
	cass := cassandrastore.New(cassandrastore.Config{Hosts: cfg.CassandraHosts,
		Keyspace: cfg.CassandraKeyspace, User: cfg.CassandraUser, Password: string(cfg.CassandraPassword),
		Consistency: cfg.CassandraConsistency, Timeout: cfg.QueryTimeout})
	defer cass.Close()

	broker := &feed.Broker{}
	sets, err := dataset.New(dataset.Config{MySQL: my, Cassandra: cass, Location: cfg.Location,
		RawInterval: cfg.RawInterval, AggInterval: cfg.AggInterval, Timeout: cfg.QueryTimeout,
		LatestTrades: cfg.LatestTrades, SeriesPoints: cfg.SeriesPoints, Publisher: broker,
		Logger: base.With("component", "dataset")})
	if err != nil {
		return err
	}
	m := metrics.New(metrics.Config{Sets: sets, Broker: broker, AggTrigger: cfg.AggTrigger})
	handler, err := web.New(web.Config{Sets: sets, Broker: broker, Logger: base.With("component", "web"),
		AggTrigger: cfg.AggTrigger, Metrics: m.Handler()})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: m.Instrument(handler, handler.Route), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	srv.RegisterOnShutdown(handler.Close)

	pollCtx, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { sets.Run(pollCtx) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("serving", "url", "http://"+ln.Addr().String())

	select {
	case err = <-serveErr:
		err = fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
		logger.Info("shutting down")
		shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if e := srv.Shutdown(shutCtx); e != nil {
			err = fmt.Errorf("shut down http: %w", e)
		}
		cancel()
	}
	stopPolling()
	wg.Wait()
	logger.Info("stopped")
	return err
}
