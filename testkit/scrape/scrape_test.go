package scrape

import (
	"strings"
	"testing"
)

const sample = `# HELP jobs_total Jobs done.
# TYPE jobs_total counter
jobs_total{path="raw",query="a"} 3
jobs_total{path="raw",query="b"} 4
jobs_total{path="aggregate",query="c"} 5
# HELP lag_records Lag.
# TYPE lag_records gauge
lag_records 7
# HELP took_seconds Duration.
# TYPE took_seconds histogram
took_seconds_bucket{path="raw",le="1"} 1
took_seconds_bucket{path="raw",le="+Inf"} 2
took_seconds_sum{path="raw"} 3.5
took_seconds_count{path="raw"} 2
`

func TestParseAndQuery(t *testing.T) {
	f, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		metric string
		pairs  []string
		want   float64
		ok     bool
	}{
		{"all series summed", "jobs_total", nil, 12, true},
		{"by one label", "jobs_total", []string{"path", "raw"}, 7, true},
		{"by two labels", "jobs_total", []string{"path", "raw", "query", "b"}, 4, true},
		{"no such series", "jobs_total", []string{"path", "none"}, 0, false},
		{"no such family", "nothing", nil, 0, false},
		{"gauge", "lag_records", nil, 7, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := f.Value(tt.metric, tt.pairs...)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Value = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	if n, ok := f.Count("took_seconds", "path", "raw"); n != 2 || !ok {
		t.Errorf("Count = %d, %v", n, ok)
	}
	if f.Type("took_seconds") != "HISTOGRAM" || f.Type("jobs_total") != "COUNTER" || f.Type("x") != "" {
		t.Errorf("types %q %q", f.Type("took_seconds"), f.Type("jobs_total"))
	}
	if got := f.Labels("jobs_total", "path"); len(got) != 3 {
		t.Errorf("Labels = %v", got)
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	if _, err := Parse(strings.NewReader("not a metric line at all {")); err == nil {
		t.Fatal("want a parse error")
	}
}
