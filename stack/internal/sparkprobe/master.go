package sparkprobe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Master is the part of a standalone master's state that stackctl reads: what its web UI serves
// at /json/ (Spark's MasterPage renderJson).
type Master struct {
	URL     string   `json:"url"`    // spark://host:port
	Status  string   `json:"status"` // ALIVE once the master leads (STANDBY, RECOVERING before)
	Workers []Worker `json:"workers"`
}

// Worker is one worker as the master lists it.
type Worker struct {
	ID     string `json:"id"`
	State  string `json:"state"`  // ALIVE, DEAD, DECOMMISSIONED, UNKNOWN
	Cores  int    `json:"cores"`  // cores it offers
	Memory int    `json:"memory"` // MiB it offers
	// WebUIAddress is the worker's web UI as it registered it (http://host:port: the host is
	// SPARK_PUBLIC_DNS, else the worker's --host or SPARK_LOCAL_HOSTNAME; the port its
	// SPARK_WORKER_WEBUI_PORT).
	WebUIAddress string `json:"webuiaddress"`
}

// WorkerAt finds the worker whose web UI is at addr (host:port, or a URL http://host:port):
// the ALIVE one if any, else the last one listed there (a worker that restarted is listed again,
// with a new id, next to its DEAD entry).
func (m Master) WorkerAt(addr string) (Worker, bool) {
	want := hostPort(addr)
	var found Worker
	ok := false
	for _, w := range m.Workers {
		if want == "" || hostPort(w.WebUIAddress) != want {
			continue
		}
		if w.State == "ALIVE" {
			return w, true
		}
		found, ok = w, true
	}
	return found, ok
}

// hostPort is the lower-case host:port of a URL or of a host:port, "" when it has neither.
func hostPort(s string) string {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		s = u.Host
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || port == "" {
		return ""
	}
	return net.JoinHostPort(strings.ToLower(host), port)
}

// AliveWorkers counts the workers the master lists as ALIVE.
func (m Master) AliveWorkers() int {
	n := 0
	for _, w := range m.Workers {
		if w.State == "ALIVE" {
			n++
		}
	}
	return n
}

// ReadMaster fetches the master's state from its web UI at uiURL (http://127.0.0.1:8080), one
// request under ctx.
func ReadMaster(ctx context.Context, uiURL string) (Master, error) {
	u := strings.TrimSuffix(uiURL, "/") + "/json/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Master{}, fmt.Errorf("spark master %s: %w", u, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Master{}, fmt.Errorf("spark master: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Master{}, fmt.Errorf("spark master %s: HTTP %s", u, resp.Status)
	}
	var m Master
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return Master{}, fmt.Errorf("spark master %s: decode: %w", u, err)
	}
	return m, nil
}

// WaitMaster reads the master's state every second until it is ALIVE with at least minWorkers
// ALIVE workers (0: the master alone), or ctx ends.
func WaitMaster(ctx context.Context, uiURL string, minWorkers int) (Master, error) {
	return waitMaster(ctx, uiURL, func(m Master) error {
		if n := m.AliveWorkers(); n < minWorkers {
			return fmt.Errorf("spark master lists %d ALIVE workers, want %d", n, minWorkers)
		}
		return nil
	})
}

// WaitWorkerAt waits until the master is ALIVE and lists an ALIVE worker whose web UI is at addr
// (host:port): one worker of several, such as one that was just restarted.
func WaitWorkerAt(ctx context.Context, uiURL, addr string) (Master, error) {
	return waitMaster(ctx, uiURL, func(m Master) error {
		w, ok := m.WorkerAt(addr)
		switch {
		case !ok:
			return fmt.Errorf("spark master lists no worker with its web UI at %s", addr)
		case w.State != "ALIVE":
			return fmt.Errorf("spark master lists the worker at %s as %s", addr, w.State)
		}
		return nil
	})
}

// waitMaster polls the master every second until it is ALIVE and ready(master) is nil.
func waitMaster(ctx context.Context, uiURL string, ready func(Master) error) (Master, error) {
	var last error
	for {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		m, err := ReadMaster(attempt, uiURL)
		cancel()
		switch {
		case err != nil:
			last = err
		case m.Status != "ALIVE":
			last = fmt.Errorf("spark master is %s, not ALIVE", m.Status)
		default:
			if last = ready(m); last == nil {
				return m, nil
			}
		}
		select {
		case <-ctx.Done():
			return m, fmt.Errorf("wait for the spark master: %w", errors.Join(ctx.Err(), last))
		case <-time.After(time.Second):
		}
	}
}
