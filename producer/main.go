// Command producer simulates Indonesia Stock Exchange trades and writes them to Kafka.
//
//	go run ./producer [flags] [topic]
//
// Prices start at each company's profile.reference_price and keep the IDX's price grid and daily
// auto-rejection limits (package market); --session idx trades only during the IDX's sessions in
// Jakarta time (package session). See `go run ./producer --help` for the flags and their
// environment variables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/joho/godotenv"

	"idxstream/producer/internal/config"
	"idxstream/producer/internal/feed"
	"idxstream/producer/internal/ids"
	"idxstream/producer/internal/market"
	"idxstream/producer/internal/metrics"
	"idxstream/producer/internal/publish"
	"idxstream/producer/internal/session"
	"idxstream/producer/internal/store"
)

func main() {
	_ = godotenv.Load() // ./.env is optional; variables already set win
	cfg, err := config.Load(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "producer: %v\nRun with --help for the flags.\n", err)
		os.Exit(2)
	}
	logger, err := cfg.Log.New(os.Stderr) // validated by config.Load
	if err != nil {
		fmt.Fprintf(os.Stderr, "producer: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("producer failed", "component", "producer", "err", err)
		stop()
		os.Exit(1)
	}
}

// run wires MySQL, the market model and its trading sessions, the id allocator and Kafka, produces
// until ctx ends or a limit is reached, then flushes and logs a summary. It returns an error when anything was not
// delivered.
func run(ctx context.Context, cfg config.Config, base *slog.Logger) error {
	logger := base.With("component", "producer")
	seed := cfg.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	logger.Info("starting", "config", cfg, "seed", seed)
	sched, err := session.Parse(cfg.Session) // validated by config.Load
	if err != nil {
		return err
	}

	db, err := store.Open(ctx, cfg.MySQL)
	if err != nil {
		return err
	}
	defer db.Close()
	companies, err := db.Companies(ctx)
	if err != nil {
		return err
	}
	logger.Info("companies loaded", "count", len(companies))
	if missing := market.WithoutRefPrice(companies); len(missing) > 0 {
		logger.Warn("no reference price in trading.profile (migration 005 fills the sample companies'); these start at the fallback price",
			"tickers", missing, "fallback_price", market.FallbackRefPrice)
	}

	// Counting is cheap (a few atomic adds per record of up to 1000 trades), so it always runs;
	// only the listener depends on --metrics-addr. It stops last, after the summary.
	m := metrics.New(cfg.Topic)
	if cfg.MetricsAddr != "" {
		srv, err := metrics.Listen(cfg.MetricsAddr, m.Handler(), base.With("component", "metrics"))
		if err != nil {
			return err
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				logger.Warn("metrics listener", "err", err)
			}
		}()
	}

	pub, err := publish.New(publish.Config{
		Brokers: cfg.Brokers, Topic: cfg.Topic, Compression: cfg.Compression,
		Linger: cfg.Linger, DeliveryTimeout: cfg.DeliveryTimeout, Observer: m,
	}, base.With("component", "publish"))
	if err != nil {
		return err
	}
	defer pub.Close()
	pctx, pcancel := context.WithTimeout(ctx, 15*time.Second)
	err = pub.Ping(pctx)
	if err == nil {
		err = pub.CheckTopic(pctx, cfg.Topic)
	} else {
		err = fmt.Errorf("%w (is Kafka up at %v? `make status`)", err, cfg.Brokers)
	}
	pcancel()
	if err != nil {
		return err
	}

	// Records keep this context while buffered: it survives SIGINT so that a graceful stop
	// delivers them, and ends FlushTimeout after the signal so that a dead broker cannot hang us.
	produceCtx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	stopAbandon := context.AfterFunc(ctx, func() { time.AfterFunc(cfg.FlushTimeout, abandon) })
	defer stopAbandon()

	alloc := ids.New(db, ids.Deployment, cfg.IDBlock)
	f := feed.New(feed.Config{
		Interval: cfg.Interval, Rate: cfg.Rate, Count: cfg.Count, Duration: cfg.Duration,
		KeyGroups: cfg.KeyGroups, MaxRecordTrades: cfg.MaxRecordTrades, Progress: cfg.Progress,
	}, market.New(companies, seed, market.Options{Schedule: sched}), alloc, pub, logger, time.Now)

	sum, runErr := f.Run(ctx, produceCtx)
	if ctx.Err() != nil {
		logger.Info("signal received: flushing", "timeout", cfg.FlushTimeout)
	}
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.FlushTimeout)
	flushErr := pub.Flush(fctx)
	fcancel()
	if flushErr != nil {
		abandon() // fail what is still buffered so that it is counted below
		_ = pub.Flush(context.Background())
	}

	st := pub.Stats()
	first, last := alloc.Range()
	logger.Info("summary",
		"produced", sum.Produced, "acked", st.Trades, "failed", st.FailedTrades,
		"records", st.Records, "failed_records", st.Failed,
		"bytes", st.Bytes, "elapsed", sum.Elapsed.Round(time.Millisecond),
		"rate_per_s", int64(float64(st.Trades)/max(sum.Elapsed.Seconds(), 1e-9)),
		"first_id", first, "last_id", last, "seed", seed)

	return errors.Join(runErr, flushErr, deliveryErr(st, pub.Err()))
}

func deliveryErr(st publish.Stats, first error) error {
	if st.Failed == 0 {
		return nil
	}
	return fmt.Errorf("%d trades in %d records were not delivered; first error: %w", st.FailedTrades, st.Failed, first)
}
