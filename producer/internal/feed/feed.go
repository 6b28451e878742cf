// Package feed paces the market simulation into Kafka records.
//
// Each tick (every Interval) the feed generates rounds of trades, one trade per company per
// round. Without a target rate a tick is one round, so every company trades once per tick. With
// a target rate R trades/s, the feed generates as many rounds as keep the total at R × elapsed
// time (catching up if a tick ran late), and spreads the rounds' created_at over the interval
// that just passed.
//
// Sessions: the feed trades only while the generator's schedule (package session) is open. While
// the market is closed a tick produces nothing; the target rate counts trading time only, so the
// first tick after the open does not catch up on the closed hours, and no trade is stamped before
// the session opened. Under a schedule that closes (--session idx) the feed logs when the market
// opens and closes, and the progress line says whether it is open and, if not, when it opens next.
//
// Records: companies are dealt (in ticker order) into KeyGroups groups; a record holds the
// trades of one group from up to as many consecutive rounds as fit in MaxRecordTrades, keyed
// "g<N>" so that the groups spread evenly over the topic's partitions (see package publish).
// A group's trades therefore stay in order on one partition. With the defaults (24 companies,
// 6 groups, one round per tick) a tick is 6 records of 4 trades; at 100,000 trades/s it is
// about 100 records of 1,000 trades per second.
package feed

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"idxstream/producer/internal/market"
	"idxstream/producer/internal/publish"
	"idxstream/producer/internal/session"
	"idxstream/trade"
)

// Config paces the feed.
type Config struct {
	Interval        time.Duration // time between ticks (> 0)
	Rate            float64       // target trades per second; 0 = one round per tick
	Count           int64         // stop after this many trades; 0 = no limit
	Duration        time.Duration // stop after this long; 0 = no limit
	KeyGroups       int           // record keys (partition groups), >= 1
	MaxRecordTrades int           // most trades in one record, >= 1
	Progress        time.Duration // progress line period; 0 = none
}

// IDAssigner sets the ids of trades (package ids).
type IDAssigner interface {
	Assign(ctx context.Context, ts []trade.Trade) error
}

// Sink receives records (package publish).
type Sink interface {
	Publish(ctx context.Context, key, value []byte, trades int)
	Failed() <-chan struct{}
	Err() error
	Stats() publish.Stats
}

// Summary describes a finished run.
type Summary struct {
	Produced int64         // trades handed to the sink
	Records  int64         // records handed to the sink
	Elapsed  time.Duration // from start to the end of the last tick
}

// Feed runs the loop. Create it with New.
type Feed struct {
	cfg    Config
	gen    *market.Generator
	ids    IDAssigner
	sink   Sink
	logger *slog.Logger
	now    func() time.Time

	produced atomic.Int64 // trades handed to the sink, for the progress line

	ref trade.Reference // the contract's view of the companies, for trade.Validate

	groups [][]int // company indexes per key group
	keys   [][]byte
	round  []trade.Trade
	batch  []trade.Trade
}

// New returns a feed; now is the clock (time.Now in production).
func New(cfg Config, gen *market.Generator, ids IDAssigner, sink Sink, logger *slog.Logger, now func() time.Time) *Feed {
	n := len(gen.Companies())
	g := min(max(cfg.KeyGroups, 1), max(n, 1))
	f := &Feed{cfg: cfg, gen: gen, ids: ids, sink: sink, logger: logger, now: now,
		groups: make([][]int, g), keys: make([][]byte, g)}
	for i := range n {
		f.groups[i%g] = append(f.groups[i%g], i)
	}
	f.ref = market.Reference(gen.Companies())
	for i := range f.keys {
		f.keys[i] = publish.GroupKey(i)
	}
	f.cfg.MaxRecordTrades = max(cfg.MaxRecordTrades, 1)
	return f
}

// Run produces until ctx ends, Count or Duration (wall-clock time, closed hours included) is
// reached, or a delivery or id error occurs. ctx stops the loop between chunks of rounds;
// produceCtx is passed to the sink and must outlive a graceful shutdown (records still buffered
// fail when it ends). Run does not flush.
func (f *Feed) Run(ctx, produceCtx context.Context) (Summary, error) {
	start := f.now()
	var sum Summary
	var stopTimer <-chan time.Time
	if f.cfg.Duration > 0 {
		t := time.NewTimer(f.cfg.Duration)
		defer t.Stop()
		stopTimer = t.C
	}
	if f.cfg.Progress > 0 {
		done := make(chan struct{})
		defer close(done)
		go f.progress(done, start)
	}
	ticker := time.NewTicker(f.cfg.Interval)
	defer ticker.Stop()
	n := len(f.gen.Companies())
	sched := f.gen.Schedule()
	var (
		rounds  int64         // rounds generated so far
		traded  time.Duration // trading time since start
		last    = start       // the clock at the previous tick
		wasOpen bool          // whether the market was open at the previous tick
		known   bool          // whether there was a previous tick
	)
	for {
		now := f.now()
		if now.After(last) {
			traded += session.TradingTime(sched, last, now)
			last = now
		}
		w := sched.Window(now)
		open := w.Contains(now)
		if !known || open != wasOpen {
			known, wasOpen = true, open
			f.logMarket(w, now)
		}
		var err error
		if open {
			due := rounds + 1 // rounds due by the end of this tick
			if f.cfg.Rate > 0 {
				due = int64(f.cfg.Rate * (traded + f.cfg.Interval).Seconds() / float64(n))
			}
			err = f.tick(ctx, produceCtx, due-rounds, now, w.Open, &sum)
			rounds = max(rounds, due)
		}
		sum.Elapsed = f.now().Sub(start)
		if err != nil {
			return sum, err
		}
		if f.cfg.Count > 0 && sum.Produced >= f.cfg.Count {
			return sum, nil
		}
		select {
		case <-ctx.Done():
			return sum, nil
		case <-stopTimer:
			return sum, nil
		case <-f.sink.Failed():
			return sum, f.sink.Err()
		case <-ticker.C:
		}
	}
}

