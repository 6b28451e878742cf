package feed

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type countingPublisher struct {
	mu    sync.Mutex
	names []string
}

func (c *countingPublisher) Publish(name string) {
	c.mu.Lock()
	c.names = append(c.names, name)
	c.mu.Unlock()
}

func (c *countingPublisher) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.names)
}

// scripted returns the results in order, one per call.
type scripted struct {
	results []result
	calls   int
}

type result struct {
	v   []int
	err error
}

func (s *scripted) fetch(context.Context) ([]int, error) {
	r := s.results[min(s.calls, len(s.results)-1)]
	s.calls++
	return r.v, r.err
}

func TestPollerRefresh(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name         string
		results      []result
		wantValue    []int
		wantHas      bool
		wantErr      bool
		wantVersion  uint64
		wantPublish  int
		wantFetchedN int // which call's time FetchedAt must equal (1-based), 0 = zero time
	}{
		{name: "first value", results: []result{{v: []int{1}}}, wantValue: []int{1}, wantHas: true, wantVersion: 1, wantPublish: 1, wantFetchedN: 1},
		{name: "same value twice publishes once", results: []result{{v: []int{1}}, {v: []int{1}}}, wantValue: []int{1}, wantHas: true, wantVersion: 1, wantPublish: 1, wantFetchedN: 2},
		{name: "changed value", results: []result{{v: []int{1}}, {v: []int{2}}}, wantValue: []int{2}, wantHas: true, wantVersion: 2, wantPublish: 2, wantFetchedN: 2},
		{name: "error keeps last value", results: []result{{v: []int{1}}, {err: down}}, wantValue: []int{1}, wantHas: true, wantErr: true, wantVersion: 2, wantPublish: 2, wantFetchedN: 1},
		{name: "same error twice publishes once", results: []result{{v: []int{1}}, {err: down}, {err: down}}, wantValue: []int{1}, wantHas: true, wantErr: true, wantVersion: 2, wantPublish: 2, wantFetchedN: 1},
		{name: "recovery with same value", results: []result{{v: []int{1}}, {err: down}, {v: []int{1}}}, wantValue: []int{1}, wantHas: true, wantVersion: 3, wantPublish: 3, wantFetchedN: 3},
		{name: "error before any value", results: []result{{err: down}}, wantHas: false, wantErr: true, wantVersion: 1, wantPublish: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &scripted{results: tt.results}
			pub := &countingPublisher{}
			clock := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
			calls := 0
			p, err := NewPoller(PollerConfig{Name: "x", Interval: time.Second, Publisher: pub,
				Now: func() time.Time { calls++; return clock.Add(time.Duration(calls) * time.Second) }}, src.fetch)
			if err != nil {
				t.Fatal(err)
			}
			for range tt.results {
				p.Refresh(t.Context())
			}
			s := p.Snapshot()
			if !slices.Equal(s.Value, tt.wantValue) || s.HasValue != tt.wantHas || (s.Err != nil) != tt.wantErr {
				t.Errorf("snapshot = %+v; want value %v has %v err %v", s, tt.wantValue, tt.wantHas, tt.wantErr)
			}
			if s.Version != tt.wantVersion {
				t.Errorf("version = %d, want %d", s.Version, tt.wantVersion)
			}
			if got := pub.count(); got != tt.wantPublish {
				t.Errorf("published %d times, want %d", got, tt.wantPublish)
			}
			var wantAt time.Time
			if tt.wantFetchedN > 0 {
				wantAt = clock.Add(time.Duration(tt.wantFetchedN) * time.Second)
			}
			if !s.FetchedAt.Equal(wantAt) {
				t.Errorf("FetchedAt = %v, want %v", s.FetchedAt, wantAt)
			}
			var failures uint64
			for _, r := range tt.results {
				if r.err != nil {
					failures++
				}
			}
			if s.Failures != failures {
				t.Errorf("Failures = %d, want %d (every failed fetch, not only changes)", s.Failures, failures)
			}
			if s.CheckedAt != clock.Add(time.Duration(len(tt.results))*time.Second) {
				t.Errorf("CheckedAt = %v, want the last call", s.CheckedAt)
			}
		})
	}
}

func TestNewPollerValidates(t *testing.T) {
	_, err := NewPoller[int](PollerConfig{}, nil)
	if err == nil {
		t.Fatal("NewPoller accepted an empty config")
	}
	for _, want := range []string{"name is empty", "interval", "fetch func is nil"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestPollerTimeoutReachesFetch(t *testing.T) {
	var deadline bool
	p, err := NewPoller(PollerConfig{Name: "x", Interval: time.Hour, Timeout: time.Minute},
		func(ctx context.Context) (int, error) {
			_, deadline = ctx.Deadline()
			return 1, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	p.Refresh(t.Context())
	if !deadline {
		t.Error("fetch ran without a deadline")
	}
}

func TestBrokerCoalesces(t *testing.T) {
	var b Broker
	counts := make(chan int, 10)
	b.OnSubscribersChange(func(n int) { counts <- n })
	a, c := b.Subscribe(), b.Subscribe()
	if got := []int{<-counts, <-counts}; !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("subscriber counts = %v", got)
	}
	for _, n := range []string{"volume", "trades", "volume", "volume"} {
		b.Publish(n)
	}
	for _, s := range []*Subscription{a, c} {
		select {
		case <-s.Ready():
		default:
			t.Fatal("subscriber not signalled")
		}
		if got := s.Take(); !slices.Equal(got, []string{"trades", "volume"}) {
			t.Errorf("Take() = %v, want [trades volume]", got)
		}
		select {
		case <-s.Ready():
			t.Error("a second wake-up was queued for coalesced notices")
		default:
		}
		if got := s.Take(); len(got) != 0 {
			t.Errorf("second Take() = %v, want empty", got)
		}
	}
	a.Close()
	a.Close()
	if <-counts != 1 || b.Len() != 1 {
		t.Errorf("after Close: Len = %d, want 1", b.Len())
	}
	select {
	case n := <-counts:
		t.Errorf("second Close reported %d subscribers again", n)
	default:
	}
	b.Publish("volume") // must not reach the closed subscription
	select {
	case <-a.Ready():
		t.Error("closed subscription was signalled")
	default:
	}
}

func TestRunStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	fetched := make(chan struct{}, 1)
	p, err := NewPoller(PollerConfig{Name: "x", Interval: time.Hour}, func(context.Context) (int, error) {
		select {
		case fetched <- struct{}{}:
		default:
		}
		return 1, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	<-fetched // Run fetches at once
	cancel()
	<-done
	if !p.Snapshot().OK() {
		t.Error("snapshot not OK after the first fetch")
	}
}

func TestCancelledRefreshKeepsState(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	pub := &countingPublisher{}
	calls := 0
	p, err := NewPoller(PollerConfig{Name: "x", Interval: time.Hour, Publisher: pub}, func(ctx context.Context) (int, error) {
		calls++
		if calls == 2 {
			cancel()
			return 0, ctx.Err()
		}
		return 7, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Refresh(ctx)
	before := p.Snapshot()
	p.Refresh(ctx)
	if after := p.Snapshot(); after != before {
		t.Errorf("snapshot changed by a cancelled fetch: %+v -> %+v", before, after)
	}
	if pub.count() != 1 {
		t.Errorf("published %d times, want 1", pub.count())
	}
}
