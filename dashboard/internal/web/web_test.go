package web

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"idxstream/dashboard/internal/market"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got ---\n%s", name, got)
	}
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, target, nil))
	return rec
}

func TestGoldenResponses(t *testing.T) {
	e := newEnv(t, sampleMySQL(), sampleCassandra())
	e.sets.Refresh(t.Context())
	tests := []struct {
		name, target, golden, contentType string
	}{
		{"page", "/", "page.html", "text/html; charset=utf-8"},
		{"volume today", "/api/volume-today", "volume-today.json", "application/json; charset=utf-8"},
		{"timeline", "/api/timeline", "timeline.json", "application/json; charset=utf-8"},
		{"movers", "/api/movers", "movers.json", "application/json; charset=utf-8"},
		{"prices of one ticker", "/api/prices?ticker=bbca", "prices-bbca.json", "application/json; charset=utf-8"},
		{"latest trades", "/api/trades/latest", "trades-latest.json", "application/json; charset=utf-8"},
		{"health", "/api/health", "health.json", "application/json; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, e.h, tt.target)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", ct, tt.contentType)
			}
			golden(t, tt.golden, rec.Body.Bytes())
		})
	}
}

func TestVolumeSortedLargestFirst(t *testing.T) {
	e := newEnv(t, sampleMySQL(), sampleCassandra())
	e.sets.Refresh(t.Context())
	var got envelope[[]market.SectorVolume]
	if err := json.Unmarshal(get(t, e.h, "/api/volume-today").Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(got.Data, func(a, b market.SectorVolume) int { return int(b.TotalVolume - a.TotalVolume) }) {
		t.Errorf("volumes not sorted largest first: %+v", got.Data)
	}
	page := get(t, e.h, "/").Body.String()
	var order []string
	for _, part := range strings.Split(page, `<g class="bar" data-label="`)[1:] {
		order = append(order, part[:strings.Index(part, `"`)])
	}
	want := []string{"Financials", "Energy", "Technology", "Properties &amp; Real Estate"}
	if !slices.Equal(order, want) {
		t.Errorf("bars in order %q, want %q", order, want)
	}
}

// wantSecurityHeaders are the dashboard's strict headers, exactly, so that loosening one takes
// a change here: the page has no inline script or style (TestPageHasNoInlineScriptOrStyle), so
// the CSP allows only the dashboard's own files and connections (the event stream and the JSON
// API), no 'unsafe-…' and no framing.
var wantSecurityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
		"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options":       "nosniff",
	"X-Frame-Options":              "DENY",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=()",
}

// TestSecurityHeaders: every answer carries the strict headers: the page, the event stream,
// every JSON endpoint (also when it answers 503 or 400), static files and the router's own
// 404 and 405.
func TestSecurityHeaders(t *testing.T) {
	ready := newEnv(t, sampleMySQL(), sampleCassandra())
	ready.sets.Refresh(t.Context())
	notLoaded := newEnv(t, sampleMySQL(), sampleCassandra()) // never refreshed: the API answers 503
	tests := []struct {
		name           string
		e              *env
		method, target string
		status         int
	}{
		{"page", ready, http.MethodGet, "/", 200},
		{"event stream", ready, http.MethodGet, "/events", 200},
		{"volume today", ready, http.MethodGet, "/api/volume-today", 200},
		{"timeline", ready, http.MethodGet, "/api/timeline", 200},
		{"movers", ready, http.MethodGet, "/api/movers", 200},
		{"prices", ready, http.MethodGet, "/api/prices", 200},
		{"prices of one ticker", ready, http.MethodGet, "/api/prices?ticker=BBCA", 200},
		{"latest trades", ready, http.MethodGet, "/api/trades/latest", 200},
		{"health", ready, http.MethodGet, "/api/health", 200},
		{"healthz", ready, http.MethodGet, "/healthz", 200},
		{"JSON before the first load", notLoaded, http.MethodGet, "/api/trades/latest", 503},
		{"event stream before the first load", notLoaded, http.MethodGet, "/events", 200},
		{"bad ticker", ready, http.MethodGet, "/api/prices?ticker=" + strings.Repeat("X", 40), 400},
		{"script", ready, http.MethodGet, "/static/app.js", 200},
		{"style", ready, http.MethodGet, "/static/style.css", 200},
		{"not found", ready, http.MethodGet, "/nope", 404},
		{"wrong method", ready, http.MethodPost, "/api/volume-today", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if strings.HasPrefix(tt.target, "/events") {
				// done already: the stream sends its first burst and returns
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			rec := httptest.NewRecorder()
			tt.e.h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, tt.method, tt.target, nil))
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			h := rec.Header()
			for k, want := range wantSecurityHeaders {
				if got := h.Values(k); len(got) != 1 || got[0] != want {
					t.Errorf("%s = %q, want exactly %q", k, got, want)
				}
			}
		})
	}
}

