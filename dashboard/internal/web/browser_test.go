//go:build browser

package web

import (
	"context"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"idxstream/dashboard/browsertest"
	"idxstream/dashboard/internal/itest"
)

// TestBrowserShowsLiveData loads the page from a dashboard over the real databases in headless
// Chromium, checks that the volume chart's bars equal MySQL's volume_today, that a trade
// inserted afterwards appears without a reload, that the CSP blocks nothing the page needs, and
// saves a screenshot to BROWSER_ARTIFACT_DIR (default: a new temporary directory).
func TestBrowserShowsLiveData(t *testing.T) {
	chromium, err := browsertest.ChromiumPath()
	if err != nil {
		itest.Unavailable(t, "%v", err)
	}
	e := newRealEnv(t, 500*time.Millisecond, time.Second)
	job := e.mysql.Open(t, e.mysql.JobUser, e.mysql.JobPassword)
	dash := e.mysql.Open(t, e.mysql.DashUser, e.mysql.DashPass)
	sess := e.cass.Session(t)

	today := itest.MarketToday(t, job)
	tag := itest.RandomTag(5)
	mine := []itest.SectorRow{{Sector: "Browser test " + tag, Volume: 2_500_000}, {Sector: "Browser test " + tag + " small", Volume: 12_300}}
	itest.InsertAggregates(t, job, today, time.Now().UTC(), mine)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var pollers sync.WaitGroup
	pollCtx, stopPolling := context.WithCancel(ctx)
	pollers.Go(func() { e.sets.Run(pollCtx) })
	t.Cleanup(func() { stopPolling(); pollers.Wait() })

	bctx, stopBrowser, err := browsertest.Start(ctx, chromium)
	if err != nil {
		t.Fatal(err)
	}
	defer stopBrowser()

	// Collect what the page writes to the console: exceptions, errors, CSP violations.
	var (
		mu       sync.Mutex
		problems []string
		probed   bool // the listener saw the probe below, so it does hear the console
	)
	consoleCtx, stopConsole := context.WithCancel(bctx)
	defer stopConsole()
	messages := chromedp.Console(consoleCtx)
	var reader sync.WaitGroup
	reader.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			switch {
			case strings.Contains(m.Text, "dashboard-console-probe"):
				probed = true
			case m.IsException() || m.Type == chromedp.ConsoleError || strings.Contains(m.Text, "Content Security Policy"):
				problems = append(problems, m.String())
			}
			mu.Unlock()
		}
	})

	if err := chromedp.Do(bctx, chromedp.Navigate(e.srv.URL),
		chromedp.WaitVisible(chromedp.CSS("#volume-chart"))); err != nil {
		t.Fatalf("load the page: %v", err)
	}

	// The chart's bars equal volume_today. The pipeline may commit a batch meanwhile, so compare
	// until both agree (the chart follows by itself).
	var chart, view map[string]int64
	for attempt := 0; ; attempt++ {
		if chart, err = browsertest.ChartBars(bctx); err != nil {
			t.Fatal(err)
		}
		if view, err = browsertest.VolumeToday(ctx, dash); err != nil {
			t.Fatal(err)
		}
		if maps.Equal(chart, view) {
			break
		}
		if attempt == 60 || ctx.Err() != nil {
			t.Fatalf("chart bars never matched volume_today:\nchart %v\nview  %v", chart, view)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, r := range mine {
		if chart[r.Sector] != r.Volume {
			t.Errorf("chart shows %s = %d, inserted %d", r.Sector, chart[r.Sector], r.Volume)
		}
	}

	// A trade inserted now appears without a reload.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.__loaded = "first-load"`)); err != nil {
		t.Fatal(err)
	}
	ticker, _ := itest.AnyCompany(t, dash)
	trade := itest.Trade{ID: itest.RandomID(), CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
		Ticker: ticker, Volume: 4_200, Price: 1_234}
	itest.InsertTickerTrade(t, sess, trade, today)
	row := browsertest.TradeRow(trade.ID)
	if err := chromedp.Do(bctx, chromedp.WaitVisible(row)); err != nil {
		t.Fatalf("the inserted trade did not appear: %v", err)
	}
	rowText, err := chromedp.Run(bctx, chromedp.Text(row))
	if err != nil {
		t.Fatal(err)
	}
	marker, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.__loaded || "reloaded"`))
	if err != nil {
		t.Fatal(err)
	}
	if marker != "first-load" {
		t.Errorf("the page was reloaded (marker %q)", marker)
	}
	for _, want := range []string{trade.Ticker, "4,200", "1,234"} {
		if !strings.Contains(rowText, want) {
			t.Errorf("trade row %q lacks %q", rowText, want)
		}
	}
	live, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#live")))
	if err != nil {
		t.Fatal(err)
	}
	if live != "connected" {
		t.Errorf("live status %q, want connected", live)
	}

	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`console.error("dashboard-console-probe"); true`)); err != nil {
		t.Fatal(err)
	}
	shot, err := browsertest.Screenshot(bctx, "dashboard.png")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	for i := 0; i < 100; i++ { // console messages arrive asynchronously
		mu.Lock()
		seen := probed
		mu.Unlock()
		if seen {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopConsole()
	reader.Wait()
	mu.Lock()
	defer mu.Unlock()
	if !probed {
		t.Error("the console listener missed the probe message; it cannot vouch for the page")
	}
	for _, p := range problems {
		t.Errorf("browser reported %s", p)
	}
}
