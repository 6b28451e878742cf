package sparkprobe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A trimmed answer of Spark 3.5's master at /json/.
const masterJSON = `{"url":"spark://127.0.0.1:7077","workers":[
 {"id":"worker-1","host":"127.0.0.1","port":41000,"webuiaddress":"http://127.0.0.1:8081","cores":2,"coresused":0,"memory":2048,"state":"ALIVE"},
 {"id":"worker-0","host":"127.0.0.1","port":40000,"webuiaddress":"http://127.0.0.1:8082","cores":2,"memory":2048,"state":"DEAD"}],
 "aliveworkers":1,"cores":2,"status":"ALIVE"}`

func TestReadMaster(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/json/" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(masterJSON))
	}))
	defer srv.Close()
	m, err := ReadMaster(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != "ALIVE" || m.URL != "spark://127.0.0.1:7077" || len(m.Workers) != 2 {
		t.Errorf("master = %+v", m)
	}
	if n := m.AliveWorkers(); n != 1 {
		t.Errorf("AliveWorkers = %d, want 1 (the DEAD one does not count)", n)
	}
	if w := m.Workers[0]; w.Cores != 2 || w.Memory != 2048 || w.WebUIAddress != "http://127.0.0.1:8081" {
		t.Errorf("worker = %+v", w)
	}
}

func TestWaitMaster(t *testing.T) {
	tests := []struct {
		name       string
		answers    []string // served in turn, the last one repeated
		minWorkers int
		wantErr    string
	}{
		{"alive at once", []string{masterJSON}, 1, ""},
		{"worker registers later", []string{`{"status":"ALIVE","workers":[]}`, masterJSON}, 1, ""},
		{"master alone is enough", []string{`{"status":"ALIVE","workers":[]}`}, 0, ""},
		{"never a worker", []string{`{"status":"ALIVE","workers":[]}`}, 1, "0 ALIVE workers"},
		{"standby", []string{`{"status":"STANDBY"}`}, 0, "STANDBY"},
		{"not json", []string{`<html>`}, 0, "decode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := min(int(n.Add(1))-1, len(tc.answers)-1)
				w.Write([]byte(tc.answers[i]))
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
			defer cancel()
			_, err := WaitMaster(ctx, srv.URL, tc.minWorkers)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("WaitMaster: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("WaitMaster error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestWorkerAt(t *testing.T) {
	m := Master{Workers: []Worker{
		{ID: "w-old", State: "DEAD", WebUIAddress: "http://127.0.0.1:8081"},
		{ID: "w-1", State: "ALIVE", WebUIAddress: "http://127.0.0.1:8081"},
		{ID: "w-2a", State: "DEAD", WebUIAddress: "http://127.0.0.1:8082"},
		{ID: "w-2b", State: "DECOMMISSIONED", WebUIAddress: "http://127.0.0.1:8082/"},
		{ID: "w-3", State: "ALIVE", WebUIAddress: "http://Worker-3:8083"},
		{ID: "w-none", State: "ALIVE"},
	}}
	tests := []struct {
		addr   string
		wantID string // "" none
	}{
		{"127.0.0.1:8081", "w-1"},        // the ALIVE one, though a DEAD one is listed before
		{"http://127.0.0.1:8081", "w-1"}, // a URL works too
		{"127.0.0.1:8082", "w-2b"},       // none ALIVE: the last listed
		{"worker-3:8083", "w-3"},         // host names without case
		{"127.0.0.2:8081", ""},           // another host
		{"127.0.0.1:8080", ""},           // another port
		{"127.0.0.1", ""},                // no port: nothing matches
		{"", ""},                         // nor an empty address (the worker without one)
	}
	for _, tt := range tests {
		w, ok := m.WorkerAt(tt.addr)
		if ok != (tt.wantID != "") || w.ID != tt.wantID {
			t.Errorf("WorkerAt(%q) = %q, %v; want %q", tt.addr, w.ID, ok, tt.wantID)
		}
	}
}
