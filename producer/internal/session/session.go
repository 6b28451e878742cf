// Package session says when the simulated market trades: the IDX regular market's continuous
// trading sessions in Jakarta time, or a market that never closes.
//
// A Schedule is a pure function of the time it is given (there is no clock in this package), so
// that the market model and the feed can be tested at any instant, and so that a seeded run sees
// the same sessions whenever it is replayed with the same times. Schedules are immutable and safe
// for concurrent use.
//
// # IDX trading hours
//
// The regular market's continuous trading, Jakarta time (WIB, UTC+7), as restored after the
// pandemic on Monday 3 April 2023 by IDX Board of Directors Decree Kep-00055/BEI/03-2023 (Rule
// II-A on trading of equity securities), following OJK letter S-52/PM.01/2023 of 29 March 2023.
// Sources: Kontan, "Jam Perdagangan BEI Balik Normal 3 April, Simak Rinciannya" (March 2023,
// quoting the IDX announcement, with the to-the-second table); Katadata, "BEI: Mulai Senin Besok
// Jam Perdagangan Bursa Berlangsung Lebih Lama" (30 March 2023); IDX Channel, "Jadwal, Jam dan
// Mekanisme Perdagangan di BEI" (undated, quoting idx.co.id and Kep-00055/BEI/03-2023):
//
//	Monday-Thursday  session I 09:00:00-12:00:00  session II 13:30:00-15:49:59
//	Friday           session I 09:00:00-11:30:00  session II 14:00:00-15:49:59
//	Saturday, Sunday no trading
//
// A search of news pages for a later change (2024-2025) found none. Around the continuous sessions the IDX also
// runs a pre-opening auction (08:45-08:59), a pre-closing auction with random closing (15:50-16:00)
// and a post-closing session at the closing price (16:01-16:15); those are auctions, not continuous
// trading, and are not simulated: a window here is continuous trading only, and ends at 12:00,
// 11:30 or 15:50 exclusive. Exchange holidays (announced yearly by the IDX) are not modelled: every
// weekday trades.
package session

import (
	"fmt"
	"time"
)

// Jakarta is the IDX's time zone, WIB (UTC+7). It is a fixed zone rather than a tz-database
// lookup of "Asia/Jakarta" because Jakarta has kept UTC+7 without daylight saving since 1964, and
// a fixed zone needs no zoneinfo on the machine.
var Jakarta = time.FixedZone("WIB", 7*60*60)

// Window is one stretch of continuous trading, from Open (inclusive) to Close (exclusive).
type Window struct {
	Name        string    // "I" or "II" for the IDX sessions, "continuous" for the never-closing market
	Open, Close time.Time // in Jakarta time
}

// Contains reports whether t falls inside the window.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.Open) && t.Before(w.Close) }

// Day is the window's trading day: its Jakarta calendar date as days since 1970-01-01. Two windows
// of the same day (session I and II) share it; the price limits of package market reset when it
// changes.
func (w Window) Day() int64 { return JakartaDay(w.Open) }

// JakartaDay returns t's Jakarta calendar date as days since 1970-01-01.
func JakartaDay(t time.Time) int64 {
	s := t.Unix() + 7*60*60
	if s < 0 {
		return (s+1)/86400 - 1
	}
	return s / 86400
}

// Schedule says when the market trades.
type Schedule interface {
	// Name is the --session value that selects the schedule.
	Name() string
	// Window returns the window that contains t or, when the market is closed at t, the next
	// window to open after t. There is always a next window.
	Window(t time.Time) Window
	// DayLength is the trading time of a full trading day (Monday to Thursday on the IDX). The
	// market model spreads a day's volatility over it.
	DayLength() time.Duration
}

// Names of the schedules, as --session takes them.
const (
	NameContinuous = "continuous"
	NameIDX        = "idx"
)

// Parse returns the schedule called name: "continuous" or "idx".
func Parse(name string) (Schedule, error) {
	switch name {
	case NameContinuous:
		return Continuous(), nil
	case NameIDX:
		return IDX(), nil
	}
	return nil, fmt.Errorf("session %q: want %s or %s", name, NameContinuous, NameIDX)
}

// Continuous returns the schedule of a market that never closes. Its windows are whole Jakarta
// calendar days, every day of the week, so that the daily price limits still reset at Jakarta
// midnight.
func Continuous() Schedule { return continuous{} }

type continuous struct{}

func (continuous) Name() string             { return NameContinuous }
func (continuous) DayLength() time.Duration { return 24 * time.Hour }
func (continuous) Window(t time.Time) Window {
	open := dayStart(JakartaDay(t))
	return Window{Name: NameContinuous, Open: open, Close: open.Add(24 * time.Hour)}
}

// IDX returns the schedule of the IDX regular market's continuous trading sessions (see the
// package documentation for the hours and their sources).
func IDX() Schedule { return idx{} }

type idx struct{}

// clock is a time of day in Jakarta, as an offset from midnight.
func clock(h, m int) time.Duration { return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute }

// The sessions of a day, by weekday (Sunday = 0). Weekends have none.
var idxHours = func() [7][]struct {
	name        string
	open, close time.Duration
} {
	type s = struct {
		name        string
		open, close time.Duration
	}
	monThu := []s{{"I", clock(9, 0), clock(12, 0)}, {"II", clock(13, 30), clock(15, 50)}}
	fri := []s{{"I", clock(9, 0), clock(11, 30)}, {"II", clock(14, 0), clock(15, 50)}}
	return [7][]s{time.Monday: monThu, time.Tuesday: monThu, time.Wednesday: monThu, time.Thursday: monThu, time.Friday: fri}
}()

func (idx) Name() string { return NameIDX }

// DayLength is Monday to Thursday's 3 h + 2 h 20 min; Friday trades 4 h 20 min.
func (idx) DayLength() time.Duration { return clock(5, 20) }

func (idx) Window(t time.Time) Window {
	for d := JakartaDay(t); ; d++ {
		start := dayStart(d)
		for _, s := range idxHours[start.Weekday()] {
			if w := (Window{Name: s.name, Open: start.Add(s.open), Close: start.Add(s.close)}); t.Before(w.Close) {
				return w
			}
		}
	}
}

// dayStart returns Jakarta midnight of day d (days since 1970-01-01), in Jakarta time.
func dayStart(d int64) time.Time { return time.Unix(d*86400-7*60*60, 0).In(Jakarta) }

// TradingTime returns how much of [a, b) the market trades under s: b-a for a market that never
// closes, only the time inside windows otherwise. It is 0 when b is not after a.
func TradingTime(s Schedule, a, b time.Time) time.Duration {
	var sum time.Duration
	for a.Before(b) {
		w := s.Window(a)
		if !w.Open.Before(b) {
			break
		}
		sum += minTime(w.Close, b).Sub(maxTime(w.Open, a))
		a = w.Close
	}
	return sum
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