// logMarket logs that the market opened or closed, under a schedule that closes.
func (f *Feed) logMarket(w session.Window, now time.Time) {
	if f.gen.Schedule().Name() == session.NameContinuous {
		return
	}
	if w.Contains(now) {
		f.logger.Info("market open", "session", w.Name, "closes_at", w.Close)
	} else {
		f.logger.Info("market closed: producing nothing until it opens", "opens_at", w.Open, "opens_in", w.Open.Sub(now).Round(time.Second))
	}
}

// marketAttrs describes the market at now for the progress line: nothing for a market that never
// closes; otherwise open (with the session and its close) or closed (with the next open).
func (f *Feed) marketAttrs(now time.Time) []any {
	sched := f.gen.Schedule()
	if sched.Name() == session.NameContinuous {
		return nil
	}
	w := sched.Window(now)
	if w.Contains(now) {
		return []any{"market", "open", "session", w.Name, "closes_at", w.Close}
	}
	return []any{"market", "closed", "opens_at", w.Open, "opens_in", w.Open.Sub(now).Round(time.Second)}
}

// progress logs one line every Progress until done is closed.
func (f *Feed) progress(done <-chan struct{}, start time.Time) {
	t := time.NewTicker(f.cfg.Progress)
	defer t.Stop()
	var last publish.Stats
	lastAt := start
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		at := f.now()
		st := f.sink.Stats()
		f.logger.Info("progress", append([]any{
			"produced", f.produced.Load(),
			"acked", st.Trades,
			"rate_per_s", int64(float64(st.Trades-last.Trades) / max(at.Sub(lastAt).Seconds(), 1e-9)),
			"avg_rate_per_s", int64(float64(st.Trades) / max(at.Sub(start).Seconds(), 1e-9)),
			"records", st.Records,
			"errors", st.Failed,
		}, f.marketAttrs(at)...)...)
		last, lastAt = st, at
	}
}

// tick generates `rounds` rounds in chunks that fill records of about MaxRecordTrades per group,
// created at tickEnd or, with a target rate, spread over the interval before it, but not before
// the session's open.
func (f *Feed) tick(ctx, produceCtx context.Context, rounds int64, tickEnd, open time.Time, sum *Summary) error {
	if rounds <= 0 {
		return nil
	}
	n := len(f.gen.Companies())
	largest := len(f.groups[0]) // groups are dealt round-robin, so the first is the largest
	perChunk := int64(max(f.cfg.MaxRecordTrades/max(largest, 1), 1))
	step := time.Duration(0)
	if f.cfg.Rate > 0 {
		step = min(f.cfg.Interval, tickEnd.Sub(open)) / time.Duration(rounds)
	}
	for done := int64(0); done < rounds; {
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-f.sink.Failed():
			return f.sink.Err()
		default:
		}
		k := min(perChunk, rounds-done)
		f.batch = f.batch[:0]
		var width []int // companies in each round of the chunk
		for r := range k {
			w := n
			if f.cfg.Count > 0 {
				w = int(min(int64(n), f.cfg.Count-sum.Produced-int64(len(f.batch))))
			}
			if w <= 0 {
				k = r
				break
			}
			at := tickEnd.Add(-time.Duration(rounds-done-r-1) * step)
			f.batch = f.gen.Round(f.batch, at, w)
			width = append(width, w)
		}
		if len(f.batch) == 0 {
			return nil
		}
		if err := f.ids.Assign(ctx, f.batch); err != nil {
			return err
		}
		// The contract the job applies, checked before anything is sent: a trade the job would
		// reject is a bug of the model, and stops the producer instead of filling rejects.
		sentAt := f.now()
		for i := range f.batch {
			if err := trade.Validate(f.batch[i], sentAt, f.ref); err != nil {
				return fmt.Errorf("the market model made a trade the job would reject (a bug): %w", err)
			}
		}
		f.emit(produceCtx, width, sum)
		done += k
		if f.cfg.Count > 0 && sum.Produced >= f.cfg.Count {
			return nil
		}
	}
	return nil
}

// emit writes one record per key group from the chunk in f.batch (rounds of the given widths).
func (f *Feed) emit(produceCtx context.Context, width []int, sum *Summary) {
	for g, members := range f.groups {
		f.round = f.round[:0]
		off := 0
		for _, w := range width {
			for _, i := range members {
				if i < w {
					f.round = append(f.round, f.batch[off+i])
				}
			}
			off += w
		}
		if len(f.round) == 0 {
			continue
		}
		for lo := 0; lo < len(f.round); lo += f.cfg.MaxRecordTrades {
			part := f.round[lo:min(lo+f.cfg.MaxRecordTrades, len(f.round))]
			value := trade.AppendBatch(make([]byte, 0, len(part)*160+2), part)
			f.sink.Publish(produceCtx, f.keys[g], value, len(part))
			sum.Records++
			sum.Produced += int64(len(part))
			f.produced.Store(sum.Produced)
		}
	}
}
