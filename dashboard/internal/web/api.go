package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
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
	body, err := encodeJSON(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeBody(w, status, body)
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return buf.Bytes(), nil
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away
}

// jsonCache keeps each endpoint's encoded answer until its snapshot changes or is fetched
// again, so concurrent clients share one encoding per poll.
type jsonCache struct {
	mu sync.Mutex
	m  map[string]cachedJSON
}

type cachedJSON struct {
	key    string
	status int
	body   []byte
}

func (c *jsonCache) get(name, key string, build func() (int, []byte, error)) (int, []byte, error) {
	c.mu.Lock()
	e, ok := c.m[name]
	c.mu.Unlock()
	if ok && e.key == key {
		return e.status, e.body, nil
	}
	status, body, err := build()
	if err != nil {
		return 0, nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedJSON{}
	}
	c.m[name] = cachedJSON{key: key, status: status, body: body}
	c.mu.Unlock()
	return status, body, nil
}

// serveSnapshot answers with the snapshot's data mapped through f. Before the first successful
// read it answers 503 with Retry-After. A non-empty cacheName caches the encoded answer.
func serveSnapshot[T, U any](h *Handler, w http.ResponseWriter, cacheName, source string, s feed.Snapshot[T], f func(T) U) {
	build := func() (int, []byte, error) {
		env := envelope[U]{FetchedAt: s.FetchedAt, Stale: s.Err != nil}
		if s.Err != nil {
			env.Error = source + " is not answering"
		}
		status := http.StatusOK
		if s.HasValue {
			env.Data = f(s.Value)
		} else {
			status = http.StatusServiceUnavailable
			if env.Error == "" {
				env.Error = "not loaded yet"
			}
		}
		body, err := encodeJSON(env)
		return status, body, err
	}
	var (
		status int
		body   []byte
		err    error
	)
	if cacheName == "" {
		status, body, err = build()
	} else {
		key := fmt.Sprintf("%d/%d/%d", s.Version, s.FetchedAt.UnixNano(), s.CheckedAt.UnixNano())
		status, body, err = h.json.get(cacheName, key, build)
	}
	if err != nil {
		h.log.Error("answer", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeBody(w, status, body)
}

func same[T any](v T) T { return v }

func (h *Handler) apiVolume(w http.ResponseWriter, r *http.Request) {
	serveSnapshot(h, w, "apiVolume", "MySQL", h.sets.Volume.Snapshot(), same)
}

func (h *Handler) apiTimeline(w http.ResponseWriter, r *http.Request) {
	serveSnapshot(h, w, "apiTimeline", "MySQL", h.sets.Timeline.Snapshot(), same)
}

func (h *Handler) apiTrades(w http.ResponseWriter, r *http.Request) {
	serveSnapshot(h, w, "apiTrades", "Cassandra", h.sets.Trades.Snapshot(), same)
}

func (h *Handler) apiMovers(w http.ResponseWriter, r *http.Request) {
	serveSnapshot(h, w, "apiMovers", "Cassandra", h.sets.Prices.Snapshot(), market.Movers)
}

func (h *Handler) apiPrices(w http.ResponseWriter, r *http.Request) {
	ticker := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("ticker")))
	if len(ticker) > 16 {
		http.Error(w, "ticker too long", http.StatusBadRequest)
		return
	}
	cacheName := ""
	if ticker == "" {
		cacheName = "apiPrices"
	}
	serveSnapshot(h, w, cacheName, "Cassandra", h.sets.Prices.Snapshot(), func(all []market.TickerSeries) []market.TickerSeries {
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
