//go:build integration

package jobtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"idxstream/spark_script/internal/jobmetrics"
	"idxstream/spark_script/internal/statusapi"
	"idxstream/testkit"
	"idxstream/testkit/scrape"
)

// TestMetricsAndHealth runs the job with an aggregate path that cannot commit (its batch log is
// locked by another client) and scrapes its /metrics while trades flow: the raw path's counters
// follow the trades and the rejects, and the aggregate path, which commits nothing while input
// waits, shows as stalled in /status and in the metrics. The aggregate trigger is short so that
// three of them pass quickly.
func TestMetricsAndHealth(t *testing.T) {
	s := connect(t)
	topic := s.newTopic(t, 3)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 17))
	all := makeTrades(3000, rng)
	first, second := all[:2000], all[2000:]
	bad, reasons, odd := malformed(all[0], int64(len(all)+1)) // odd: the good trades of the malformed records
	rejects := 0
	for _, n := range reasons {
		rejects += n
	}
	s.produce(t, topic, first, 50)
	s.produceRaw(t, topic, bad)

	// The aggregate path is held up while the raw path runs: another client's transaction locks
	// agg_batches, where the path records its batches (its plan waits for the lock, times out and
	// is retried); the raw path never touches that table.
	ctx := context.Background()
	lock, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback() //nolint:errcheck // released at the end either way
	if _, err := lock.ExecContext(ctx, `SELECT batch_id FROM agg_batches FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	addr := testkit.FreeAddr(t)
	j := s.startJob(t, topic, "JOB_STATUS_ADDR="+addr, "JOB_AGG_TRIGGER=5s")
	metricsURL := "http://" + addr + "/metrics"
	var m scrape.Families
	rows := func(want float64) func() error {
		return func() error {
			var err error
			if m, err = scrape.Get(ctx, metricsURL); err != nil {
				return err
			}
			// Both trade tables (the output rows of the raw path are counted per table).
			for _, q := range []string{"real_time_data", "trades_by_ticker"} {
				got, _ := m.Value("idxstream_job_output_rows_total", "path", "raw", "query", q)
				if got < want {
					return fmt.Errorf("%v rows written to %s, waiting for %v", got, q, want)
				}
			}
			return nil
		}
	}
	testkit.Eventually(t, 5*time.Minute, "the first trades counted in /metrics for both trade tables", rows(float64(len(first)+len(odd))), j)
	testkit.Eventually(t, 2*time.Minute, "every reject counted in /metrics", func() error {
		var err error
		if m, err = scrape.Get(ctx, metricsURL); err != nil {
			return err
		}
		if got, _ := m.Value("idxstream_job_rejected_rows_total", "topic", topic); got < float64(rejects) {
			return fmt.Errorf("%v rejected rows, waiting for %d", got, rejects)
		}
		return nil
	}, j)
	for name, want := range map[string]float64{
		"idxstream_job_rejected_rows_total": float64(rejects),
		"idxstream_job_lease_held":          1,
	} {
		if got, ok := m.Value(name, "topic", topic); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	for _, name := range []string{"idxstream_job_batches_total", "idxstream_job_input_rows_total"} {
		if got, _ := m.Value(name, "path", "raw", "query", "raw"); got < 1 {
			t.Errorf("%s{query=raw} = %v, want some", name, got)
		}
	}
	if n, _ := m.Count("idxstream_job_batch_duration_seconds", "path", "raw"); n == 0 {
		t.Error("no raw batch duration observed")
	}
	if _, ok := m.Value("idxstream_job_last_batch_timestamp_seconds", "path", "raw", "query", "raw"); !ok {
		t.Error("no last batch time of the raw query")
	}
	if b, _ := m.Value("idxstream_job_batches_total", "path", "aggregate"); b != 0 {
		t.Errorf("%v aggregate batches committed while agg_batches was locked", b)
	}

	s.produce(t, topic, second, 50)
	testkit.Eventually(t, 3*time.Minute, "the counters follow the second wave of trades", rows(float64(len(all)+len(odd))), j)

	// The aggregate path has had input waiting for more than three of its 5 s triggers.
	var st struct {
		Health jobmetrics.Health `json:"health"`
	}
	testkit.Eventually(t, 2*time.Minute, "the aggregate path reported stalled in /status", func() error {
		var out strings.Builder
		if err := statusapi.Fetch(ctx, addr, &out); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(out.String()), &st); err != nil {
			return err
		}
		for _, p := range st.Health.Paths {
			if p.Path == jobmetrics.PathAggregate && p.State == jobmetrics.StateStalled {
				return nil
			}
		}
		return fmt.Errorf("health %+v", st.Health)
	}, j)
	if st.Health.Status != jobmetrics.StateStalled {
		t.Errorf("overall status %q, want stalled", st.Health.Status)
	}
	for _, p := range st.Health.Paths {
		t.Logf("%s %s: %s %s", p.Path, p.Query, p.State, p.Reason)
		switch {
		case p.Path == jobmetrics.PathAggregate && !strings.Contains(p.Reason, "not aggregated"):
			t.Errorf("aggregate stall reason %q does not say that input waits", p.Reason)
		case p.Path == jobmetrics.PathRaw && p.State == jobmetrics.StateStalled:
			t.Errorf("raw query %s stalled: %s", p.Query, p.Reason)
		}
	}
	m, err = scrape.Get(ctx, metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Value("idxstream_job_path_stalled", "path", "aggregate"); v != 1 {
		t.Errorf("idxstream_job_path_stalled{path=aggregate} = %v, want 1", v)
	}
	if v, _ := m.Value("idxstream_job_path_stalled", "path", "raw"); v != 0 {
		t.Errorf("idxstream_job_path_stalled{path=raw} sums to %v, want 0", v)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := j.Stop(t, syscall.SIGTERM, 3*time.Minute); err != nil {
		t.Fatalf("job did not exit 0 on SIGTERM: %v", err)
	}
}
