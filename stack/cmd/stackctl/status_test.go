package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"idxstream/stack/internal/config"
	"idxstream/stack/internal/sparkprobe"
)

func TestReadStatusRows(t *testing.T) {
	in := "mariadb up 127.0.0.1:3306 (socket /s)\n\nkafka down 127.0.0.1:9092\nlonely\n"
	got, err := readStatusRows(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []statusRow{
		{"mariadb", "up", "127.0.0.1:3306 (socket /s)"},
		{"kafka", "down", "127.0.0.1:9092"},
		{"lonely", "down", ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows = %q, want %q", got, want)
	}
}

func TestProbeRows(t *testing.T) {
	rows := []statusRow{
		{"kafka", "up", "127.0.0.1:9092"},
		{"cassandra", "down", "127.0.0.1:9042"},
		{"spark-worker", "up", "127.0.0.1:8081"},
		{"mariadb", "up", "127.0.0.1:3306"},
		{"other", "up", "somewhere"},
		{"kafka-2", "up", "127.0.0.2:9092 (node)"},
	}
	var mu sync.Mutex
	var probed []string
	probe := func(_ context.Context, row statusRow) (string, error) {
		mu.Lock()
		probed = append(probed, row.Name)
		mu.Unlock()
		switch row.Name {
		case "kafka-2":
			if row.Address != "127.0.0.2:9092 (node)" {
				return "", errors.New("the probe did not get the row's address: " + row.Address)
			}
			return "node 2 of 3 brokers", nil
		case "spark-worker":
			return "1 ALIVE at the master", nil
		case "mariadb":
			return "", errors.New("dial tcp: connection refused\nmore detail")
		case "other":
			return "", errUnprobed
		}
		return "", nil
	}
	got := probeRows(context.Background(), rows, probe)
	want := []statusRow{
		{"kafka", "up", "127.0.0.1:9092"},
		{"cassandra", "down", "127.0.0.1:9042"}, // the launcher says down: not probed
		{"spark-worker", "up", "127.0.0.1:8081 (1 ALIVE at the master)"},
		{"mariadb", "down", "127.0.0.1:3306 (does not answer: dial tcp: connection refused; more detail)"},
		{"other", "up", "somewhere"},
		{"kafka-2", "up", "127.0.0.2:9092 (node) (node 2 of 3 brokers)"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows =\n%q\nwant\n%q", got, want)
	}
	if slices.Contains(probed, "cassandra") {
		t.Error("a row the launcher reports down was probed")
	}
	if rows[3].State != "up" {
		t.Error("probeRows changed its input")
	}
}

func TestNodeKind(t *testing.T) {
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"kafka-1", "kafka", true},
		{"kafka-3", "kafka", true},
		{"cassandra-2", "cassandra", true},
		{"spark-worker-1", "spark-worker", true},
		{"spark-worker-12", "spark-worker", true},
		{"kafka", "", false},        // the single-node names keep their probes
		{"spark-worker", "", false}, // (the master's count of ALIVE workers)
		{"cassandra", "", false},
		{"spark-master", "", false},
		{"spark-connect", "", false},
		{"spark-master-1", "", false}, // no such node kind
		{"kafka-0", "", false},        // nodes count from 1
		{"kafka-01", "", false},
		{"kafka-", "", false},
		{"kafka-x", "", false},
		{"kafka-1a", "", false},
		{"mariadb-1", "", false},
	}
	for _, tt := range tests {
		got, ok := nodeKind(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("nodeKind(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRowAddress(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.2:9092":                    "127.0.0.2:9092",
		"127.0.0.1:8081 (UI http://x:8080)": "127.0.0.1:8081",
		"  127.0.0.3:9042  ":                "127.0.0.3:9042",
		"":                                  "",
	} {
		if got := rowAddress(statusRow{Name: "n", State: "up", Address: addr}); got != want {
			t.Errorf("rowAddress(%q) = %q, want %q", addr, got, want)
		}
	}
}

// A node's row without an address is down, not probed somewhere else.
func TestProbeNodeWithoutAddress(t *testing.T) {
	for _, name := range []string{"kafka-1", "cassandra-1", "spark-worker-1"} {
		_, err := probeService(context.Background(), config.Config{}, statusRow{name, "up", ""}, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), "no address") {
			t.Errorf("%s without an address: err = %v", name, err)
		}
	}
}

// kafka-N asks the broker at its row's address, and only that one: each row of a three-broker
// cluster finds its own node, and the row of a broker that is gone is down while the others answer.
func TestProbeKafkaNode(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var rows []statusRow
	for i, addr := range c.ListenAddrs() {
		rows = append(rows, statusRow{fmt.Sprintf("kafka-%d", i+1), "up", addr})
	}
	rows = append(rows, statusRow{"kafka-4", "up", "127.0.0.1:1"})
	cfg := config.Config{KafkaBrokers: c.ListenAddrs()[:1]} // the configured brokers must not matter
	quiet := slog.New(slog.DiscardHandler)
	got := probeRows(context.Background(), rows, func(ctx context.Context, r statusRow) (string, error) {
		return probeService(ctx, cfg, r, quiet)
	})
	nodes := map[string]bool{}
	for _, r := range got[:3] {
		if r.State != "up" || !strings.Contains(r.Address, " of 3 brokers)") {
			t.Errorf("row %+v: want up with its node", r)
		}
		nodes[r.Address[strings.Index(r.Address, "(node "):]] = true
	}
	if len(nodes) != 3 {
		t.Errorf("the rows name %d distinct nodes, want 3: %v", len(nodes), got)
	}
	if r := got[3]; r.State != "down" || !strings.Contains(r.Address, "does not answer") {
		t.Errorf("a broker nobody listens for: %+v", r)
	}
}

// spark-worker-N is up when the master lists an ALIVE worker whose web UI is at its address.
func TestProbeSparkWorkerNode(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"ALIVE","workers":[
			{"id":"w1","webuiaddress":"http://127.0.0.1:8081","state":"ALIVE","cores":1,"memory":1024},
			{"id":"w2","webuiaddress":"http://127.0.0.1:8082","state":"DEAD","cores":1,"memory":1024}]}`))
	}))
	defer srv.Close()
	cfg := config.Config{SparkMasterUI: srv.URL}
	tests := []struct {
		row     statusRow
		want    string
		wantErr string
	}{
		{statusRow{"spark-worker-1", "up", "127.0.0.1:8081"}, "ALIVE at the master: 1 cores, 1024 MiB", ""},
		{statusRow{"spark-worker-2", "up", "127.0.0.1:8082"}, "", "as DEAD"},
		{statusRow{"spark-worker-3", "up", "127.0.0.1:8083"}, "", "no worker with its web UI at 127.0.0.1:8083 (2 listed)"},
	}
	for _, tt := range tests {
		t.Run(tt.row.Name, func(t *testing.T) {
			got, err := probeService(context.Background(), cfg, tt.row, slog.New(slog.DiscardHandler))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("probe = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestBrokerNote(t *testing.T) {
	if got := brokerNote("127.0.0.2:9092", 2, 3); got != "node 2 of 3 brokers" {
		t.Errorf("note = %q", got)
	}
	if got := brokerNote("127.0.0.2:9092", -1, 3); !strings.Contains(got, "none of the 3 brokers it lists advertises 127.0.0.2:9092") {
		t.Errorf("note = %q", got)
	}
}

func TestWorkerNote(t *testing.T) {
	tests := []struct {
		name    string
		m       sparkprobe.Master
		want    string
		wantErr bool
	}{
		{"one alive", sparkprobe.Master{Workers: []sparkprobe.Worker{{State: "ALIVE", Cores: 2, Memory: 2048}, {State: "DEAD", Cores: 4}}},
			"1 ALIVE at the master: 2 cores, 2048 MiB", false},
		{"none alive", sparkprobe.Master{Workers: []sparkprobe.Worker{{State: "DEAD"}}}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := workerNote(tc.m)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("workerNote = %q, %v; want %q (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// The table keeps the launcher's columns and exits non-zero when a row is down.
func TestRunStatusTable(t *testing.T) {
	cfg := config.Config{Table: "-"}
	var out bytes.Buffer
	err := runStatus(context.Background(), cfg, strings.NewReader("gone down 127.0.0.1:1\n"), &out)
	if !errors.Is(err, errDown) {
		t.Errorf("err = %v, want errDown", err)
	}
	want := "SERVICE        STATE ADDRESS\ngone           down  127.0.0.1:1\n"
	if out.String() != want {
		t.Errorf("table =\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	if err := runStatus(context.Background(), cfg, strings.NewReader("custom up here\n"), &out); err != nil {
		t.Errorf("an unprobed row that is up: err = %v", err)
	}
}

func TestInitSteps(t *testing.T) {
	tests := []struct {
		targets []string
		want    []string
	}{
		{[]string{"mysql", "cassandra"}, []string{"wait mysql", "wait cassandra", "wait kafka", "migrate", "topics"}},
		{[]string{"cassandra"}, []string{"wait cassandra", "wait kafka", "migrate", "topics"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.targets, ","), func(t *testing.T) {
			var got []string
			for _, s := range initSteps(config.Config{Targets: tc.targets}, slog.New(slog.DiscardHandler)) {
				got = append(got, s.name)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("steps = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWatchProcess(t *testing.T) {
	cmd := exec.Command("sleep", "0.3")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep binary: %v", err)
	}
	// Not reaped until the end: a zombie counts as gone.
	defer cmd.Wait()
	ctx, stop := watchProcess(context.Background(), cmd.Process.Pid, 20*time.Millisecond)
	defer stop()
	if !processAlive(cmd.Process.Pid) {
		t.Fatal("a running process is not alive")
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the context did not end after the process exited")
	}
	if cause := context.Cause(ctx); !errors.Is(cause, errProcessExited) {
		t.Errorf("cause = %v, want errProcessExited", cause)
	}
}
