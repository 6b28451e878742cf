// Package browsertest drives the dashboard's page in headless Chromium for tests, here and in the
// end-to-end suite: it finds Debian's chromium, starts it with the flags CI uses, and reads the
// page's parts by the attributes the page gives them (the volume chart's bars carry data-label and
// data-value, a latest-trades row the id trade-<id>). Keeping these readers next to the templates
// keeps the page and its tests in step.
package browsertest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/chromedp/chromedp"
)

// ChromiumPath finds the browser: CHROMIUM_PATH, else chromium (Debian's package) or a
// look-alike on PATH.
func ChromiumPath() (string, error) {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium found (apt-get install -y chromium)")
}

// Start starts headless Chromium at path with a 1280×1600 window; the returned context drives
// it, and cancel stops it.
func Start(ctx context.Context, path string) (context.Context, context.CancelFunc, error) {
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 1600),
	)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	cancel := func() { cancelBrowser(); cancelAlloc() }
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		cancel()
		return nil, nil, fmt.Errorf("start chromium %s: %w", path, err)
	}
	return bctx, cancel, nil
}

// ChartBars reads the volume chart: sector to the value its bar shows.
func ChartBars(ctx context.Context) (map[string]int64, error) {
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[[]struct {
		Label string `json:"label"`
		Value int64  `json:"value"`
	}](`Array.from(document.querySelectorAll('#volume-chart g.bar'))
		.map(g => ({label: g.getAttribute('data-label'), value: Number(g.getAttribute('data-value'))}))`))
	if err != nil {
		return nil, fmt.Errorf("read the volume chart: %w", err)
	}
	out := make(map[string]int64, len(bars))
	for _, b := range bars {
		out[b.Label] = b.Value
	}
	return out, nil
}

// TradeRows lists the element ids (trade-<id>) of the latest-trades table's rows, top first.
func TradeRows(ctx context.Context) ([]string, error) {
	ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('[id^="trade-"]')).map(e => e.id)`))
	if err != nil {
		return nil, fmt.Errorf("read the latest trades: %w", err)
	}
	return ids, nil
}

// TradeRow selects the latest-trades row of trade id.
func TradeRow(id int64) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`[id="trade-%d"]`, id)) }

// Screenshot saves a full-page PNG of the page as dir/name (dir: BROWSER_ARTIFACT_DIR, else a new
// temporary directory) and returns its path.
func Screenshot(ctx context.Context, name string) (string, error) {
	dir := os.Getenv("BROWSER_ARTIFACT_DIR")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "dashboard-browser-"); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives a PNG
	if err != nil {
		return "", fmt.Errorf("screenshot: %w", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// VolumeToday reads MySQL's view volume_today, total volume per sector: what the page's volume
// chart must show.
func VolumeToday(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT sector, total_volume FROM volume_today`)
	if err != nil {
		return nil, fmt.Errorf("read volume_today: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var v int64
		if err := rows.Scan(&s, &v); err != nil {
			return nil, fmt.Errorf("read volume_today: %w", err)
		}
		out[s] = v
	}
	return out, rows.Err()
}
