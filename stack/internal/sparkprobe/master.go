package sparkprobe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
		case m.AliveWorkers() < minWorkers:
			last = fmt.Errorf("spark master lists %d ALIVE workers, want %d", m.AliveWorkers(), minWorkers)
		default:
			return m, nil
		}
		select {
		case <-ctx.Done():
			return m, fmt.Errorf("wait for the spark master: %w", errors.Join(ctx.Err(), last))
		case <-time.After(time.Second):
		}
	}
}
