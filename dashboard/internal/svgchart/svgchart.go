// Package svgchart renders small, accessible SVG charts on the server: horizontal bars with their
// values written beside them, multi-series line charts with axes and a legend, and sparklines.
//
// Output is produced with html/template, so labels are escaped, and is meant to be placed inline
// in an HTML page. Charts use only SVG presentation attributes and CSS classes (no style
// attributes), so a Content-Security-Policy without 'unsafe-inline' allows them. Every chart is
// role="img" with a <title> and <desc> referenced by aria-labelledby, and every mark has its own
// <title> (shown as a tooltip) carrying the exact value.
package svgchart

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.svg.tmpl
var templateFS embed.FS

var tmpl = template.Must(template.New("svg").Funcs(template.FuncMap{
	"add": func(a float64, b ...float64) float64 {
		for _, v := range b {
			a += v
		}
		return a
	},
	"sub": func(a, b float64) float64 { return a - b },
}).ParseFS(templateFS, "templates/*.svg.tmpl"))

// Palette is the series colours, in order; chosen to stay apart for common colour blindness.
var Palette = []string{
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
	"#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939",
}

// Bar is one bar of an HBar chart.
type Bar struct {
	Label string
	Value int64
}

// HBarSpec describes a horizontal bar chart.
type HBarSpec struct {
	// ID prefixes the element ids (must be unique in the page).
	ID string
	// Title and Desc become the chart's accessible name and description.
	Title, Desc string
	// Unit follows each value in tooltips ("shares").
	Unit string
	// Bars are drawn top-down in the order given.
	Bars []Bar
	// Width of the chart in user units (default 720).
	Width int
}

type hbarRow struct {
	Label, Value, Tip, Raw string
	Y, BarW, TextY, ValueX float64
	Inside                 bool
}

type hbarData struct {
	ID, Title, Desc     string
	Width, Height       int
	LabelW, PlotX, BarH float64
	Rows                []hbarRow
	Empty               bool
}

// HBar renders a horizontal bar chart, the value of each bar written at its end.
func HBar(s HBarSpec) (template.HTML, error) {
	if s.Width <= 0 {
		s.Width = 720
	}
	const rowH, barH, top = 30.0, 22.0, 8.0
	labelW := 12.0
	for _, b := range s.Bars {
		labelW = math.Max(labelW, textWidth(b.Label, 13))
	}
	labelW = math.Min(labelW+12, float64(s.Width)/2.5)
	var maxV int64
	for _, b := range s.Bars {
		maxV = max(maxV, b.Value)
	}
	plotW := float64(s.Width) - labelW - 8
	d := hbarData{ID: s.ID, Title: s.Title, Desc: s.Desc, Width: s.Width, LabelW: labelW - 8,
		PlotX: labelW, BarH: barH, Empty: len(s.Bars) == 0}
	for i, b := range s.Bars {
		w := 0.0
		if maxV > 0 && b.Value > 0 {
			w = math.Max(1, float64(b.Value)/float64(maxV)*plotW)
		}
		val := Thousands(b.Value)
		vw := textWidth(val, 12) + 12
		r := hbarRow{Label: b.Label, Value: val, Raw: strconv.FormatInt(b.Value, 10),
			Tip: fmt.Sprintf("%s: %s %s", b.Label, val, s.Unit),
			Y:   top + float64(i)*rowH, BarW: round1(w)}
		r.TextY = r.Y + barH/2
		// The value sits after the bar, or inside its end when there is no room after it.
		if w+vw > plotW {
			r.Inside, r.ValueX = true, round1(labelW+w-6)
		} else {
			r.ValueX = round1(labelW + w + 6)
		}
		d.Rows = append(d.Rows, r)
	}
	d.Height = int(top*2 + math.Max(1, float64(len(s.Bars)))*rowH)
	return execute("hbar.svg.tmpl", d)
}

// Point is one value of a line series.
type Point struct {
	At    time.Time
	Value float64
}

// Series is one line of a Lines chart.
type Series struct {
	Name   string
	Points []Point // in time order
}

