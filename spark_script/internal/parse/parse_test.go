package parse

import (
	"strings"
	"testing"
	"time"

	"idxstream/trade"
)

func TestReasonsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range trade.Reasons() {
		if seen[r] {
			t.Errorf("reason %q appears twice: rejects could not be told apart", r)
		}
		if strings.ContainsAny(r, `'\`) {
			t.Errorf("reason %q contains a quote or backslash, which would break the SQL literal", r)
		}
		seen[r] = true
	}
	if len(seen) < 6 {
		t.Fatalf("only %d reasons; the job must tell at least six kinds of bad input apart", len(seen))
	}
}

func TestCheckedNamesTheRulesInOrder(t *testing.T) {
	ref := trade.Reference{MaxSkew: time.Hour, Listings: map[string]trade.Listing{"BBCA": {Sector: "Financials", Shares: 1}}}
	var expr string
	for _, c := range Checked(ref) {
		if strings.HasSuffix(c, " AS reason") {
			expr = c
		}
	}
	if !strings.HasPrefix(expr, "CASE WHEN not_array THEN") {
		t.Fatalf("unexpected shape: %s", expr)
	}
	last := -1
	for _, r := range trade.Rules(ref) {
		i := strings.Index(expr, trade.SQLString(r.Reason))
		if i < 0 || i < last {
			t.Fatalf("reason %q missing or out of order in %s", r.Reason, expr)
		}
		last = i
	}
	if !strings.Contains(strings.Join(Typed(ref), ","), "'BBCA'") {
		t.Fatal("the typed stage does not look tickers up in the profile")
	}
}

func TestMarketDateEscapesZone(t *testing.T) {
	tests := []struct{ name, tz, want string }{
		{"plain zone", "Asia/Jakarta", "to_date(from_utc_timestamp(created_at, 'Asia/Jakarta'))"},
		{"quote is escaped", "x'y", `to_date(from_utc_timestamp(created_at, 'x\'y'))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MarketDate("created_at", tt.tz); got != tt.want {
				t.Fatalf("MarketDate = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestProjectionsCoverTheirTables(t *testing.T) {
	// Column names the Cassandra tables and the MySQL table expect (schema/).
	tests := []struct {
		name string
		cols []string
		want []string
	}{
		{"real_time_data", Trades(), []string{"id", "created_at", "ticker", "sector", "volume", "market_cap", "price"}},
		{"trades_by_ticker", TradesByTicker("UTC"), []string{"ticker", "day", "created_at", "id", "price", "volume"}},
		{"rejects", Rejects("UTC"), []string{"topic", "kafka_partition", "day", "kafka_offset", "element", "reason", "raw", "rejected_at"}},
		{"agg_stage", Stage("UTC"), []string{"topic", "kafka_partition", "kafka_offset", "element", "kafka_ts_us", "kafka_day", "id", "hash",
			"created_us", "ticker", "sector", "volume", "price", "market_cap", "date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.cols) != len(tt.want) {
				t.Fatalf("%d columns, want %d", len(tt.cols), len(tt.want))
			}
			for i, c := range tt.cols {
				name := c
				if j := strings.LastIndex(strings.ToUpper(c), " AS "); j >= 0 {
					name = c[j+4:]
				}
				if name != tt.want[i] {
					t.Errorf("column %d is %q, want %q", i, name, tt.want[i])
				}
			}
		})
	}
}

func TestElementSchemaCoversTheTradeContract(t *testing.T) {
	got := elementSchema()
	for _, f := range []string{"id", "ticker", "created_at", "price", "market_cap", "volume", "sector"} {
		if !strings.Contains(got, f+" STRING") {
			t.Errorf("element schema %q lacks %s", got, f)
		}
	}
}
