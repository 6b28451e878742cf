package trade

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// mirror is the trade as encoding/json would write it with created_at pre-formatted; AppendJSON
// must produce the same bytes.
type mirror struct {
	ID        int64   `json:"id"`
	Ticker    string  `json:"ticker"`
	CreatedAt string  `json:"created_at"`
	Price     float64 `json:"price"`
	MarketCap float64 `json:"market_cap"`
	Volume    int64   `json:"volume"`
	Sector    string  `json:"sector"`
}

func stdEncode(t *testing.T, tr Trade) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	m := mirror{tr.ID, tr.Ticker, tr.CreatedAt.UTC().Truncate(time.Microsecond).Format(TimeLayout), tr.Price, tr.MarketCap, tr.Volume, tr.Sector}
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	base := Trade{ID: 42, Ticker: "BBCA", CreatedAt: time.Date(2026, 11, 23, 2, 15, 4, 123456789, time.UTC),
		Price: 9875, MarketCap: 9875 * 123275050000, Volume: 500, Sector: "Financials"}
	jakarta := time.FixedZone("WIB", 7*3600)
	tests := []struct {
		name string
		edit func(*Trade)
	}{
		{"typical", func(*Trade) {}},
		{"non-UTC time is written in UTC", func(tr *Trade) { tr.CreatedAt = time.Date(2026, 11, 23, 9, 0, 0, 5000, jakarta) }},
		{"whole second keeps six digits", func(tr *Trade) { tr.CreatedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }},
		{"fractional price", func(tr *Trade) { tr.Price = 0.1 }},
		{"tiny price uses exponent", func(tr *Trade) { tr.Price = 1e-7 }},
		{"huge market cap uses exponent", func(tr *Trade) { tr.MarketCap = 1.5e21 }},
		{"negative values", func(tr *Trade) { tr.ID, tr.Price, tr.Volume = -1, -25, -100 }},
		{"zero values", func(tr *Trade) { *tr = Trade{} }},
		{"negative zero", func(tr *Trade) { tr.Price = math.Copysign(0, -1) }},
		{"integers near 2^53", func(tr *Trade) { tr.Price, tr.MarketCap = 1<<53-1, 1<<53+2 }},
		{"large whole market cap", func(tr *Trade) { tr.MarketCap = 64 * 1189827447466 * 1000 }},
		{"year before 1970", func(tr *Trade) { tr.CreatedAt = time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC) }},
		{"year 10000", func(tr *Trade) { tr.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 1000, time.UTC) }},
		{"max int64", func(tr *Trade) { tr.ID, tr.Volume = math.MaxInt64, math.MaxInt64 }},
		{"escaped sector", func(tr *Trade) { tr.Sector = "A \"quoted\" \\ path\n\t\x01" }},
		{"html characters stay", func(tr *Trade) { tr.Sector = "Properties & Real Estate <x>" }},
		{"unicode sector", func(tr *Trade) { tr.Sector = "Keuangan – Perbankan é 日本" }},
		{"line separators", func(tr *Trade) { tr.Sector = "a\u2028b\u2029c" }},
		{"invalid utf8", func(tr *Trade) { tr.Ticker = "BB\xffA" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := base
			tc.edit(&tr)
			got := AppendJSON(nil, tr)
			want := stdEncode(t, tr)
			if !bytes.Equal(got, want) {
				t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
			}
			if !json.Valid(got) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

func TestAppendFloatNonFinite(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := string(appendFloat(nil, f)); got != "null" {
			t.Errorf("appendFloat(%v) = %s, want null", f, got)
		}
	}
}

func TestAppendBatch(t *testing.T) {
	tests := []struct {
		name string
		in   []Trade
		want string
	}{
		{"empty", nil, "[]"},
		{"one", []Trade{{ID: 1}}, `[{"id":1,"ticker":"","created_at":"0001-01-01T00:00:00.000000Z","price":0,"market_cap":0,"volume":0,"sector":""}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendBatch(nil, tc.in)); got != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
	// appends after existing content
	got := AppendBatch([]byte("x"), []Trade{{ID: 1}, {ID: 2}})
	if got[0] != 'x' || !json.Valid(got[1:]) {
		t.Errorf("AppendBatch did not append a valid array: %s", got)
	}
}

func TestRoundTrip(t *testing.T) {
	in := sampleTrades()
	out, err := DecodeBatch(AppendBatch(nil, in))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("decoded %d trades, want %d", len(out), len(in))
	}
	for i := range in {
		want := in[i]
		want.CreatedAt = want.CreatedAt.UTC().Truncate(time.Microsecond)
		if out[i] != want {
			t.Errorf("trade %d: got %+v, want %+v", i, out[i], want)
		}
	}
	// MarshalJSON is used by encoding/json.
	b, err := json.Marshal(in[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, AppendJSON(nil, in[0])) {
		t.Errorf("json.Marshal = %s, want AppendJSON's form", b)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"not an array", `{"id":1}`},
		{"bad time", `[{"id":1,"created_at":"yesterday"}]`},
		{"string id", `[{"id":"1"}]`},
		{"truncated", `[{"id":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeBatch([]byte(tc.in)); err == nil {
				t.Errorf("DecodeBatch(%s) succeeded, want an error", tc.in)
			}
		})
	}
}

// sampleTrades is a small batch covering every sector-like string shape of the seed data.
func sampleTrades() []Trade {
	at := time.Date(2026, 11, 23, 2, 15, 4, 123456000, time.UTC)
	return []Trade{
		{ID: 1, Ticker: "BBCA", CreatedAt: at, Price: 9875, MarketCap: 9875 * 123275050000, Volume: 500, Sector: "Financials"},
		{ID: 2, Ticker: "GOTO", CreatedAt: at.Add(time.Microsecond), Price: 64, MarketCap: 64 * 1189827447466, Volume: 1250000, Sector: "Technology"},
		{ID: 3, Ticker: "BSDE", CreatedAt: at.Add(time.Second), Price: 1015, MarketCap: 1015 * 21171365812, Volume: 100, Sector: "Properties & Real Estate"},
		{ID: 4, Ticker: "ASSA", CreatedAt: at.Add(time.Minute), Price: 655, MarketCap: 655 * 3690580000, Volume: 30000, Sector: "Transportation & Logistic"},
	}
}

func benchTrades(n int) []Trade {
	s := sampleTrades()
	ts := make([]Trade, n)
	for i := range ts {
		ts[i] = s[i%len(s)]
		ts[i].ID = int64(i + 1)
		ts[i].CreatedAt = ts[i].CreatedAt.Add(time.Duration(i) * time.Microsecond)
	}
	return ts
}

// BenchmarkAppendBatch measures the producer's encoder: a 1000-trade record into a reused buffer.
func BenchmarkAppendBatch(b *testing.B) {
	ts := benchTrades(1000)
	buf := AppendBatch(nil, ts)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf = AppendBatch(buf[:0], ts)
	}
	b.ReportMetric(float64(b.N)*float64(len(ts))/b.Elapsed().Seconds(), "trades/s")
}

// BenchmarkEncodingJSON is the reflection-based baseline (encoding/json on the mirror struct).
func BenchmarkEncodingJSON(b *testing.B) {
	ts := benchTrades(1000)
	ms := make([]mirror, len(ts))
	for i, tr := range ts {
		ms[i] = mirror{tr.ID, tr.Ticker, tr.CreatedAt.Format(TimeLayout), tr.Price, tr.MarketCap, tr.Volume, tr.Sector}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := json.Marshal(ms); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(ts))/b.Elapsed().Seconds(), "trades/s")
}
