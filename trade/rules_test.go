package trade

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func sampleReference() Reference {
	return Reference{MaxSkew: DefaultMaxSkew, Listings: map[string]Listing{
		"BBCA": {"Financials", 123275050000}, "GOTO": {"Technology", 1189827447466},
		"BSDE": {"Properties & Real Estate", 21171365812}, "ASSA": {"Transportation & Logistic", 3690580000},
		"TMAS.JK": {"Transportation & Logistic", 1141030000},
	}}
}

func TestValidate(t *testing.T) {
	ref := sampleReference()
	ok := sampleTrades()[0]
	at := ok.CreatedAt.Add(time.Second)
	tests := []struct {
		name string
		edit func(*Trade)
		want string // reason; empty for a valid trade
	}{
		{"valid", func(*Trade) {}, ""},
		{"listed ticker of another shape", func(tr *Trade) {
			tr.Ticker, tr.Sector, tr.Price = "TMAS.JK", "Transportation & Logistic", 1200
			tr.MarketCap = 1200 * 1141030000
		}, ""},
		{"zero id", func(tr *Trade) { tr.ID = 0 }, "id is not a positive integer"},
		{"negative id", func(tr *Trade) { tr.ID = -5 }, "id is not a positive integer"},
		{"unlisted ticker", func(tr *Trade) { tr.Ticker = "XXXX" }, "ticker not listed in profile"},
		{"lower-case ticker", func(tr *Trade) { tr.Ticker = "bbca" }, "ticker not listed in profile"},
		{"other sector", func(tr *Trade) { tr.Sector = "Energy" }, "sector differs from the profile"},
		{"sector in other case", func(tr *Trade) { tr.Sector = "FINANCIALS" }, "sector differs from the profile"},
		{"no created_at", func(tr *Trade) { tr.CreatedAt = time.Time{} }, "unparsable created_at"},
		{"created long before its record", func(tr *Trade) { tr.CreatedAt = at.Add(-2 * time.Hour) }, "created_at too far from the record time"},
		{"created after its record", func(tr *Trade) { tr.CreatedAt = at.Add(2 * time.Hour) }, "created_at too far from the record time"},
		{"NaN price", func(tr *Trade) { tr.Price = math.NaN() }, "price is not a finite number"},
		{"infinite price", func(tr *Trade) { tr.Price = math.Inf(1) }, "price is not a finite number"},
		{"zero price", func(tr *Trade) { tr.Price = 0 }, "price is not a positive multiple of its IDX price fraction"},
		{"price off the grid", func(tr *Trade) { tr.Price, tr.MarketCap = 9870, 9870*123275050000 }, "price is not a positive multiple of its IDX price fraction"},
		{"fractional price", func(tr *Trade) { tr.Price = 9875.5 }, "price is not a positive multiple of its IDX price fraction"},
		{"market cap of other shares", func(tr *Trade) { tr.MarketCap = tr.Price * 1e9 }, "market_cap is not price times listed shares"},
		{"negative market cap", func(tr *Trade) { tr.MarketCap = -tr.MarketCap }, "market_cap is not price times listed shares"},
		{"infinite market cap", func(tr *Trade) { tr.MarketCap = math.Inf(1) }, "market_cap is not a finite number"},
		{"zero volume", func(tr *Trade) { tr.Volume = 0 }, "volume is not a positive multiple of the lot (100 shares)"},
		{"odd lot", func(tr *Trade) { tr.Volume = 150 }, "volume is not a positive multiple of the lot (100 shares)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := ok
			tc.edit(&tr)
			err := Validate(tr, at, ref)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid trade rejected: %v", err)
			case tc.want != "" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.HasSuffix(err.Error(), ": "+tc.want)):
				t.Fatalf("got %v, want reason %q", err, tc.want)
			}
		})
	}
}

func TestTickGrid(t *testing.T) {
	for _, tc := range []struct {
		price float64
		ok    bool
	}{
		{1, true}, {199, true}, {200, true}, {201, false}, {202, true}, {498, true}, {500, true}, {503, false},
		{505, true}, {1995, true}, {2000, true}, {2005, false}, {2010, true}, {4990, true}, {5000, true},
		{5010, false}, {5025, true}, {0, false}, {-25, false}, {MaxPrice + 25, false},
	} {
		if got := OnGrid(tc.price); got != tc.ok {
			t.Errorf("OnGrid(%v) = %v, want %v", tc.price, got, tc.ok)
		}
	}
}

func TestReasonsAreDistinctAndSQLComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reasons() {
		if seen[r] {
			t.Errorf("reason %q twice", r)
		}
		seen[r] = true
	}
	for _, r := range Rules(sampleReference()) {
		if strings.TrimSpace(r.SQL) == "" {
			t.Errorf("rule %q has no SQL", r.Reason)
		}
	}
	sql := strings.Join(ParsedColumns(sampleReference()), ", ")
	for _, want := range []string{"'TMAS.JK'", "'Properties & Real Estate'", "CAST(1141030000 AS BIGINT)"} {
		if !strings.Contains(sql, want) {
			t.Errorf("parsed columns lack the profile's %s", want)
		}
	}
	if got := SQLString(`it's a \ test`); got != `'it\'s a \\ test'` {
		t.Errorf("SQLString = %s", got)
	}
}
