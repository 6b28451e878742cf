// Package statusapi serves the running job's state as JSON on GET /status and, when given a
// handler, its Prometheus metrics on GET /metrics; it also fetches the status for the
// `spark_script status` command.
package statusapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Source produces the current state; it is called once per request and must be safe for
// concurrent use.
type Source func(ctx context.Context) any

// Serve answers on addr until ctx ends, then shuts down within 5 s. metrics, when not nil,
// answers GET /metrics (package jobmetrics).
func Serve(ctx context.Context, addr string, src Source, metrics http.Handler, logger *slog.Logger) error {
	mux := http.NewServeMux()
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(src(r.Context())); err != nil {
			logger.Warn("write status", "err", err)
		}
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("status endpoint on %s: %w (set JOB_STATUS_ADDR to move it, or empty to disable)", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	logger.Info("status endpoint listening", "url", "http://"+ln.Addr().String()+"/status")
	select {
	case err := <-done:
		return fmt.Errorf("status endpoint: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("status endpoint shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Fetch copies the status of the job listening on addr to w.
func Fetch(ctx context.Context, addr string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("no job answers on %s (is `make submit` running? JOB_STATUS_ADDR moves it): %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("job status on %s: %s", addr, resp.Status)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}