// LinesSpec describes a line chart with a time axis.
type LinesSpec struct {
	ID, Title, Desc string
	// Unit names the y values in tooltips and the axis ("shares", "IDR").
	Unit string
	// Location formats the time axis (default UTC).
	Location *time.Location
	Series   []Series
	// Width and Height in user units (defaults 720 x 300).
	Width, Height int
	// Legend draws a legend below the plot (default true when there is more than one series).
	Legend bool
}

type linePath struct {
	Name, Color, D string
	Marks          []lineMark
}

type lineMark struct {
	X, Y       float64
	Tip, Color string
}

type tick struct {
	Pos   float64
	Label string
}

type legendItem struct {
	Name, Color string
	X, Y        float64
}

type linesData struct {
	ID, Title, Desc            string
	Width, Height              int
	PlotX, PlotY, PlotW, PlotH float64
	XTicks, YTicks             []tick
	Paths                      []linePath
	Legend                     []legendItem
	Empty                      bool
	Unit                       string
}

// Lines renders a multi-series line chart with a time x axis, a value y axis starting at the
// smallest value's nice floor, a point mark with a tooltip per value, and a legend.
func Lines(s LinesSpec) (template.HTML, error) {
	if s.Width <= 0 {
		s.Width = 720
	}
	if s.Height <= 0 {
		s.Height = 300
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	var (
		t0, t1 time.Time
		v0, v1 = math.Inf(1), math.Inf(-1)
		n      int
	)
	for _, sr := range s.Series {
		for _, p := range sr.Points {
			if n == 0 || p.At.Before(t0) {
				t0 = p.At
			}
			if n == 0 || p.At.After(t1) {
				t1 = p.At
			}
			v0, v1 = math.Min(v0, p.Value), math.Max(v1, p.Value)
			n++
		}
	}
	legendRows := 0
	const legendColW = 190.0
	perRow := max(1, int((float64(s.Width)-60)/legendColW))
	if s.Legend && len(s.Series) > 0 {
		legendRows = (len(s.Series) + perRow - 1) / perRow
	}
	d := linesData{ID: s.ID, Title: s.Title, Desc: s.Desc, Width: s.Width, Unit: s.Unit,
		PlotX: 64, PlotY: 10, Empty: n == 0}
	d.Height = s.Height + legendRows*20
	d.PlotW = float64(s.Width) - d.PlotX - 16
	d.PlotH = float64(s.Height) - d.PlotY - 30
	if n == 0 {
		return execute("lines.svg.tmpl", d)
	}
	lo, hi, step := niceRange(v0, v1, 5)
	span := t1.Sub(t0)
	if span <= 0 {
		span = time.Minute
		t0 = t0.Add(-span / 2)
	}
	x := func(t time.Time) float64 { return round1(d.PlotX + float64(t.Sub(t0))/float64(span)*d.PlotW) }
	y := func(v float64) float64 { return round1(d.PlotY + (hi-v)/(hi-lo)*d.PlotH) }
	for v := lo; v <= hi+step/2; v += step {
		d.YTicks = append(d.YTicks, tick{Pos: y(v), Label: Compact(v)})
	}
	for _, t := range timeTicks(t0, t0.Add(span), 6) {
		d.XTicks = append(d.XTicks, tick{Pos: x(t), Label: t.In(loc).Format("15:04")})
	}
	for i, sr := range s.Series {
		p := linePath{Name: sr.Name, Color: Palette[i%len(Palette)]}
		var b strings.Builder
		for j, pt := range sr.Points {
			px, py := x(pt.At), y(pt.Value)
			if j == 0 {
				fmt.Fprintf(&b, "M%g %g", px, py)
			} else {
				fmt.Fprintf(&b, " L%g %g", px, py)
			}
			p.Marks = append(p.Marks, lineMark{X: px, Y: py, Color: p.Color,
				Tip: fmt.Sprintf("%s %s: %s %s", sr.Name, pt.At.In(loc).Format("15:04:05"), FormatFloat(pt.Value), s.Unit)})
		}
		p.D = b.String()
		d.Paths = append(d.Paths, p)
		if legendRows > 0 {
			d.Legend = append(d.Legend, legendItem{Name: sr.Name, Color: p.Color,
				X: d.PlotX + float64(i%perRow)*legendColW, Y: float64(s.Height) + float64(i/perRow)*20 + 4})
		}
	}
	return execute("lines.svg.tmpl", d)
}

type sparkData struct {
	Label, D, Color string
	Width, Height   int
	EndX, EndY      float64
}

// Sparkline renders a small price line (no axes) labelled for screen readers by label. Up-trends
// are green and down-trends red, judged from base (the day's open) to the last point.
func Sparkline(label string, base float64, points []Point, width, height int) (template.HTML, error) {
	d := sparkData{Label: label, Width: width, Height: height, Color: "#6b7280"}
	if len(points) == 0 {
		return execute("spark.svg.tmpl", d)
	}
	v0, v1 := base, base
	if base <= 0 {
		v0, v1 = points[0].Value, points[0].Value
	}
	for _, p := range points {
		v0, v1 = math.Min(v0, p.Value), math.Max(v1, p.Value)
	}
	if v1 == v0 {
		v0, v1 = v0-1, v1+1
	}
	t0, t1 := points[0].At, points[len(points)-1].At
	span := float64(t1.Sub(t0))
	var b strings.Builder
	for i, p := range points {
		px := 2.0
		if span > 0 {
			px = 2 + float64(p.At.Sub(t0))/span*float64(width-4)
		} else if len(points) > 1 {
			px = 2 + float64(i)/float64(len(points)-1)*float64(width-4)
		}
		py := 2 + (v1-p.Value)/(v1-v0)*float64(height-4)
		if i == 0 {
			fmt.Fprintf(&b, "M%g %g", round1(px), round1(py))
		} else {
			fmt.Fprintf(&b, " L%g %g", round1(px), round1(py))
		}
		d.EndX, d.EndY = round1(px), round1(py)
	}
	d.D = b.String()
	last := points[len(points)-1].Value
	switch {
	case base > 0 && last > base:
		d.Color = "#15803d"
	case base > 0 && last < base:
		d.Color = "#b91c1c"
	}
	return execute("spark.svg.tmpl", d)
}

func execute(name string, data any) (template.HTML, error) {
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return template.HTML(buf.String()), nil // #nosec: produced by html/template
}

// Thousands formats n with comma thousands separators: 1234567 -> "1,234,567".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatFloat formats v with thousands separators and at most two decimals ("9,875", "12.5").
func FormatFloat(v float64) string {
	whole := math.Trunc(v)
	frac := math.Abs(v - whole)
	s := Thousands(int64(whole))
	if whole == 0 && v < 0 {
		s = "-0"
	}
	if f := math.Round(frac * 100); f > 0 && f < 100 {
		d := strings.TrimRight(fmt.Sprintf("%02d", int(f)), "0")
		return s + "." + d
	}
	return s
}

// Compact formats v for an axis: 950, 12.5K, 3.4M, 1.2B.
func Compact(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trim(v/1e9) + "B"
	case a >= 1e6:
		return trim(v/1e6) + "M"
	case a >= 1e4:
		return trim(v/1e3) + "K"
	default:
		return trim(v)
	}
}