func TestPageHasNoInlineScriptOrStyle(t *testing.T) {
	e := newEnv(t, sampleMySQL(), sampleCassandra())
	e.sets.Refresh(t.Context())
	page := get(t, e.h, "/").Body.String()
	for _, bad := range []string{"<script>", "<style", " style=", " onclick=", " onload="} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q, which the CSP would block", bad)
		}
	}
}

func TestOutputEscaped(t *testing.T) {
	my, cass := sampleMySQL(), sampleCassandra()
	evil := `<script>alert("x")</script>`
	my.volume = append(my.volume, market.SectorVolume{Sector: evil, TotalVolume: 5})
	cass.trades[0].Sector = evil
	e := newEnv(t, my, cass)
	e.sets.Refresh(t.Context())
	page := get(t, e.h, "/").Body.String()
	if strings.Contains(page, evil) {
		t.Error("the page contains an unescaped sector name")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("the escaped sector name is missing")
	}
}

func TestDatabaseDownKeepsLastData(t *testing.T) {
	e := newEnv(t, sampleMySQL(), sampleCassandra())
	e.sets.Refresh(t.Context())
	e.my.set(func(f *fakeMySQL) { f.err = errDown })
	e.cass.set(func(f *fakeCassandra) { f.err = errDown })
	e.sets.Refresh(t.Context())

	page := get(t, e.h, "/").Body.String()
	for _, want := range []string{
		"MySQL is not answering", "Cassandra is not answering", "Showing the last data, fetched at 10:15:30 WIB",
		`data-label="Financials" data-value="4830500"`, `id="trade-1003"`, `<span class="badge degraded">degraded</span>`,
		`data-db="MySQL">not answering`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	rec := get(t, e.h, "/api/volume-today")
	var got envelope[[]market.SectorVolume]
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusOK || !got.Stale || got.Error != "MySQL is not answering" || len(got.Data) != 4 {
		t.Errorf("status %d, answer %+v; want 200, stale, the last 4 sectors", rec.Code, got)
	}
	var hl health
	if err := json.Unmarshal(get(t, e.h, "/api/health").Body.Bytes(), &hl); err != nil {
		t.Fatal(err)
	}
	if hl.Status != "degraded" || hl.Databases[0].Up || hl.Databases[1].Up {
		t.Errorf("health = %+v, want degraded with both databases down", hl)
	}
	if strings.Contains(rec.Body.String(), "connection refused") {
		t.Error("the JSON answer leaks the driver's error text")
	}
}

func TestBeforeFirstLoad(t *testing.T) {
	tests := []struct {
		name      string
		refresh   bool
		wantError string
	}{
		{"not fetched yet", false, "not loaded yet"},
		{"first fetch failed", true, "MySQL is not answering"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			my := sampleMySQL()
			my.err = errDown
			e := newEnv(t, my, sampleCassandra())
			if tt.refresh {
				e.sets.Refresh(t.Context())
			}
			rec := get(t, e.h, "/api/volume-today")
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Errorf("status %d Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
			}
			var got envelope[[]market.SectorVolume]
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Error != tt.wantError || got.Data != nil {
				t.Errorf("answer %+v, want error %q and no data", got, tt.wantError)
			}
			if page := get(t, e.h, "/"); page.Code != http.StatusOK {
				t.Errorf("page status %d", page.Code)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	e := newEnv(t, sampleMySQL(), sampleCassandra())
	e.sets.Refresh(t.Context())
	tests := []struct {
		target   string
		status   int
		ctPrefix string
	}{
		{"/static/app.js", 200, "text/javascript"},
		{"/static/style.css", 200, "text/css"},
		{"/static/favicon.svg", 200, "image/svg+xml"},
		{"/static/missing.js", 404, ""},
		{"/healthz", 200, "application/json"},
		{"/nope", 404, ""},
		{"/api/prices?ticker=" + strings.Repeat("X", 40), 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.target[:min(len(tt.target), 30)], func(t *testing.T) {
			rec := get(t, e.h, tt.target)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.ctPrefix != "" && !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.ctPrefix) {
				t.Errorf("Content-Type %q, want %s...", rec.Header().Get("Content-Type"), tt.ctPrefix)
			}
		})
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/volume-today", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST status %d, want 405", rec.Code)
	}
}

func TestFragmentsFor(t *testing.T) {
	tests := []struct {
		name    string
		changed []string
		want    []string
	}{
		{"nothing", nil, []string{"header", "health"}},
		{"volume", []string{"volume"}, []string{"header", "health", "volume"}},
		{"batch only shows in health", []string{"batch"}, []string{"header", "health"}},
		{"several in page order", []string{"trades", "prices", "timeline"}, []string{"header", "health", "movers", "timeline", "trades"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fragmentsFor(tt.changed); !slices.Equal(got, tt.want) {
				t.Errorf("fragmentsFor(%v) = %v, want %v", tt.changed, got, tt.want)
			}
		})
	}
}

// TestStalledAggregatePath: the health panel and /api/health flag the aggregate path as stalled
// when its last batch is more than three triggers old while trades arrived since, and call it
// idle when no trade arrived since.
func TestStalledAggregatePath(t *testing.T) {
	tests := []struct {
		name       string
		committed  time.Duration // ago
		trades     time.Duration // ago: the newest trade
		state      string
		status     string
		pageLacks  string
		pageShows  []string
		reasonPart string
	}{
		{"stalled: trades arrived since", 10 * time.Minute, 4 * time.Second, "stalled", "degraded", "",
			[]string{`data-agg-state="stalled"`, "stalled: no batch committed for more than 3 × the 1m0s aggregate trigger although trades arrived since",
				`<span class="badge degraded">degraded</span>`}, "although trades arrived since"},
		{"idle: no trade since", 10 * time.Minute, 11 * time.Minute, "idle", "ok", "stalled",
			[]string{`data-agg-state="idle"`, "idle: no trade since"}, "nothing waits"},
		{"within three triggers", 170 * time.Second, 4 * time.Second, "ok", "ok", "stalled", []string{`data-agg-state="ok"`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			my, cass := sampleMySQL(), sampleCassandra()
			my.batch.CommittedAt = fixedNow.Add(-tt.committed)
			for i := range cass.trades {
				cass.trades[i].CreatedAt = fixedNow.Add(-tt.trades - time.Duration(i)*time.Second)
			}
			for k, s := range cass.series {
				s.Updated = fixedNow.Add(-tt.trades)
				cass.series[k] = s
			}
			e := newEnv(t, my, cass)
			e.sets.Refresh(t.Context())
			var hl health
			if err := json.Unmarshal(get(t, e.h, "/api/health").Body.Bytes(), &hl); err != nil {
				t.Fatal(err)
			}
			if hl.LastBatch == nil || hl.LastBatch.State != tt.state || hl.Status != tt.status || !strings.Contains(hl.LastBatch.Reason, tt.reasonPart) {
				t.Fatalf("health %+v (last batch %+v), want state %s, status %s", hl, hl.LastBatch, tt.state, tt.status)
			}
			page := get(t, e.h, "/").Body.String()
			for _, want := range tt.pageShows {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if tt.pageLacks != "" && strings.Contains(page, "; "+tt.pageLacks) {
				t.Errorf("page says %q", tt.pageLacks)
			}
		})
	}
}
