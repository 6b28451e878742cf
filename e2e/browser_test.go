//go:build e2e && browser

package e2e

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/twmb/franz-go/pkg/kgo"

	"idxstream/dashboard/browsertest"
	"idxstream/e2e/pipeline"
	"idxstream/testkit"
	"idxstream/trade"
)

// TestBrowserWhilePipelineRuns opens the dashboard in headless Chromium while the producer, the
// job and the dashboard run, and checks what a person watching the page relies on: the volume
// chart's bars equal MySQL's volume_today as batches keep committing, the latest-trades table
// follows the producer, and a trade written to Kafka reaches that table through the job and
// Cassandra with its values, all without a reload. It saves a screenshot to BROWSER_ARTIFACT_DIR
// (default: a new temporary directory).
func TestBrowserWhilePipelineRuns(t *testing.T) {
	chromium, err := browsertest.ChromiumPath()
	testkit.Require(t, "chromium", err)
	p := pipeline.New(t, suite)
	c, topic := p, p.Topic
	dash := p.NS.MySQL(t, testkit.Dashboard) // the views are the dashboard's to read

	job := p.StartJob()
	dashAddr := p.StartDashboard("1s")
	producer := p.Start("producer", nil, "--rate", "200", "--interval", "250ms", "--progress", "0", topic)

	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	bctx, stopBrowser, err := browsertest.Start(ctx, chromium)
	if err != nil {
		t.Fatal(err)
	}
	defer stopBrowser()

	// The job commits its first aggregate batch of this topic within a trigger or two; wait for
	// it so that the chart is compared with data the pipeline wrote.
	testkit.Eventually(t, 5*time.Minute, "the job's first aggregate batch of the topic", func() error {
		var n int
		if err := c.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM agg_batches WHERE topic = ? AND committed_at IS NOT NULL AND trades > 0`, topic).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("none committed yet")
		}
		return nil
	}, job)
	if err := chromedp.Do(bctx, chromedp.Navigate("http://"+dashAddr), chromedp.WaitVisible(chromedp.CSS("#volume-chart"))); err != nil {
		t.Fatalf("load the page: %v", err)
	}

	// Batches keep committing while the page is open: the chart must catch up with the view by
	// itself (live updates), so compare until both agree.
	var chart, view map[string]int64
	for attempt := 0; ; attempt++ {
		if chart, err = browsertest.ChartBars(bctx); err != nil {
			t.Fatal(err)
		}
		if view, err = browsertest.VolumeToday(ctx, dash); err != nil {
			t.Fatal(err)
		}
		if len(view) > 0 && maps.Equal(chart, view) {
			break
		}
		if attempt == 120 {
			t.Fatalf("chart bars never matched volume_today while the pipeline ran:\nchart %v\nview  %v", chart, view)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("chart = volume_today: %v", chart)

	if _, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.__loaded = "first-load"`)); err != nil {
		t.Fatal(err)
	}
	// The latest-trades table follows the producer's trades by itself.
	before, err := browsertest.TradeRows(bctx)
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		rows, err := browsertest.TradeRows(bctx)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(rows, func(id string) bool { return !slices.Contains(before, id) }) {
			break
		}
		if attempt == 120 {
			t.Fatalf("the latest trades never changed while the producer ran: %v", before)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Then one trade, produced once the producer has stopped (so that it stays the newest) with an
	// id no producer hands out, must appear, with its values.
	if err := producer.Stop(t, syscall.SIGTERM, time.Minute); err != nil {
		t.Errorf("producer did not exit 0 on SIGTERM: %v", err)
	}
	var ticker, sector string
	var shares int64
	if err := c.DB.QueryRowContext(ctx, "SELECT ticker, sector, shares FROM profile ORDER BY ticker LIMIT 1").Scan(&ticker, &sector, &shares); err != nil {
		t.Fatalf("read a company: %v", err)
	}
	// A valid trade by the contract: on the price grid (4,320 is a multiple of 10), whole lots,
	// market cap of the listed shares.
	tr := trade.Trade{ID: 900_000_000_000_000_000 + rand.Int64N(1e15), Ticker: ticker, Sector: sector,
		CreatedAt: time.Now().UTC(), Price: 4_320, MarketCap: 4_320 * float64(shares), Volume: 7_700}
	if err := c.Kafka.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: trade.AppendBatch(nil, []trade.Trade{tr})}).FirstErr(); err != nil {
		t.Fatalf("produce the marked trade: %v", err)
	}
	row := browsertest.TradeRow(tr.ID)
	if err := chromedp.Do(bctx, chromedp.WaitVisible(row)); err != nil {
		t.Fatalf("trade %d did not appear on the page: %v", tr.ID, err)
	}
	rowText, err := chromedp.Run(bctx, chromedp.Text(row))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{ticker, "7,700", "4,320"} {
		if !strings.Contains(rowText, want) {
			t.Errorf("trade row %q lacks %q", rowText, want)
		}
	}
	marker, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.__loaded || "reloaded"`))
	if err != nil {
		t.Fatal(err)
	}
	if marker != "first-load" {
		t.Errorf("the page was reloaded (marker %q)", marker)
	}

	// Once the aggregate path has caught up, the chart shows exactly the volume this test produced
	// today: the producer's trades (read back from the topic) and the marked one.
	produced := pipeline.TodayBySector(p.ConsumeTrades(), p.Zone())
	testkit.Eventually(t, 3*time.Minute, "chart bars = the volume the test produced today", func() error {
		bars, err := browsertest.ChartBars(bctx)
		if err != nil {
			return err
		}
		return pipeline.SameVolumes(bars, produced)
	}, job)

	shot, err := browsertest.Screenshot(bctx, "dashboard-pipeline.png")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	if err := job.Stop(t, syscall.SIGTERM, 3*time.Minute); err != nil {
		t.Errorf("job did not exit 0 on SIGTERM: %v", err)
	}
}
