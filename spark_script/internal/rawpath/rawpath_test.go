package rawpath

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	sc "idxstream/sparkconnect"
	"idxstream/storage"
)

type fakeQuery struct {
	mu      sync.Mutex
	run     string
	active  bool
	stopped bool
	batch   int64
	exc     string // the failure's message; default a Cassandra outage
}

func (q *fakeQuery) ID() string    { return "q" }
func (q *fakeQuery) RunID() string { return q.run }
func (q *fakeQuery) Status(context.Context) (sc.QueryStatus, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return sc.QueryStatus{IsActive: q.active, Message: "ok"}, nil
}
func (q *fakeQuery) LastProgress(context.Context) (*sc.Progress, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.batch++
	return &sc.Progress{BatchID: q.batch}, nil
}
func (q *fakeQuery) Exception(context.Context) (*sc.QueryException, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.exc != "" {
		return &sc.QueryException{Message: q.exc}, nil
	}
	return &sc.QueryException{Message: "Cassandra unavailable"}, nil
}
func (q *fakeQuery) Stop(context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopped, q.active = true, false
	return nil
}
func (q *fakeQuery) fail() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.active = false
}

func TestFailedQueryIsRestartedAndAllStopOnShutdown(t *testing.T) {
	var (
		mu      sync.Mutex
		started []*fakeQuery
	)
	spec := Spec{Name: "raw", Start: func(context.Context) (Query, error) {
		mu.Lock()
		defer mu.Unlock()
		q := &fakeQuery{run: string(rune('a' + len(started))), active: true}
		started = append(started, q)
		return q, nil
	}}
	s := &Supervisor{Specs: []Spec{spec}, Poll: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(started) == 1 })
	mu.Lock()
	started[0].fail()
	mu.Unlock()
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(started) == 2 })
	waitFor(t, func() bool { st := s.States(); return st[0].Restarts == 1 && st[0].Active })
	if st := s.States()[0]; st.LastError == "" || st.RunID != "b" {
		t.Fatalf("state after restart: %+v", st)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !started[1].stopped {
		t.Fatal("the running query was not stopped on shutdown")
	}
}

func TestAFullDiskStopsEveryQuery(t *testing.T) {
	guardrail := &fakeQuery{run: "a", active: true}
	other := &fakeQuery{run: "b", active: true}
	specs := []Spec{
		{Name: "real_time_data", Start: func(context.Context) (Query, error) { return guardrail, nil }},
		{Name: "rejects", Start: func(context.Context) (Query, error) { return other, nil }},
	}
	s := &Supervisor{Specs: specs, Poll: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	waitFor(t, func() bool { return len(s.States()) == 2 })
	guardrail.mu.Lock()
	guardrail.active = false
	guardrail.exc = "InvalidQueryException: Guardrail replica_disk_usage violated: Write request failed because disk usage exceeds failure threshold"
	guardrail.mu.Unlock()
	select {
	case err := <-done:
		if !errors.Is(err, storage.ErrFull) {
			t.Fatalf("Run after a guardrail refusal: %v, want storage.ErrFull", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the supervisor kept restarting a query that Cassandra refuses for a full disk")
	}
	other.mu.Lock()
	defer other.mu.Unlock()
	if !other.stopped {
		t.Error("the other query was left running")
	}
}

func TestStartErrorIsReturned(t *testing.T) {
	s := &Supervisor{Specs: []Spec{{Name: "raw", Start: func(context.Context) (Query, error) {
		return nil, errors.New("table trading.real_time_data does not exist")
	}}}, Poll: time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := s.Run(context.Background()); err == nil {
		t.Fatal("Run hid a start error")
	}
}

func TestLag(t *testing.T) {
	p := &sc.Progress{Sources: []sc.SourceProgress{{
		EndOffset:    json.RawMessage(`{"t":{"0":10,"1":5}}`),
		LatestOffset: json.RawMessage(`{"t":{"0":15,"1":5}}`),
	}}}
	if got := Lag(p); got != 5 {
		t.Fatalf("Lag = %d, want 5", got)
	}
	asText := &sc.Progress{Sources: []sc.SourceProgress{{ // how Spark 3.5 sends them
		EndOffset:    json.RawMessage(`"{\"t\":{\"0\":10}}"`),
		LatestOffset: json.RawMessage(`"{\"t\":{\"0\":12}}"`),
	}}}
	if got := Lag(asText); got != 2 {
		t.Fatalf("Lag of offsets sent as JSON text = %d, want 2", got)
	}
	if got := Lag(&sc.Progress{Sources: []sc.SourceProgress{{EndOffset: json.RawMessage(`null`)}}}); got != 0 {
		t.Fatalf("Lag without latestOffset = %d, want 0", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
