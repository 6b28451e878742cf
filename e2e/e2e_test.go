//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"idxstream/e2e/pipeline"
	"idxstream/testkit"
	"idxstream/testkit/check"
)

// TestEndToEnd: producer -> Kafka -> job -> Cassandra and MySQL -> dashboard, with a Kafka
// broker restart while the producer runs and the job killed at a chosen point (a fault hook, after
// it wrote an aggregate batch's rows and before it committed them) in the middle of the stream.
// Every table the job writes must hold exactly the trades the producer wrote, rejects the
// malformed records, and the dashboard must show the volume the test itself produced.
func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	p := pipeline.New(t, suite)
	dashAddr := p.StartDashboard("2s")

	// Malformed records mixed into the stream: they must not stop anything nor reach the tables.
	bad := []struct{ value, reason string }{
		{`garbage`, "record is not a JSON array"},
		{`{"id":1}`, "record is not a JSON array"},
		{`[{"id":"x"}]`, "id is not a positive integer"},
		{`[{"id":5,"ticker":"BBCA","sector":"Financials","price":-1}]`, "missing created_at"},
		{`[{"id":6,"ticker":"TMAS.JK","sector":"Energy"}]`, "ticker not listed in profile"},
	}
	wantReasons := map[string]int{}
	for _, b := range bad {
		if err := p.Kafka.ProduceSync(ctx, &kgo.Record{Topic: p.Topic, Key: []byte("bad"), Value: []byte(b.value)}).FirstErr(); err != nil {
			t.Fatalf("produce malformed: %v", err)
		}
		wantReasons[b.reason]++
	}

	// The first job dies by itself after writing its second aggregate batch's rows, before
	// committing it; the second one must replay that batch exactly once.
	job := p.StartJob("JOB_FAULT=agg.written:2")
	producer := p.Start("producer", nil, "--rate", "400", "--interval", "250ms", "--count", "12000", "--progress", "5s", p.Topic)
	testkit.Eventually(t, 2*time.Minute, "a first part of the producer's trades in Kafka", func() error {
		n, err := p.Records(ctx)
		if err == nil && n < 20 {
			err = fmt.Errorf("%d records so far", n)
		}
		return err
	}, producer)
	t.Log("restarting the Kafka broker while the producer runs")
	testkit.StackCmd(t, "restart", "kafka")
	if err := job.Wait(t, 6*time.Minute); err == nil || !strings.Contains(job.Output(), "fault: killing the job at agg.written") {
		t.Fatalf("the job did not die at its fault point (exit %v):\n%s", err, job.Tail(40))
	}
	job = p.StartJob()
	if err := producer.Wait(t, 5*time.Minute); err != nil {
		t.Fatalf("producer did not finish cleanly across the broker restart: %v", err)
	}

	// What Kafka holds is what the pipeline must deliver: every trade the producer wrote, once.
	want := p.ConsumeTrades()
	if len(want) != 12000 {
		t.Fatalf("topic holds %d trades, want the 12000 the producer was asked for", len(want))
	}
	p.WaitExact(want, job)
	if err := check.RejectReasons(ctx, p.Cass, wantReasons); err != nil {
		t.Error(err)
	}
	produced := pipeline.TodayBySector(want, p.Zone())
	testkit.Eventually(t, 2*time.Minute, "the dashboard's volume by sector = the volume the test produced today", func() error {
		got, err := pipeline.DashboardVolume(dashAddr)
		if err != nil {
			return err
		}
		return pipeline.SameVolumes(got, produced)
	})
	if err := job.Stop(t, syscall.SIGTERM, 3*time.Minute); err != nil {
		t.Fatalf("job did not exit 0 on SIGTERM: %v", err)
	}
}
