package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"idxstream/dashboard/internal/feed"
	"idxstream/dashboard/internal/market"
)

// envelope is the shape of every data endpoint's answer.
type envelope[T any] struct {
	// Data is the last value fetched (null before the first success).
	Data T `json:"data"`
	// FetchedAt is when Data was read from its database.
	FetchedAt time.Time `json:"fetched_at,omitzero"`
	// Stale is true when the last read failed and Data is older than one interval.
	Stale bool `json:"stale"`
	// Error says which database is not answering (details are in the server log).
	Error string `json:"error,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away
}

// serveSnapshot answers with the snapshot's data mapped through f. Before the first successful
// read it answers 503 with Retry-After.
func serveSnapshot[T, U any](w http.ResponseWriter, source string, s feed.Snapshot[T], f func(T) U) {
	env := envelope[U]{FetchedAt: s.FetchedAt, Stale: s.Err != nil}
	if s.Err != nil {
		env.Error = source + " is not answering"
	}
	if !s.HasValue {
		if env.Error == "" {
			env.Error = "not loaded yet"
		}
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, env)
		return
	}
	env.Data = f(s.Value)
	writeJSON(w, http.StatusOK, env)
}

func same[T any](v T) T { return v }

func (h *Handler) apiVolume(w http.ResponseWriter, r *http.Request) {
	serveSnapshot(w, "MySQL", h.sets.Volume.Snapshot(), same)
}

func (h *Handler) apiTimeline(w http.ResponseWriter, r *http.Request) {
	serveSnapshot(w, "MySQL", h.sets.Timeline.Snapshot(), same)
}

func (h *Handler) apiTrades(w http.ResponseWriter, r *http.Request) {
	serveSnapshot(w, "Cassandra", h.sets.Trades.Snapshot(), same)
}

func (h *Handler) apiMovers(w http.ResponseWriter, r *http.Request) {
	serveSnapshot(w, "Cassandra", h.sets.Prices.Snapshot(), market.Movers)
}

func (h *Handler) apiPrices(w http.ResponseWriter, r *http.Request) {
	ticker := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("ticker")))
	if len(ticker) > 16 {
		http.Error(w, "ticker too long", http.StatusBadRequest)
		return
	}
	serveSnapshot(w, "Cassandra", h.sets.Prices.Snapshot(), func(all []market.TickerSeries) []market.TickerSeries {
		if ticker == "" {
			return all
		}
		out := []market.TickerSeries{}
		for _, s := range all {
			if s.Ticker == ticker {
				out = append(out, s)
			}
		}
		return out
	})
}

func (h *Handler) apiHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.health())
}

// healthz reports that the dashboard serves; the databases' state is in /api/health.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	hl := h.health()
	w.Header().Set("X-Dashboard-Status", hl.Status)
	writeJSON(w, http.StatusOK, map[string]string{"status": "serving", "data": hl.Status,
		"subscribers": strconv.Itoa(h.cfg.Broker.Len())})
}
