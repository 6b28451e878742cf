//go:build integration

package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"idxstream/testkit"
	"idxstream/testkit/scrape"
)

// TestIntegrationMetricsFollowTheBroker runs the producer with --metrics-addr against the real
// broker and scrapes /metrics while it produces: the acknowledged count grows as trades flow,
// nothing fails, the latency histogram fills, and the topic holds at least the trades the
// metrics counted as acknowledged.
func TestIntegrationMetricsFollowTheBroker(t *testing.T) {
	addr := testkit.FreeAddr(t)
	cfg := testConfig(t, "--rate", "2000", "--interval", "50ms", "--metrics-addr", addr)
	checkMySQL(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, discardLogger()) }()

	url := "http://" + addr + "/metrics"
	acked := func() (float64, scrape.Families, error) {
		f, err := scrape.Get(ctx, url)
		if err != nil {
			return 0, nil, err
		}
		v, ok := f.Value("idxstream_producer_trades_acknowledged_total", "topic", cfg.Topic)
		if !ok {
			return 0, nil, fmt.Errorf("no idxstream_producer_trades_acknowledged_total{topic=%q}", cfg.Topic)
		}
		return v, f, nil
	}
	var first float64
	testkit.Eventually(t, time.Minute, "trades acknowledged in /metrics", func() error {
		v, _, err := acked()
		if err == nil && v == 0 {
			err = fmt.Errorf("0 trades acknowledged so far")
		}
		first = v
		return err
	})
	var last scrape.Families
	var lastAcked float64
	testkit.Eventually(t, time.Minute, "the acknowledged count grows while the producer runs", func() error {
		v, f, err := acked()
		if err != nil {
			return err
		}
		if v <= first {
			return fmt.Errorf("still %v trades acknowledged", v)
		}
		last, lastAcked = f, v
		return nil
	})
	if failed, _ := last.Value("idxstream_producer_records_failed_total"); failed != 0 {
		t.Errorf("%v records failed", failed)
	}
	if produced, _ := last.Value("idxstream_producer_trades_produced_total"); produced < lastAcked {
		t.Errorf("%v trades produced but %v acknowledged", produced, lastAcked)
	}
	if n, _ := last.Count("idxstream_producer_produce_latency_seconds"); n == 0 {
		t.Error("no produce latency observed")
	}
	if b, _ := last.Value("idxstream_producer_acknowledged_bytes_total"); b < lastAcked*50 {
		t.Errorf("%v bytes acknowledged for %v trades", b, lastAcked)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := consumeAll(t, cfg, int(lastAcked)); float64(len(got)) < lastAcked {
		t.Errorf("%d trades in the topic, fewer than the %v the metrics counted as acknowledged", len(got), lastAcked)
	}
}
