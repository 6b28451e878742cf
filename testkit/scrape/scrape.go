// Package scrape reads a /metrics endpoint the way Prometheus does: the text exposition format,
// parsed by github.com/prometheus/common/expfmt, so that a test checks what a server would store
// (names, types, labels, values) rather than matching strings.
package scrape

import (
	"context"
	"fmt"
	"io"
	"net/http"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Parse reads the text format. Names must be valid in the classic (pre-UTF-8) scheme, which
// every metric of the project keeps to.
func Parse(r io.Reader) (Families, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return fams, nil
}

// Get scrapes url (an http:// address ending in /metrics) and parses the answer.
func Get(ctx context.Context, url string) (Families, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	// Ask for the text format, as an old Prometheus would; the handlers would otherwise be free
	// to answer in protobuf or OpenMetrics.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	return Parse(resp.Body)
}

// Type is the family's type, or "" when there is no such family.
func (f Families) Type(name string) string {
	mf, ok := f[name]
	if !ok {
		return ""
	}
	return mf.GetType().String()
}

// Value sums the counters, gauges or untyped samples of family name whose labels include the
// given pairs ("path", "raw", "query", "rejects"). ok is false when no series matches.
func (f Families) Value(name string, labelPairs ...string) (v float64, ok bool) {
	for _, m := range f.match(name, labelPairs) {
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Untyped != nil:
			v += m.Untyped.GetValue()
		default:
			continue
		}
		ok = true
	}
	return v, ok
}

// Count sums the observation counts of the histograms (or summaries) of family name whose
// labels include the given pairs; ok is false when no series matches.
func (f Families) Count(name string, labelPairs ...string) (n uint64, ok bool) {
	for _, m := range f.match(name, labelPairs) {
		switch {
		case m.Histogram != nil:
			n += m.Histogram.GetSampleCount()
		case m.Summary != nil:
			n += m.Summary.GetSampleCount()
		default:
			continue
		}
		ok = true
	}
	return n, ok
}

// Labels lists, for each series of family name, the value of label key (for bounded-label
// checks).
func (f Families) Labels(name, key string) []string {
	var out []string
	for _, m := range f.match(name, nil) {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == key {
				out = append(out, lp.GetValue())
			}
		}
	}
	return out
}

func (f Families) match(name string, pairs []string) []*dto.Metric {
	mf, ok := f[name]
	if !ok {
		return nil
	}
	var out []*dto.Metric
	for _, m := range mf.GetMetric() {
		if hasLabels(m, pairs) {
			out = append(out, m)
		}
	}
	return out
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == pairs[i] && lp.GetValue() == pairs[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
