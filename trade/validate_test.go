package trade

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := sampleTrades()[0]
	tests := []struct {
		name string
		edit func(*Trade)
		want []Reason
	}{
		{"valid", func(*Trade) {}, nil},
		{"zero id", func(tr *Trade) { tr.ID = 0 }, []Reason{ReasonBadID}},
		{"negative id", func(tr *Trade) { tr.ID = -5 }, []Reason{ReasonBadID}},
		{"lower-case ticker", func(tr *Trade) { tr.Ticker = "bbca" }, []Reason{ReasonBadTicker}},
		{"short ticker", func(tr *Trade) { tr.Ticker = "BCA" }, []Reason{ReasonBadTicker}},
		{"long ticker", func(tr *Trade) { tr.Ticker = "BBCAX" }, []Reason{ReasonBadTicker}},
		{"digit in ticker", func(tr *Trade) { tr.Ticker = "BBC1" }, []Reason{ReasonBadTicker}},
		{"non-ASCII ticker", func(tr *Trade) { tr.Ticker = "BBÇA" }, []Reason{ReasonBadTicker}},
		{"zero price", func(tr *Trade) { tr.Price = 0 }, []Reason{ReasonBadPrice}},
		{"negative price", func(tr *Trade) { tr.Price = -1 }, []Reason{ReasonBadPrice}},
		{"NaN price", func(tr *Trade) { tr.Price = math.NaN() }, []Reason{ReasonBadPrice}},
		{"infinite price", func(tr *Trade) { tr.Price = math.Inf(1) }, []Reason{ReasonBadPrice}},
		{"zero volume", func(tr *Trade) { tr.Volume = 0 }, []Reason{ReasonBadVolume}},
		{"negative volume", func(tr *Trade) { tr.Volume = -100 }, []Reason{ReasonBadVolume}},
		{"empty sector", func(tr *Trade) { tr.Sector = "" }, []Reason{ReasonEmptySector}},
		{"blank sector", func(tr *Trade) { tr.Sector = "  \t" }, []Reason{ReasonEmptySector}},
		{"no created_at", func(tr *Trade) { tr.CreatedAt = time.Time{} }, []Reason{ReasonMissingCreatedAt}},
		{"everything wrong", func(tr *Trade) { *tr = Trade{} },
			[]Reason{ReasonBadID, ReasonBadTicker, ReasonBadPrice, ReasonBadVolume, ReasonEmptySector, ReasonMissingCreatedAt}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := ok
			tc.edit(&tr)
			err := Validate(tr)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var verr *Error
			if !errors.As(err, &verr) {
				t.Fatalf("Validate = %v, want *Error", err)
			}
			if !reflect.DeepEqual(verr.Reasons, tc.want) {
				t.Errorf("reasons = %v, want %v", verr.Reasons, tc.want)
			}
			for _, r := range tc.want {
				if !verr.Has(r) || !strings.Contains(err.Error(), string(r)) {
					t.Errorf("error %q does not name %s", err, r)
				}
			}
		})
	}
}

func TestRulesCoverEveryReason(t *testing.T) {
	want := []Reason{ReasonBadID, ReasonBadTicker, ReasonBadPrice, ReasonBadVolume, ReasonEmptySector, ReasonMissingCreatedAt}
	rules := Rules()
	if len(rules) != len(want) {
		t.Fatalf("%d rules, want %d", len(rules), len(want))
	}
	fields := Fields()
	for i, r := range rules {
		if r.Reason != want[i] {
			t.Errorf("rule %d is %s, want %s (Validate's order)", i, r.Reason, want[i])
		}
		// every predicate names a column of the schema, so it can run on from_json's output
		named := false
		for _, f := range fields {
			if strings.HasPrefix(r.SparkSQLInvalid, f.Name+" IS NULL") {
				named = true
			}
		}
		if !named {
			t.Errorf("rule %s: predicate %q does not start with a NULL check of a schema column", r.Reason, r.SparkSQLInvalid)
		}
	}
	rules[0].Reason = "changed"
	if Rules()[0].Reason != ReasonBadID {
		t.Error("Rules shares its slice between calls")
	}
}
