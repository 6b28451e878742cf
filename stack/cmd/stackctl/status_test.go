package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
	}
	var mu sync.Mutex
	var probed []string
	probe := func(_ context.Context, name string) (string, error) {
		mu.Lock()
		probed = append(probed, name)
		mu.Unlock()
		switch name {
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
