//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"idxstream/dashboard/internal/config"
	"idxstream/dashboard/internal/itest"
	"idxstream/testkit"
	"idxstream/testkit/scrape"
)

// suite gives the tests of package main namespaces of their own (testkit).
var suite = testkit.NewSuite("dashmain")

func TestMain(m *testing.M) { os.Exit(suite.Run(m)) }

// TestMetricsAndStalledAggregatePath runs the dashboard as main does over the real databases,
// in a fresh namespace so that last_batch holds only this test's batches. With a last batch ten
// minutes old and a trade just written, the health panel and /metrics report the aggregate path
// stalled; a new batch clears it. Requests, the data lag and the data sets move meanwhile.
func TestMetricsAndStalledAggregatePath(t *testing.T) {
	ns := suite.FreshNamespace(t)
	my := itest.MySQLFromEnv(t, ns)
	cass := itest.CassandraFromEnv(t, ns)
	job := my.Open(t, my.JobUser, my.JobPassword)
	ses := cass.Session(t)

	addr := testkit.FreeAddr(t)
	override := map[string]string{"DASHBOARD_ADDR": addr, "MYSQL_DATABASE": ns.Database(), "CASSANDRA_KEYSPACE": ns.Keyspace(),
		"DASHBOARD_RAW_INTERVAL": "200ms", "DASHBOARD_AGG_INTERVAL": "200ms", "DASHBOARD_QUERY_TIMEOUT": "5s", "JOB_AGG_TRIGGER": "60s"}
	cfg, err := config.Load(nil, func(k string) string {
		if v, ok := override[k]; ok {
			return v
		}
		return testkit.Getenv(k, "")
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()

	// An aggregate batch committed ten minutes ago, and a trade written now.
	batch := func(id int64, committed time.Time) {
		t.Helper()
		if _, err := job.ExecContext(ctx, `INSERT INTO agg_batches (batch_id, topic, start_offsets, end_offsets, planned_at, committed_at, trades)
			VALUES (?, 'itest', '{}', '{}', ?, ?, 0)`, id, committed.Add(-time.Second), committed); err != nil {
			t.Fatalf("insert agg_batches as the job user: %v", err)
		}
	}
	now := time.Now().UTC()
	batch(1, now.Add(-10*time.Minute))
	today := itest.MarketToday(t, job)
	ticker, _ := itest.AnyCompany(t, job)
	itest.InsertTickerTrade(t, ses, itest.Trade{ID: itest.RandomID(), CreatedAt: now.Truncate(time.Millisecond), Ticker: ticker, Volume: 100, Price: 1000}, today)

	base := "http://" + addr
	var hl struct {
		Status    string `json:"status"`
		LastBatch *struct {
			State, Reason string
		} `json:"last_batch"`
	}
	aggState := func() string {
		resp, err := http.Get(base + "/api/health")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&hl); err != nil || hl.LastBatch == nil {
			return fmt.Sprintf("no last batch yet (%v)", err)
		}
		return hl.LastBatch.State
	}
	testkit.Eventually(t, time.Minute, "the aggregate path reported stalled", func() error {
		if s := aggState(); s != "stalled" {
			return fmt.Errorf("aggregate path %s", s)
		}
		return nil
	})
	if hl.Status != "degraded" {
		t.Errorf("health status %q with a stalled aggregate path, want degraded", hl.Status)
	}

	f, err := scrape.Get(ctx, base+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	check := func(f scrape.Families, name string, ok func(float64) bool, pairs ...string) {
		t.Helper()
		v, present := f.Value(name, pairs...)
		if !present || !ok(v) {
			t.Errorf("%s%v = %v (present %v)", name, pairs, v, present)
		}
	}
	check(f, "idxstream_dashboard_aggregate_stalled", func(v float64) bool { return v == 1 })
	check(f, "idxstream_dashboard_last_batch_age_seconds", func(v float64) bool { return v >= 600 && v < 700 })
	check(f, "idxstream_dashboard_data_lag_seconds", func(v float64) bool { return v >= 0 && v < 60 })
	check(f, "idxstream_dashboard_dataset_up", func(v float64) bool { return v == 5 }) // all five answer
	check(f, "idxstream_dashboard_database_errors_total", func(v float64) bool { return v == 0 })
	check(f, "idxstream_dashboard_dataset_age_seconds", func(v float64) bool { return v < 30 }, "dataset", "trades", "database", "cassandra")
	before, _ := f.Count("idxstream_dashboard_request_duration_seconds", "endpoint", "/api/health", "code", "200")
	if before == 0 {
		t.Error("no /api/health request counted")
	}

	// A fresh batch: the path is fine again, and the requests of the wait are counted.
	batch(2, time.Now().UTC())
	testkit.Eventually(t, time.Minute, "the aggregate path ok after a new batch", func() error {
		if s := aggState(); s != "ok" {
			return fmt.Errorf("aggregate path %s", s)
		}
		return nil
	})
	f, err = scrape.Get(ctx, base+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	check(f, "idxstream_dashboard_aggregate_stalled", func(v float64) bool { return v == 0 })
	check(f, "idxstream_dashboard_last_batch_age_seconds", func(v float64) bool { return v < 60 })
	if after, _ := f.Count("idxstream_dashboard_request_duration_seconds", "endpoint", "/api/health", "code", "200"); after <= before {
		t.Errorf("/api/health requests counted %d, then %d", before, after)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}
