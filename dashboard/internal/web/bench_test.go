package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkDataEndpoint50Clients measures /api/volume-today over real HTTP with 50 concurrent
// clients (b.SetParallelism makes at least 50 goroutines): p50 and p99 latency in ms and
// requests per second. Handlers read the cache, so this is the cost of serving, not of MySQL.
func BenchmarkDataEndpoint50Clients(b *testing.B) {
	for _, path := range []string{"/api/volume-today", "/api/trades/latest"} {
		b.Run(path, func(b *testing.B) { benchEndpoint(b, path) })
	}
}

func benchEndpoint(b *testing.B, path string) {
	const clients = 50
	e := newEnv(b, sampleMySQL(), sampleCassandra())
	e.sets.Refresh(b.Context())
	srv := httptest.NewServer(e.h)
	b.Cleanup(srv.Close)
	tr := &http.Transport{MaxIdleConnsPerHost: clients * 2, MaxConnsPerHost: 0}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	url := srv.URL + path

	var (
		mu  sync.Mutex
		lat []time.Duration
	)
	// RunParallel starts parallelism × GOMAXPROCS goroutines.
	b.SetParallelism((clients + runtimeProcs() - 1) / runtimeProcs())
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t0 := time.Now()
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			local = append(local, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
