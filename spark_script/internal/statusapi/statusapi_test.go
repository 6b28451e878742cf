package statusapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"idxstream/testkit/scrape"
)

func TestServeAndFetch(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "# TYPE up gauge\nup 1\n") })
		done <- Serve(ctx, addr, func(context.Context) any { return map[string]int{"batch": 7} }, metrics, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	var out bytes.Buffer
	deadline := time.Now().Add(5 * time.Second)
	for {
		out.Reset()
		if err = Fetch(context.Background(), addr, &out); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || !strings.Contains(out.String(), `"batch": 7`) {
		t.Fatalf("Fetch = %q, %v", out.String(), err)
	}
	f, err := scrape.Get(context.Background(), "http://"+addr+"/metrics")
	if v, _ := f.Value("up"); err != nil || v != 1 {
		t.Fatalf("GET /metrics = %v, %v", f, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
	if err := Fetch(context.Background(), addr, io.Discard); err == nil || !strings.Contains(err.Error(), "no job answers") {
		t.Fatalf("Fetch with no job = %v, want a clear error", err)
	}
}
