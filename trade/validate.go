package trade

import (
	"math"
	"strings"
)

// Reason names why a trade is invalid. The values are stable: the streaming job stores them in
// the rejects table and counts them, so renaming one is a contract change.
type Reason string

// The validation reasons, in the order Validate checks them.
const (
	ReasonBadID            Reason = "bad_id"             // id missing or <= 0
	ReasonBadTicker        Reason = "bad_ticker"         // not exactly 4 upper-case letters A-Z
	ReasonBadPrice         Reason = "bad_price"          // price missing, <= 0, NaN or infinite
	ReasonBadVolume        Reason = "bad_volume"         // volume missing or <= 0
	ReasonEmptySector      Reason = "empty_sector"       // sector missing or blank
	ReasonMissingCreatedAt Reason = "missing_created_at" // created_at missing or unparseable
)

// Rule is one validation rule: its reason and the Spark SQL predicate that is TRUE when an
// element parsed with from_json(value, SparkDDL) breaks the rule. The job can build its reject
// reasons from Rules so that Go and Spark check the same things.
type Rule struct {
	Reason Reason
	// SparkSQLInvalid is a Spark SQL boolean expression over the columns of SparkDDL; it is TRUE
	// for an invalid element (and never NULL).
	SparkSQLInvalid string
}

// Rules returns the validation rules in the order Validate checks them (a new slice each call).
func Rules() []Rule {
	return []Rule{
		{ReasonBadID, "id IS NULL OR id <= 0"},
		{ReasonBadTicker, "ticker IS NULL OR NOT (ticker RLIKE '^[A-Z]{4}$')"},
		{ReasonBadPrice, "price IS NULL OR isnan(price) OR price <= 0 OR price = CAST('Infinity' AS DOUBLE)"},
		{ReasonBadVolume, "volume IS NULL OR volume <= 0"},
		{ReasonEmptySector, "sector IS NULL OR trim(sector) = ''"},
		{ReasonMissingCreatedAt, "created_at IS NULL OR try_to_timestamp(created_at, '" + SparkTimestampPattern + "') IS NULL"},
	}
}

// Error is returned by Validate; it lists every rule the trade breaks.
type Error struct {
	Reasons []Reason
}

// Error joins the reasons with commas, e.g. "invalid trade: bad_ticker,bad_price".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid trade: ")
	for i, r := range e.Reasons {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(r))
	}
	return b.String()
}

// Has reports whether r is among the reasons.
func (e *Error) Has(r Reason) bool {
	for _, x := range e.Reasons {
		if x == r {
			return true
		}
	}
	return false
}

// Validate checks t against the contract and returns nil or an *Error naming every broken rule.
func Validate(t Trade) error {
	var rs []Reason
	if t.ID <= 0 {
		rs = append(rs, ReasonBadID)
	}
	if !ValidTicker(t.Ticker) {
		rs = append(rs, ReasonBadTicker)
	}
	if !(t.Price > 0) || math.IsInf(t.Price, 0) {
		rs = append(rs, ReasonBadPrice)
	}
	if t.Volume <= 0 {
		rs = append(rs, ReasonBadVolume)
	}
	if strings.TrimSpace(t.Sector) == "" {
		rs = append(rs, ReasonEmptySector)
	}
	if t.CreatedAt.IsZero() {
		rs = append(rs, ReasonMissingCreatedAt)
	}
	if rs == nil {
		return nil
	}
	return &Error{Reasons: rs}
}

// ValidTicker reports whether s is exactly four upper-case ASCII letters.
func ValidTicker(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
