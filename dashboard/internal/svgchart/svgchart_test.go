package svgchart

import (
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got ---\n%s", name, got)
	}
}

// wellFormed checks that the SVG parses as XML.
func wellFormed(t *testing.T, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg)
		}
	}
}

var t0 = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

func TestGolden(t *testing.T) {
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		render func() (string, error)
	}{
		{"hbar.svg", func() (string, error) {
			h, err := HBar(HBarSpec{ID: "v", Title: "Volume", Desc: "by sector", Unit: "shares", Bars: []Bar{
				{"Financials", 12_345_600}, {"Energy", 5_000_000}, {"Consumer <Cyclicals> & co", 100}, {"Zero", 0}}})
			return string(h), err
		}},
		{"hbar-empty.svg", func() (string, error) {
			h, err := HBar(HBarSpec{ID: "v", Title: "Volume", Desc: "none"})
			return string(h), err
		}},
		{"lines.svg", func() (string, error) {
			h, err := Lines(LinesSpec{ID: "l", Title: "Timeline", Desc: "two sectors", Unit: "shares",
				Location: jakarta, Legend: true, Series: []Series{
					{Name: "Energy", Points: []Point{{t0, 1000}, {t0.Add(time.Minute), 3000}, {t0.Add(2 * time.Minute), 2500}}},
					{Name: "Financials", Points: []Point{{t0, 5000}, {t0.Add(2 * time.Minute), 7000}}},
				}})
			return string(h), err
		}},
		{"lines-single-point.svg", func() (string, error) {
			h, err := Lines(LinesSpec{ID: "l", Title: "T", Desc: "d", Series: []Series{{Name: "A", Points: []Point{{t0, 42}}}}})
			return string(h), err
		}},
		{"spark.svg", func() (string, error) {
			h, err := Sparkline("BBCA up", 100, []Point{{t0, 100}, {t0.Add(time.Second), 98}, {t0.Add(3 * time.Second), 104}}, 140, 28)
			return string(h), err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.render()
			if err != nil {
				t.Fatal(err)
			}
			wellFormed(t, got)
			golden(t, tt.name, got)
		})
	}
}

func TestHBarAccessibleAndEscaped(t *testing.T) {
	h, err := HBar(HBarSpec{ID: "v", Title: "T <b>", Desc: "D", Bars: []Bar{{"<script>alert(1)</script>", 7}}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(h)
	for _, want := range []string{`role="img"`, `aria-labelledby="v-title v-desc"`, `<title id="v-title">T &lt;b&gt;</title>`,
		`data-value="7"`, `&lt;script&gt;alert(1)&lt;/script&gt;`} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "<script>") {
		t.Error("label was not escaped")
	}
}

func TestHBarBarsProportional(t *testing.T) {
	h, err := HBar(HBarSpec{ID: "v", Width: 720, Bars: []Bar{{"a", 200}, {"b", 100}}})
	if err != nil {
		t.Fatal(err)
	}
	var widths []string
	for _, part := range strings.Split(string(h), "<rect ")[1:] {
		i := strings.Index(part, `width="`) + len(`width="`)
		widths = append(widths, part[i:i+strings.Index(part[i:], `"`)])
	}
	if len(widths) != 2 {
		t.Fatalf("found %d bars, want 2", len(widths))
	}
	var a, b float64
	if _, err := fmtSscan(widths[0], &a); err != nil {
		t.Fatal(err)
	}
	if _, err := fmtSscan(widths[1], &b); err != nil {
		t.Fatal(err)
	}
	if r := a / b; r < 1.99 || r > 2.01 {
		t.Errorf("bar widths %v and %v are not 2:1", a, b)
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"thousands small", Thousands(999), "999"},
		{"thousands", Thousands(1234567), "1,234,567"},
		{"thousands negative", Thousands(-1234), "-1,234"},
		{"thousands zero", Thousands(0), "0"},
		{"float whole", FormatFloat(9875), "9,875"},
		{"float decimals", FormatFloat(12.5), "12.5"},
		{"float two decimals", FormatFloat(-1234.25), "-1,234.25"},
		{"float small negative", FormatFloat(-0.5), "-0.5"},
		{"compact small", Compact(950), "950"},
		{"compact K", Compact(12500), "12.5K"},
		{"compact M", Compact(3_400_000), "3.4M"},
		{"compact B", Compact(1.2e9), "1.2B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestNiceRange(t *testing.T) {
	tests := []struct {
		name           string
		lo, hi         float64
		wlo, whi, step float64
	}{
		{"positive", 1000, 7000, 0, 8000, 2000},
		{"flat", 100, 100, 94, 106, 2},
		{"zero", 0, 0, 0, 1, 0.25},
		{"prices", 9850, 9925, 9840, 9940, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi, step := niceRange(tt.lo, tt.hi, 5)
			if lo != tt.wlo || hi != tt.whi || step != tt.step {
				t.Errorf("niceRange(%v, %v) = %v, %v, %v; want %v, %v, %v", tt.lo, tt.hi, lo, hi, step, tt.wlo, tt.whi, tt.step)
			}
		})
	}
}

func fmtSscan(s string, v *float64) (int, error) { return fmt.Sscan(s, v) }
