package session

import (
	"testing"
	"time"
)

// wib builds a Jakarta time; 2026-11-23 is a Monday.
func wib(day, h, m, s int) time.Time { return time.Date(2026, 11, day, h, m, s, 0, Jakarta) }

func TestIDXWindow(t *testing.T) {
	tests := []struct {
		name      string
		at        time.Time
		open      bool
		session   string
		from, end time.Time // the window containing at, or the next one
	}{
		{"Monday before the pre-opening", wib(23, 7, 0, 0), false, "I", wib(23, 9, 0, 0), wib(23, 12, 0, 0)},
		{"Monday 08:59:59 (pre-opening auction)", wib(23, 8, 59, 59), false, "I", wib(23, 9, 0, 0), wib(23, 12, 0, 0)},
		{"Monday opens at 09:00", wib(23, 9, 0, 0), true, "I", wib(23, 9, 0, 0), wib(23, 12, 0, 0)},
		{"Monday 11:59:59", wib(23, 11, 59, 59), true, "I", wib(23, 9, 0, 0), wib(23, 12, 0, 0)},
		{"Monday lunch starts at 12:00", wib(23, 12, 0, 0), false, "II", wib(23, 13, 30, 0), wib(23, 15, 50, 0)},
		{"Monday 13:29:59", wib(23, 13, 29, 59), false, "II", wib(23, 13, 30, 0), wib(23, 15, 50, 0)},
		{"Monday session II at 13:30", wib(23, 13, 30, 0), true, "II", wib(23, 13, 30, 0), wib(23, 15, 50, 0)},
		{"Monday 15:49:59", wib(23, 15, 49, 59), true, "II", wib(23, 13, 30, 0), wib(23, 15, 50, 0)},
		{"Monday pre-closing at 15:50", wib(23, 15, 50, 0), false, "I", wib(24, 9, 0, 0), wib(24, 12, 0, 0)},
		{"Thursday evening", wib(26, 20, 0, 0), false, "I", wib(27, 9, 0, 0), wib(27, 11, 30, 0)},
		{"Friday 11:29:59", wib(27, 11, 29, 59), true, "I", wib(27, 9, 0, 0), wib(27, 11, 30, 0)},
		{"Friday lunch starts at 11:30", wib(27, 11, 30, 0), false, "II", wib(27, 14, 0, 0), wib(27, 15, 50, 0)},
		{"Friday 13:30 is still lunch", wib(27, 13, 30, 0), false, "II", wib(27, 14, 0, 0), wib(27, 15, 50, 0)},
		{"Friday session II at 14:00", wib(27, 14, 0, 0), true, "II", wib(27, 14, 0, 0), wib(27, 15, 50, 0)},
		{"Friday close to Monday", wib(27, 15, 50, 0), false, "I", wib(30, 9, 0, 0), wib(30, 12, 0, 0)},
		{"Saturday noon", wib(28, 12, 0, 0), false, "I", wib(30, 9, 0, 0), wib(30, 12, 0, 0)},
		{"Sunday 23:59:59", wib(29, 23, 59, 59), false, "I", wib(30, 9, 0, 0), wib(30, 12, 0, 0)},
		{"UTC input: Monday 02:00Z is 09:00 WIB", time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), true, "I", wib(23, 9, 0, 0), wib(23, 12, 0, 0)},
		{"UTC input: Sunday 20:00Z is Monday 03:00 WIB", time.Date(2026, 11, 22, 20, 0, 0, 0, time.UTC), false, "I", wib(23, 9, 0, 0), wib(23, 12, 0, 0)},
	}
	s := IDX()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := s.Window(tc.at)
			if w.Contains(tc.at) != tc.open || w.Name != tc.session || !w.Open.Equal(tc.from) || !w.Close.Equal(tc.end) {
				t.Errorf("Window(%v) = %s [%v, %v) open %v; want %s [%v, %v) open %v",
					tc.at, w.Name, w.Open, w.Close, w.Contains(tc.at), tc.session, tc.from, tc.end, tc.open)
			}
			if w.Open.Location() != Jakarta {
				t.Errorf("window in %v, want Jakarta time", w.Open.Location())
			}
		})
	}
}

