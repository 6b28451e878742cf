package web

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"idxstream/dashboard/internal/feed"
	"idxstream/dashboard/internal/market"
	"idxstream/dashboard/internal/svgchart"
)

// sourceState is how one data set's database is doing, for the "stale data" notes.
type sourceState struct {
	Source   string // "MySQL", "Cassandra"
	Down     bool
	Loaded   bool      // some data was ever fetched
	LastData time.Time // when the shown data was fetched
}

func stateOf[T any](source string, s feed.Snapshot[T]) sourceState {
	return sourceState{Source: source, Down: s.Err != nil, Loaded: s.HasValue, LastData: s.FetchedAt}
}

// dbStatus is one database in the health panel and /api/health: Up when every data set read
// from it succeeded last time, LastOK the latest successful read.
type dbStatus struct {
	Name      string    `json:"name"`
	Up        bool      `json:"up"`
	Checked   bool      `json:"checked"`
	LastOK    time.Time `json:"last_ok,omitzero"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// health is the pipeline health shown in the header, the health panel and /api/health.
type health struct {
	Status      string     `json:"status"` // ok, degraded or starting
	Now         time.Time  `json:"now"`
	MarketTZ    string     `json:"market_tz"`
	MarketDate  string     `json:"market_date"`
	LastTradeAt time.Time  `json:"last_trade_at,omitzero"`
	LagSeconds  *float64   `json:"lag_seconds"`
	LastBatch   *batchInfo `json:"last_batch"`
	Databases   []dbStatus `json:"databases"`
}

type batchInfo struct {
	ID          int64     `json:"batch_id"`
	CommittedAt time.Time `json:"committed_at"`
	AgeSeconds  float64   `json:"age_seconds"`
	// State is the aggregate path's health (market.AggregateHealth): ok, idle or stalled.
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

func dbOf(name string, checks ...func() (ok, checked bool, lastOK, at time.Time)) dbStatus {
	d := dbStatus{Name: name, Up: true, Checked: true}
	for _, c := range checks {
		ok, checked, lastOK, at := c()
		d.Up = d.Up && ok
		d.Checked = d.Checked && checked
		if lastOK.After(d.LastOK) {
			d.LastOK = lastOK
		}
		if at.After(d.CheckedAt) {
			d.CheckedAt = at
		}
	}
	if !d.Checked {
		d.Up = false
	}
	return d
}

func check[T any](p *feed.Poller[T]) func() (bool, bool, time.Time, time.Time) {
	return func() (bool, bool, time.Time, time.Time) {
		s := p.Snapshot()
		return s.OK(), !s.CheckedAt.IsZero(), s.FetchedAt, s.CheckedAt
	}
}

func (h *Handler) health() health {
	now := h.sets.Now()
	loc := h.sets.Location()
	out := health{Now: now.UTC(), MarketTZ: loc.String(), MarketDate: h.sets.Today().Format(time.DateOnly)}
	out.Databases = []dbStatus{
		dbOf("MySQL", check(h.sets.Volume), check(h.sets.Timeline), check(h.sets.Batch)),
		dbOf("Cassandra", check(h.sets.Trades), check(h.sets.Prices)),
	}
	out.LastTradeAt = h.sets.NewestTrade()
	if !out.LastTradeAt.IsZero() {
		lag := math.Round(now.Sub(out.LastTradeAt).Seconds()*10) / 10
		out.LagSeconds = &lag
	}
	if b := h.sets.Batch.Snapshot(); b.HasValue && !b.Value.CommittedAt.IsZero() {
		out.LastBatch = &batchInfo{ID: b.Value.ID, CommittedAt: b.Value.CommittedAt,
			AgeSeconds: math.Round(now.Sub(b.Value.CommittedAt).Seconds()*10) / 10}
		out.LastBatch.State, out.LastBatch.Reason = market.AggregateHealth(b.Value, out.LastTradeAt, h.cfg.AggTrigger, now)
	}
	out.Status = "ok"
	if out.LastBatch != nil && out.LastBatch.State == market.AggregateStalled {
		out.Status = "degraded"
	}
	for _, d := range out.Databases {
		switch {
		case !d.Checked:
			if out.Status == "ok" {
				out.Status = "starting"
			}
		case !d.Up:
			out.Status = "degraded"
		}
	}
	return out
}

// fragmentCache renders each fragment once per change of the data it shows, however many
// streams and pages ask for it.
type fragmentCache struct {
	mu      sync.Mutex
	entries map[string]cachedFragment
}

type cachedFragment struct {
	key  string
	html template.HTML
}

func (c *fragmentCache) get(name, key string, render func() (template.HTML, error)) (template.HTML, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[name]; ok && e.key == key {
		return e.html, nil
	}
	html, err := render()
	if err != nil {
		return "", err
	}
	if c.entries == nil {
		c.entries = map[string]cachedFragment{}
	}
	c.entries[name] = cachedFragment{key: key, html: html}
	return html, nil
}

// versions is the cache key of a fragment: the versions of every data set, the market date,
// and for time-relative fragments the current second.
func (h *Handler) versions() string {
	return fmt.Sprintf("%d.%d.%d.%d.%d.%s", h.sets.Volume.Snapshot().Version,
		h.sets.Timeline.Snapshot().Version, h.sets.Batch.Snapshot().Version,
		h.sets.Trades.Snapshot().Version, h.sets.Prices.Snapshot().Version,
		h.sets.Today().Format(time.DateOnly))
}

// fragment renders one panel's fragment (cached).
func (h *Handler) fragment(name string) (template.HTML, error) {
	p, ok := panelNamed(name)
	if !ok {
		return "", fmt.Errorf("render fragment: %q is not a panel", name)
	}
	key := h.versions()
	if p.Every {
		key += "." + strconv.FormatInt(h.sets.Now().Unix(), 10)
	}
	return h.cache.get(name, key, func() (template.HTML, error) {
		data, err := p.view(h)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := h.tmpl.ExecuteTemplate(&buf, "frag-"+name, data); err != nil {
			return "", fmt.Errorf("render fragment %s: %w", name, err)
		}
		return template.HTML(buf.String()), nil // produced by html/template
	})
}

type headerView struct {
	Today       string
	TZ          string
	Health      health
	LastTrade   timeView
	LastBatchAt timeView
}

// timeView is a moment shown as a clock time in the market zone, with its age kept current by
// the page script from the machine-readable attribute.
type timeView struct {
	Set   bool
	ISO   string // RFC 3339 for <time datetime>
	Clock string // 15:04:05 in the market zone
	Age   string // "12 s ago" when rendered
}

func (h *Handler) timeOf(t time.Time) timeView {
	if t.IsZero() {
		return timeView{}
	}
	return timeView{Set: true, ISO: t.UTC().Format(time.RFC3339Nano),
		Clock: t.In(h.sets.Location()).Format("15:04:05 MST"), Age: ago(h.sets.Now().Sub(t))}
}

// ago says how long ago in words: "just now", "12 s ago", "3 min ago", "2 h ago".
func ago(d time.Duration) string {
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	default:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
}

type volumeView struct {
	State sourceState
	Chart template.HTML
	Total string
	Rows  []market.SectorVolume
}

type timelineView struct {
	State sourceState
	Chart template.HTML
}

type moverRow struct {
	Ticker, Sector     string
	Open, Last, Change string
	Percent            string
	Dir                string // up, down, flat
	Spark              template.HTML
}

type moversView struct {
	State sourceState
	Rows  []moverRow
}

type tradeRow struct {
	ID                   int64
	Time, ISO            string
	Ticker, Sector       string
	Price, Volume, Value string
}

type tradesView struct {
	State sourceState
	Rows  []tradeRow
}

type healthView struct {
	Health    health
	LastTrade timeView
	Lag       string
	LagLevel  string // ok, warn, bad
	Batch     *batchInfo
	BatchAt   timeView
	DBs       []dbView
}

type dbView struct {
	Name   string
	Up     bool
	Known  bool
	LastOK timeView
}

func (h *Handler) headerData() (any, error) {
	loc := h.sets.Location()
	hl := h.health()
	v := headerView{Today: h.sets.Now().In(loc).Format("Monday, 2 January 2006"), TZ: loc.String(),
		Health: hl, LastTrade: h.timeOf(hl.LastTradeAt)}
	if hl.LastBatch != nil {
		v.LastBatchAt = h.timeOf(hl.LastBatch.CommittedAt)
	}
	return v, nil
}

func (h *Handler) healthData() (any, error) {
	hl := h.health()
	v := healthView{Health: hl, LastTrade: h.timeOf(hl.LastTradeAt), Batch: hl.LastBatch, Lag: "unknown", LagLevel: "bad"}
	if hl.LagSeconds != nil {
		v.Lag = fmt.Sprintf("%.1f s", *hl.LagSeconds)
		switch {
		case *hl.LagSeconds <= 30:
			v.LagLevel = "ok"
		case *hl.LagSeconds <= 120:
			v.LagLevel = "warn"
		}
	}
	if hl.LastBatch != nil {
		v.BatchAt = h.timeOf(hl.LastBatch.CommittedAt)
	}
	for _, d := range hl.Databases {
		v.DBs = append(v.DBs, dbView{Name: d.Name, Up: d.Up, Known: d.Checked, LastOK: h.timeOf(d.LastOK)})
	}
	return v, nil
}

func (h *Handler) volumeData() (any, error) {
	s := h.sets.Volume.Snapshot()
	bars := make([]svgchart.Bar, len(s.Value))
	var total int64
	for i, v := range s.Value {
		bars[i] = svgchart.Bar{Label: v.Sector, Value: v.TotalVolume}
		total += v.TotalVolume
	}
	chart, err := svgchart.HBar(svgchart.HBarSpec{ID: "volume-chart", Unit: "shares", Bars: bars, Width: 560,
		Title: "Traded volume by sector today",
		Desc:  fmt.Sprintf("Horizontal bars, largest first: shares traded today per sector, %d sectors, %s shares in total.", len(bars), svgchart.Thousands(total))})
	if err != nil {
		return nil, err
	}
	return volumeView{State: stateOf("MySQL", s), Chart: chart, Total: svgchart.Thousands(total), Rows: s.Value}, nil
}

func (h *Handler) timelineData() (any, error) {
	loc := h.sets.Location()
	s := h.sets.Timeline.Snapshot()
	bySector := map[string][]svgchart.Point{}
	for _, p := range s.Value {
		bySector[p.Sector] = append(bySector[p.Sector], svgchart.Point{At: p.Minute, Value: float64(p.TotalVolume)})
	}
	names := make([]string, 0, len(bySector))
	for n := range bySector {
		names = append(names, n)
	}
	slices.Sort(names)
	series := make([]svgchart.Series, len(names))
	for i, n := range names {
		series[i] = svgchart.Series{Name: n, Points: bySector[n]}
	}
	chart, err := svgchart.Lines(svgchart.LinesSpec{ID: "timeline-chart", Unit: "shares", Location: loc,
		Series: series, Legend: true, Width: 960, Height: 300,
		Title: "Volume per minute by sector today",
		Desc:  fmt.Sprintf("One line per sector (%d sectors): shares aggregated per minute of processing, times in %s.", len(series), loc)})
	if err != nil {
		return nil, err
	}
	return timelineView{State: stateOf("MySQL", s), Chart: chart}, nil
}

func (h *Handler) moversData() (any, error) {
	s := h.sets.Prices.Snapshot()
	series := map[string]market.TickerSeries{}
	for _, ts := range s.Value {
		series[ts.Ticker] = ts
	}
	v := moversView{State: stateOf("Cassandra", s)}
	for _, m := range market.Movers(s.Value) {
		if len(v.Rows) == h.cfg.Movers {
			break
		}
		ts := series[m.Ticker]
		pts := make([]svgchart.Point, len(ts.Points))
		for i, p := range ts.Points {
			pts[i] = svgchart.Point{At: p.At, Value: p.Price}
		}
		row := moverRow{Ticker: m.Ticker, Sector: m.Sector, Open: svgchart.FormatFloat(m.Open),
			Last: svgchart.FormatFloat(m.Last), Change: signed(m.Change), Percent: signed(m.ChangePercent) + "%", Dir: "flat"}
		if m.Change > 0 {
			row.Dir = "up"
		} else if m.Change < 0 {
			row.Dir = "down"
		}
		spark, err := svgchart.Sparkline(fmt.Sprintf("%s price today: open %s, last %s, %s", m.Ticker, row.Open, row.Last, row.Percent),
			m.Open, pts, 140, 28)
		if err != nil {
			return nil, err
		}
		row.Spark = spark
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

func (h *Handler) tradesData() (any, error) {
	loc := h.sets.Location()
	s := h.sets.Trades.Snapshot()
	v := tradesView{State: stateOf("Cassandra", s)}
	for _, t := range s.Value {
		v.Rows = append(v.Rows, tradeRow{ID: t.ID, Time: t.CreatedAt.In(loc).Format("15:04:05.000"),
			ISO: t.CreatedAt.UTC().Format(time.RFC3339Nano), Ticker: t.Ticker, Sector: t.Sector,
			Price: svgchart.FormatFloat(t.Price), Volume: svgchart.Thousands(t.Volume),
			Value: svgchart.Compact(t.Price * float64(t.Volume))})
	}
	return v, nil
}

func signed(v float64) string {
	if v > 0 {
		return "+" + svgchart.FormatFloat(v)
	}
	return svgchart.FormatFloat(v)
}
