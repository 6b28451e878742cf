// Command spark_script runs the trading pipeline on a Spark Connect server: `make submit`.
//
// It starts the raw path's Structured Streaming queries (Kafka -> Cassandra, every 10 s), runs the
// aggregate path's write-ahead batches (Kafka range -> volume per market date and sector -> MySQL,
// every 60 s), and keeps both running until SIGINT or SIGTERM. `spark_script status` prints the
// state of a running job. See internal/ for the parts and --help for the settings.
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

	"idxstream/spark_script/internal/config"
	"idxstream/spark_script/internal/job"
	"idxstream/spark_script/internal/statusapi"
	"idxstream/storage"
)

// exitDiskFull is the exit code of a job that stopped because a store is (nearly) out of disk.
const exitDiskFull = 3

func main() {
	_ = godotenv.Load() // .env is optional; the environment wins over it
	if len(os.Args) > 1 && os.Args[1] == "status" {
		addr := os.Getenv("JOB_STATUS_ADDR")
		if addr == "" {
			addr = config.DefaultStatusAddr
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := statusapi.Fetch(ctx, addr, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "spark_script status:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := config.Load(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	var base *slog.Logger
	if err == nil {
		base, err = cfg.Log.New(os.Stderr)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "spark_script: invalid configuration:\n%v\n(run with --help for the settings)\n", err)
		os.Exit(2)
	}
	logger := base.With("component", "job")
	logger.Info("starting", "config", cfg) // Config.LogValue redacts the secrets

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := job.Run(ctx, cfg, base); err != nil {
		if errors.Is(err, storage.ErrFull) {
			// Stopped cleanly on purpose: its own code, so that a supervisor can tell it from a crash.
			logger.Error("job stopped: a store is out of disk space; it resumes where it stopped once space is back", "err", err,
				"exit_code", exitDiskFull)
			os.Exit(exitDiskFull)
		}
		logger.Error("job failed", "err", err)
		os.Exit(1)
	}
	logger.Info("job stopped cleanly")
}
