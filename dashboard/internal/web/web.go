// Package web serves the dashboard: the page (server-rendered HTML with inline SVG charts), live
// updates as server-sent events, JSON endpoints for the same data, a health endpoint and the
// embedded static assets.
//
// Handlers only read the cached snapshots of package dataset; they never query a database, so
// any number of open pages costs the databases what one poller costs. Each page fragment is
// rendered once per change of its data and shared by all streams.
//
// Routes:
//
//	GET /                    the page
//	GET /events              server-sent events; event name = fragment, data = its new HTML
//	                         as one JSON string
//	GET /api/volume-today    volume_today, largest first
//	GET /api/timeline        volume_timeline_today
//	GET /api/movers          price change since the open per ticker, largest first
//	GET /api/prices          today's recent prices per ticker (?ticker=BBCA for one)
//	GET /api/trades/latest   newest raw trades
//	GET /api/health          lag, last batch, database status
//	GET /healthz             liveness of the dashboard itself (always 200 while serving)
//	GET /metrics             Prometheus metrics (when Config.Metrics is set)
//	GET /static/...          CSS, script, icon
package web

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"idxstream/dashboard/internal/dataset"
	"idxstream/dashboard/internal/feed"
	"idxstream/dashboard/internal/svgchart"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures the handler.
type Config struct {
	// Sets are the data sets to show (required).
	Sets *dataset.Sets
	// Broker carries the data sets' change notices (required; the one given to dataset.New).
	Broker *feed.Broker
	// Logger (default: discard).
	Logger *slog.Logger
	// Movers is how many tickers the movers table shows (default 10).
	Movers int
	// Heartbeat is how often an idle event stream gets a comment line (default 20 s), so that
	// proxies keep it open and a dead client is noticed.
	Heartbeat time.Duration
	// AggTrigger is the job's aggregate trigger (default 60 s): the health panel reports the
	// aggregate path stalled after market.StallTriggers of them without a batch while trades
	// arrive.
	AggTrigger time.Duration
	// Metrics, when set, answers GET /metrics.
	Metrics http.Handler
}

// Handler is the dashboard's http.Handler. Close ends the open event streams (call it on
// shutdown: http.Server.RegisterOnShutdown(h.Close)).
type Handler struct {
	cfg   Config
	sets  *dataset.Sets
	log   *slog.Logger
	tmpl  *template.Template
	mux   *http.ServeMux
	cache fragmentCache
	json  jsonCache
	done  chan struct{}
	close func()
}

// New returns the handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Sets == nil || cfg.Broker == nil {
		return nil, fmt.Errorf("new web handler: Sets and Broker are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Movers <= 0 {
		cfg.Movers = 10
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 20 * time.Second
	}
	if cfg.AggTrigger <= 0 {
		cfg.AggTrigger = time.Minute
	}
	h := &Handler{cfg: cfg, sets: cfg.Sets, log: cfg.Logger, mux: http.NewServeMux(), done: make(chan struct{})}
	h.close = sync.OnceFunc(func() { close(h.done) })
	loc := cfg.Sets.Location()
	t, err := template.New("web").Funcs(template.FuncMap{
		"clock":     func(t time.Time) string { return t.In(loc).Format("15:04:05 MST") },
		"thousands": svgchart.Thousands,
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	h.tmpl = t
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("static assets: %w", err)
	}
	h.mux.HandleFunc("GET /{$}", h.page)
	h.mux.HandleFunc("GET /events", h.events)
	h.mux.HandleFunc("GET /api/volume-today", h.apiVolume)
	h.mux.HandleFunc("GET /api/timeline", h.apiTimeline)
	h.mux.HandleFunc("GET /api/movers", h.apiMovers)
	h.mux.HandleFunc("GET /api/prices", h.apiPrices)
	h.mux.HandleFunc("GET /api/trades/latest", h.apiTrades)
	h.mux.HandleFunc("GET /api/health", h.apiHealth)
	h.mux.HandleFunc("GET /healthz", h.healthz)
	if cfg.Metrics != nil {
		h.mux.Handle("GET /metrics", cfg.Metrics)
	}
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(time.Hour, http.FileServerFS(static))))
	return h, nil
}

// ServeHTTP adds the security headers and dispatches.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	h.mux.ServeHTTP(w, r)
}

// Route is the pattern of the route that serves r ("GET /api/health"), or "" when none does: a
// bounded name for the request, for the metrics.
func (h *Handler) Route(r *http.Request) string {
	_, pattern := h.mux.Handler(r)
	return pattern
}

// Close ends every open event stream; safe to call once from http.Server.RegisterOnShutdown.
func (h *Handler) Close() { h.close() }

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	v := fmt.Sprintf("public, max-age=%d", int(d.Seconds()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", v)
		next.ServeHTTP(w, r)
	})
}

// pageView is the page: every panel of the table panels, in its order, with its current HTML.
type pageView struct {
	Panels []renderedPanel
}

type renderedPanel struct {
	panel
	HTML template.HTML
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	var v pageView
	for _, p := range panels {
		html, err := h.fragment(p.Name)
		if err != nil {
			h.log.Error("render page", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		v.Panels = append(v.Panels, renderedPanel{panel: p, HTML: html})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := h.tmpl.ExecuteTemplate(w, "page", v); err != nil {
		h.log.Warn("write page", "err", err)
	}
}