// Over a whole week, minute by minute, the market is open exactly during the sessions and a
// window never contains a time outside it.
func TestIDXWeek(t *testing.T) {
	s := IDX()
	open := map[time.Weekday]time.Duration{}
	for at := wib(23, 0, 0, 0); at.Before(wib(30, 0, 0, 0)); at = at.Add(time.Minute) {
		w := s.Window(at)
		if w.Contains(at) {
			open[at.Weekday()] += time.Minute
		} else if !w.Open.After(at) {
			t.Fatalf("Window(%v) = [%v, %v): not after a closed time", at, w.Open, w.Close)
		}
	}
	want := map[time.Weekday]time.Duration{
		time.Monday: 320 * time.Minute, time.Tuesday: 320 * time.Minute, time.Wednesday: 320 * time.Minute,
		time.Thursday: 320 * time.Minute, time.Friday: 260 * time.Minute,
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if open[d] != want[d] {
			t.Errorf("%v: open %v, want %v", d, open[d], want[d])
		}
	}
	if s.DayLength() != want[time.Monday] {
		t.Errorf("DayLength = %v, want %v", s.DayLength(), want[time.Monday])
	}
}

func TestContinuous(t *testing.T) {
	s := Continuous()
	for _, at := range []time.Time{wib(28, 3, 0, 0), wib(23, 0, 0, 0), wib(29, 23, 59, 59)} {
		w := s.Window(at)
		y, m, d := at.Date()
		if !w.Contains(at) || !w.Open.Equal(time.Date(y, m, d, 0, 0, 0, 0, Jakarta)) || w.Close.Sub(w.Open) != 24*time.Hour {
			t.Errorf("Window(%v) = [%v, %v), want the whole Jakarta day", at, w.Open, w.Close)
		}
	}
	if got := TradingTime(s, wib(27, 15, 0, 0), wib(30, 9, 0, 0)); got != 66*time.Hour {
		t.Errorf("TradingTime over a weekend = %v, want 66h", got)
	}
}

func TestTradingTime(t *testing.T) {
	tests := []struct {
		name string
		a, b time.Time
		want time.Duration
	}{
		{"inside session I", wib(23, 9, 10, 0), wib(23, 9, 10, 30), 30 * time.Second},
		{"across lunch", wib(23, 11, 50, 0), wib(23, 13, 40, 0), 20 * time.Minute},
		{"whole Monday", wib(23, 0, 0, 0), wib(24, 0, 0, 0), 320 * time.Minute},
		{"Friday close to Monday open", wib(27, 15, 40, 0), wib(30, 9, 5, 0), 15 * time.Minute},
		{"closed only", wib(28, 9, 0, 0), wib(29, 18, 0, 0), 0},
		{"backwards", wib(23, 10, 0, 0), wib(23, 9, 0, 0), 0},
		{"whole week", wib(23, 0, 0, 0), wib(30, 0, 0, 0), (4*320 + 260) * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := TradingTime(IDX(), tc.a, tc.b); got != tc.want {
				t.Errorf("TradingTime = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, name := range []string{NameContinuous, NameIDX} {
		s, err := Parse(name)
		if err != nil || s.Name() != name {
			t.Errorf("Parse(%q) = %v, %v", name, s, err)
		}
	}
	if _, err := Parse("weekdays"); err == nil {
		t.Error("Parse accepted an unknown session")
	}
}

func TestJakartaDay(t *testing.T) {
	tests := []struct {
		at   time.Time
		want int64
	}{
		{time.Date(1970, 1, 1, 0, 0, 0, 0, Jakarta), 0},
		{time.Date(1970, 1, 1, 16, 59, 59, 0, time.UTC), 0},
		{time.Date(1970, 1, 1, 17, 0, 0, 0, time.UTC), 1},
		{time.Date(1969, 12, 31, 23, 59, 59, 0, Jakarta), -1},
		{wib(23, 12, 0, 0), time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).Unix() / 86400},
	}
	for _, tc := range tests {
		if got := JakartaDay(tc.at); got != tc.want {
			t.Errorf("JakartaDay(%v) = %d, want %d", tc.at, got, tc.want)
		}
	}
}
