// Package feed keeps one cached copy of each data set the dashboard shows and tells subscribers
// when a copy changes.
//
// A Poller runs one query (a FetchFunc) per interval, however many pages are open: handlers read
// the cached Snapshot and never reach the database. When a fetch fails the poller keeps the last
// good value and records the error, so the page can say that a database is down and still show
// the last data. A Broker fans change notices out to subscribers (one per server-sent-event
// stream); a notice names the data set that changed, and a slow subscriber gets the names
// coalesced, never a growing queue.
package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"
)

// FetchFunc reads one data set. It must honour ctx's deadline.
type FetchFunc[T any] func(ctx context.Context) (T, error)

// Snapshot is what a Poller saw last.
type Snapshot[T any] struct {
	// Value is the last value fetched successfully (the zero value before the first success).
	Value T
	// HasValue reports whether any fetch has succeeded yet.
	HasValue bool
	// FetchedAt is when Value was fetched.
	FetchedAt time.Time
	// CheckedAt is when the last fetch finished, successful or not.
	CheckedAt time.Time
	// Err is the error of the last fetch, nil when it succeeded.
	Err error
	// Version grows by one whenever Value, HasValue or the error changes; it starts at 0.
	Version uint64
	// Failures counts the fetches that failed since the poller started (the metrics' database
	// errors; Err only holds the last one).
	Failures uint64
}

// OK reports whether the last fetch succeeded.
func (s Snapshot[T]) OK() bool { return s.HasValue && s.Err == nil }

// Publisher is told the name of a data set whenever its snapshot changes. *Broker implements it.
type Publisher interface {
	Publish(name string)
}

// Poller keeps one data set fresh: it calls its FetchFunc once per interval and caches the
// result. It is safe for concurrent use; Snapshot never blocks on I/O.
type Poller[T any] struct {
	name     string
	interval time.Duration
	timeout  time.Duration
	fetch    FetchFunc[T]
	pub      Publisher
	log      *slog.Logger
	now      func() time.Time

	fetchMu sync.Mutex // one fetch at a time
	mu      sync.RWMutex
	snap    Snapshot[T]
}

// PollerConfig configures a Poller.
type PollerConfig struct {
	// Name identifies the data set in notices, logs and event names (required).
	Name string
	// Interval between the end of one fetch and the start of the next (required, > 0).
	Interval time.Duration
	// Timeout bounds one fetch; 0 means Interval.
	Timeout time.Duration
	// Publisher, if not nil, hears about every change.
	Publisher Publisher
	// Logger, if not nil, records failures and recoveries.
	Logger *slog.Logger
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// NewPoller returns a poller of fetch. It does nothing until Run or Refresh is called.
func NewPoller[T any](cfg PollerConfig, fetch FetchFunc[T]) (*Poller[T], error) {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if cfg.Interval <= 0 {
		errs = append(errs, fmt.Errorf("interval %v is not positive", cfg.Interval))
	}
	if fetch == nil {
		errs = append(errs, errors.New("fetch func is nil"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new poller %q: %w", cfg.Name, err)
	}
	p := &Poller[T]{
		name: cfg.Name, interval: cfg.Interval, timeout: cfg.Timeout, fetch: fetch,
		pub: cfg.Publisher, log: cfg.Logger, now: cfg.Now,
	}
	if p.timeout <= 0 {
		p.timeout = p.interval
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("dataset", p.name)
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// Name returns the data set's name.
func (p *Poller[T]) Name() string { return p.name }

// Snapshot returns the cached state without any I/O.
func (p *Poller[T]) Snapshot() Snapshot[T] {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.snap
}

// Refresh fetches once now, updates the cache and publishes a notice if anything changed.
// Concurrent calls run one after the other. When ctx is cancelled during the fetch the cache is
// left as it was.
func (p *Poller[T]) Refresh(ctx context.Context) Snapshot[T] {
	p.fetchMu.Lock()
	defer p.fetchMu.Unlock()
	fctx, cancel := context.WithTimeout(ctx, p.timeout)
	v, err := p.fetch(fctx)
	cancel()
	if ctx.Err() != nil {
		// Shutting down: a cancelled fetch says nothing about the database.
		return p.Snapshot()
	}
	if err != nil {
		err = fmt.Errorf("fetch %s: %w", p.name, err)
	}
	now := p.now()

	p.mu.Lock()
	old := p.snap
	next := old
	next.CheckedAt = now
	if err == nil {
		next.Value, next.HasValue, next.FetchedAt, next.Err = v, true, now, nil
	} else {
		next.Err = err
		next.Failures++
	}
	changed := old.HasValue != next.HasValue || errText(old.Err) != errText(next.Err) ||
		(err == nil && !reflect.DeepEqual(old.Value, next.Value))
	if changed {
		next.Version++
	}
	p.snap = next
	p.mu.Unlock()

	switch {
	case err != nil && old.Err == nil:
		p.log.Warn("data set unavailable; keeping the last value", "err", err)
	case err == nil && old.Err != nil:
		p.log.Info("data set available again")
	}
	if changed && p.pub != nil {
		p.pub.Publish(p.name)
	}
	return next
}

// Run refreshes at once and then every interval until ctx is done.
func (p *Poller[T]) Run(ctx context.Context) {
	for {
		p.Refresh(ctx)
		t := time.NewTimer(p.interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Broker fans change notices out to subscribers. The zero value is ready to use.
type Broker struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
	// onChange, when set, is called with the subscriber count after each Subscribe and Close.
	onChange func(n int)
}

// Subscription receives the names of the data sets that changed since the last Take.
type Subscription struct {
	b       *Broker
	mu      sync.Mutex
	pending map[string]struct{}
	ready   chan struct{}
}

// Subscribe registers a subscriber. Call Close when done.
func (b *Broker) Subscribe() *Subscription {
	s := &Subscription{b: b, pending: map[string]struct{}{}, ready: make(chan struct{}, 1)}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[*Subscription]struct{}{}
	}
	b.subs[s] = struct{}{}
	n, hook := len(b.subs), b.onChange
	b.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return s
}

// OnSubscribersChange sets a function called with the number of subscribers after every
// Subscribe and Close. Meant for tests and metrics; set it before the broker is shared.
func (b *Broker) OnSubscribersChange(f func(n int)) {
	b.mu.Lock()
	b.onChange = f
	b.mu.Unlock()
}

// Len returns the number of subscribers.
func (b *Broker) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Publish tells every subscriber that name changed. It never blocks.
func (b *Broker) Publish(name string) {
	b.mu.Lock()
	subs := make([]*Subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		s.mu.Lock()
		s.pending[name] = struct{}{}
		s.mu.Unlock()
		select {
		case s.ready <- struct{}{}:
		default: // a wake-up is already pending; the name is in the set
		}
	}
}

// Ready is signalled when names are pending.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Take returns the pending names in sorted order and clears them.
func (s *Subscription) Take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.pending))
	for n := range s.pending {
		names = append(names, n)
	}
	clear(s.pending)
	slices.Sort(names)
	return names
}

// Close unregisters the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	b := s.b
	b.mu.Lock()
	_, was := b.subs[s]
	delete(b.subs, s)
	n, hook := len(b.subs), b.onChange
	b.mu.Unlock()
	if was && hook != nil {
		hook(n)
	}
}