func trim(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// textWidth estimates the width of s in a sans-serif font of size px.
func textWidth(s string, px float64) float64 { return float64(len([]rune(s))) * px * 0.6 }

// niceRange widens [lo, hi] to round numbers with about n steps.
func niceRange(lo, hi float64, n int) (float64, float64, float64) {
	if lo == hi {
		if lo == 0 {
			return 0, 1, 0.25
		}
		lo, hi = lo-math.Abs(lo)*0.05, hi+math.Abs(hi)*0.05
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	nlo, nhi := math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	if lo >= 0 && nlo < 0 {
		nlo = 0
	}
	return nlo, nhi, step
}

// timeTicks picks round times (1, 2, 5, 10, 15, 30, 60, 120... minutes apart) inside [t0, t1].
func timeTicks(t0, t1 time.Time, n int) []time.Time {
	span := t1.Sub(t0)
	step := time.Minute
	for _, m := range []int{1, 2, 5, 10, 15, 30, 60, 120, 180, 360} {
		step = time.Duration(m) * time.Minute
		if span/step <= time.Duration(n) {
			break
		}
	}
	if span < time.Minute {
		return []time.Time{t0}
	}
	var out []time.Time
	for t := t0.Truncate(step); !t.After(t1); t = t.Add(step) {
		if !t.Before(t0) {
			out = append(out, t)
		}
	}
	return out
}
