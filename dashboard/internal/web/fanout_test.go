package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"idxstream/dashboard/internal/market"
)

// sseClient reads one event stream with the browser's rules (sseReader).
type sseClient struct {
	body   io.ReadCloser
	events *sseReader
}

func openStream(t *testing.T, ctx context.Context, url string) *sseClient {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &sseClient{body: resp.Body, events: newSSEReader(resp.Body)}
}

// next reads the next event: its name and its fragment's HTML, decoded as app.js does.
func (c *sseClient) next() (name, html string, err error) {
	ev, err := c.events.next()
	if err != nil {
		return "", "", err
	}
	if html, err = fragmentHTML(ev); err != nil {
		return "", "", fmt.Errorf("event %s: data %q is not a JSON string: %w", ev.Type, ev.Data, err)
	}
	return ev.Type, html, nil
}

// until reads events until one named name whose data contains want.
func (c *sseClient) until(name, want string) error {
	for {
		n, d, err := c.next()
		if err != nil {
			return err
		}
		if n == name && strings.Contains(d, want) {
			return nil
		}
	}
}

func queryCounts(e *env) map[string]int64 {
	return map[string]int64{
		"volume_today": e.my.volumeCalls.Load(), "volume_timeline_today": e.my.timelineCalls.Load(),
		"last_batch": e.my.batchCalls.Load(), "latest trades": e.cass.tradeCalls.Load(),
		"trades_by_ticker": e.cass.seriesCalls.Load(),
	}
}

func wantCounts(t *testing.T, e *env, want int64) {
	t.Helper()
	for q, n := range queryCounts(e) {
		if n != want {
			t.Errorf("%s queried %d times, want %d", q, n, want)
		}
	}
}

// TestManyClientsOneQuery opens N event streams and makes N requests to every JSON endpoint and
// the page: the databases see one query per data set and refresh, and every stream gets the
// change.
func TestManyClientsOneQuery(t *testing.T) {
	const n = 25
	e := newEnv(t, sampleMySQL(), sampleCassandra())
	subscribed := make(chan int, 4*n)
	e.broker.OnSubscribersChange(func(k int) { subscribed <- k })
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)

	e.sets.Refresh(ctx)
	wantCounts(t, e, 1)

	clients := make([]*sseClient, n)
	for i := range clients {
		clients[i] = openStream(t, ctx, srv.URL)
	}
	for k := 0; k < n; {
		k = <-subscribed
	}
	// every stream starts with the current data
	for i, c := range clients {
		if err := c.until("volume", `data-value="4830500"`); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	var wg sync.WaitGroup
	for range n {
		for _, path := range []string{"/", "/api/volume-today", "/api/timeline", "/api/movers", "/api/prices", "/api/trades/latest", "/api/health"} {
			wg.Go(func() {
				resp, err := http.Get(srv.URL + path)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: status %d", path, resp.StatusCode)
				}
			})
		}
	}
	wg.Wait()
	wantCounts(t, e, 1)

	// new data: one refresh, one query per data set, and every stream hears of it
	e.my.set(func(f *fakeMySQL) { f.volume[0].TotalVolume = 1_300_000 })
	e.cass.set(func(f *fakeCassandra) {
		f.trades = append(f.trades, market.Trade{ID: 2001, CreatedAt: fixedNow, Ticker: "BMRI", Sector: "Financials", Volume: 100, Price: 5000})
	})
	e.sets.Refresh(ctx)
	wantCounts(t, e, 2)
	for i, c := range clients {
		if err := c.until("volume", `data-label="Energy" data-value="1300000"`); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if err := c.until("trades", `id="trade-2001"`); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	if got := e.broker.Len(); got != n {
		t.Errorf("broker has %d subscribers, want %d", got, n)
	}
	cancel()
	for k := n; k > 0; {
		k = <-subscribed
	}
}

// TestUnchangedDataSendsNothing: a refresh that finds the same data publishes no notice, so no
// stream is woken ("no faster than the data changes").
func TestUnchangedDataSendsNothing(t *testing.T) {
	e := newEnv(t, sampleMySQL(), sampleCassandra())
	e.sets.Refresh(t.Context())
	sub := e.broker.Subscribe()
	defer sub.Close()
	e.sets.Refresh(t.Context())
	select {
	case <-sub.Ready():
		t.Errorf("unchanged data woke the subscriber with %v", sub.Take())
	default:
	}
	e.my.set(func(f *fakeMySQL) { f.batch.ID++ })
	e.sets.Refresh(t.Context())
	select {
	case <-sub.Ready():
		if got := sub.Take(); len(got) != 1 || got[0] != "batch" {
			t.Errorf("notices %v, want [batch]", got)
		}
	default:
		t.Error("a changed batch did not wake the subscriber")
	}
}

// TestStreamsEndOnClose: Close (called on server shutdown) ends every open stream.
func TestStreamsEndOnClose(t *testing.T) {
	e := newEnv(t, sampleMySQL(), sampleCassandra())
	e.sets.Refresh(t.Context())
	subscribed := make(chan int, 8)
	e.broker.OnSubscribersChange(func(k int) { subscribed <- k })
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	c := openStream(t, t.Context(), srv.URL)
	<-subscribed
	e.h.Close()
	if got := <-subscribed; got != 0 {
		t.Errorf("%d subscribers after Close", got)
	}
	for {
		if _, _, err := c.next(); err != nil {
			break // the stream ended
		}
	}
}
