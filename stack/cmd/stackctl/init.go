package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"idxstream/stack/internal/config"
)

// step is one stage of init.
type step struct {
	name string
	run  func(context.Context) error
}

// initSteps are what a started stack needs before the programs run, in order: the servers
// answer, the schema, users and retention are applied, the topics exist. The native launcher
// runs the same commands one by one as each server comes up; Docker's stack-init runs these.
func initSteps(cfg config.Config, logger *slog.Logger) []step {
	wait := func(svc string) step {
		return step{"wait " + svc, func(ctx context.Context) error {
			start := time.Now()
			detail, err := waitFor(ctx, cfg, svc, logger)
			if err == nil {
				logger.Info(svc+" answers", "detail", detail, "waited", time.Since(start).Round(time.Millisecond))
			}
			return err
		}}
	}
	var steps []step
	if cfg.Has(config.TargetMySQL) {
		steps = append(steps, wait(config.SvcMySQL))
	}
	if cfg.Has(config.TargetCassandra) {
		steps = append(steps, wait(config.SvcCassandra))
	}
	return append(steps, wait(config.SvcKafka),
		step{"migrate", func(ctx context.Context) error { return runMigrate(ctx, cfg, logger) }},
		step{"topics", func(ctx context.Context) error { return runTopics(ctx, cfg, logger) }})
}

func runInit(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	for _, s := range initSteps(cfg, logger) {
		if err := s.run(ctx); err != nil {
			return fmt.Errorf("init: %s: %w", s.name, err)
		}
	}
	logger.Info("stack ready: schema applied, topics created")
	return nil
}
