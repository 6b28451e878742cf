package trade

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// This file is the one definition of a valid trade. Each rule has the reason that ends up in the
// rejects table, the Spark SQL predicate with which the streaming job finds the elements that
// break it, and, where a typed Trade can break it, the Go check with which the producer validates
// a trade before it sends it. The job builds its plans from Rules and the producer calls
// Validate, so the two apply the same table.

// Listing is what the rules know of a listed company: its row in MySQL's profile table.
type Listing struct {
	Sector string
	Shares int64
}

// Reference is what trades are checked against.
type Reference struct {
	// Listings are the companies that may trade, by ticker (MySQL profile). A ticker is any text
	// the profile holds, e.g. BBCA or TMAS.JK.
	Listings map[string]Listing
	// MaxSkew is the largest distance allowed between a trade's created_at and the time of the
	// Kafka record that carries it. It bounds how old a trade can be when it is first accepted,
	// and so the horizon over which the job must remember ids (see docs/operations.md).
	MaxSkew time.Duration
}

// DefaultMaxSkew is Reference.MaxSkew unless configured (JOB_MAX_SKEW).
const DefaultMaxSkew = time.Hour

// MaxPrice bounds a price, rupiah: far above any listed stock, small enough that price × shares
// stays exact in a double.
const MaxPrice = 1e9

// MarketCapTolerance is the relative difference allowed between a trade's market_cap and its price
// times the listed shares (rounding in whatever computed it).
const MarketCapTolerance = 1e-9

// TickSize returns the IDX price fraction (tick size) for a price in rupiah: 1 below Rp 200, 2
// to below 500, 5 to below 2,000, 10 to below 5,000, 25 from 5,000 (IDX rule II.2 of
// Kep-00071/BEI/11-2016, in force since January 2017).
func TickSize(price int64) int64 {
	switch {
	case price < 200:
		return 1
	case price < 500:
		return 2
	case price < 2000:
		return 5
	case price < 5000:
		return 10
	default:
		return 25
	}
}

// OnGrid reports whether price is a positive whole number of rupiah on its band's grid.
func OnGrid(price float64) bool {
	if !(price >= 1 && price <= MaxPrice) || price != math.Trunc(price) {
		return false
	}
	p := int64(price)
	return p%TickSize(p) == 0
}

// Rule is one rule of the contract.
type Rule struct {
	// Reason is the stable text stored in rejects.reason; renaming one is a contract change.
	Reason string
	// SQL is a Spark SQL predicate that is TRUE when an element breaks the rule. It reads the
	// columns of ParsedColumns; it may assume that the rules before it hold.
	SQL string
	// Check reports whether t, carried by a record of time at, breaks the rule; nil for rules
	// about the JSON text that a typed Trade cannot break (a missing field, a string for a number).
	Check func(t Trade, at time.Time, ref Reference) bool
}

// Column names that ParsedColumns gives the rules' SQL, beside the element's fields as text in
// the struct t, obj (the element is a JSON object), not_array (the record is not a JSON array) and
// kafka_ts (the record's time).
const (
	colID        = "tid"
	colCreatedAt = "tcreated"
	colPrice     = "tprice"
	colMarketCap = "tmcap"
	colVolume    = "tvolume"
	colListing   = "listing" // the profile row of the ticker: STRUCT<sector STRING, shares BIGINT>, NULL if unlisted
)

// ParsedColumns are the select expressions that type the text fields of t once, for the rules and
// for the trade columns (see TypedColumns). Every conversion yields NULL, never an error, on text
// it cannot convert.
func ParsedColumns(ref Reference) []string {
	return []string{
		fmt.Sprintf("try_cast(t.id AS BIGINT) AS %s", colID),
		fmt.Sprintf("%s AS %s", createdAtSQL, colCreatedAt),
		fmt.Sprintf("try_cast(t.price AS DOUBLE) AS %s", colPrice),
		fmt.Sprintf("try_cast(t.market_cap AS DOUBLE) AS %s", colMarketCap),
		fmt.Sprintf("try_cast(t.volume AS BIGINT) AS %s", colVolume),
		fmt.Sprintf("%s AS %s", listingSQL(ref), colListing),
	}
}

// TypedColumns project a checked element onto the trade's columns (id, ticker, created_at, price,
// market_cap, volume, sector), typed as in the Cassandra tables.
func TypedColumns() []string {
	return []string{
		colID + " AS id", "t.ticker AS ticker", colCreatedAt + " AS created_at", colPrice + " AS price",
		colMarketCap + " AS market_cap", colVolume + " AS volume", "t.sector AS sector",
	}
}

// isoTime is the shape of created_at the job accepts: RFC 3339 with an explicit zone. A cast
// alone would also take a bare date or a time without zone.
const isoTime = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$"

// createdAtSQL converts t.created_at to a timestamp, NULL when it is not RFC 3339 with a zone.
// TimeLayout (six fractional digits and Z) takes a fast path: the text without its Z, cast in the
// session zone, which the job sets to UTC. Any other form is checked against isoTime and cast
// with its own zone; Spark compiles regular expressions per row to parse a zone in the text,
// which made that cast the job's costliest expression.
var createdAtSQL = fmt.Sprintf(`CASE
	WHEN length(t.created_at) = 27 AND substring(t.created_at, 11, 1) = 'T' AND substring(t.created_at, 20, 1) = '.'
		AND substring(t.created_at, 27, 1) = 'Z' THEN try_cast(substring(t.created_at, 1, 26) AS TIMESTAMP)
	WHEN t.created_at RLIKE '%s' THEN try_cast(t.created_at AS TIMESTAMP)
	END`, isoTime)

// listingSQL looks the ticker up in the profile, written into the plan as a map literal (Spark
// folds it once per query; the profile is small and read when the job starts).
func listingSQL(ref Reference) string {
	const typ = "STRUCT<sector: STRING, shares: BIGINT>"
	if len(ref.Listings) == 0 {
		return "CAST(NULL AS " + typ + ")"
	}
	tickers := make([]string, 0, len(ref.Listings))
	for k := range ref.Listings {
		tickers = append(tickers, k)
	}
	sort.Strings(tickers) // the same profile gives the same plan
	var b strings.Builder
	b.WriteString("try_element_at(map(")
	for i, k := range tickers {
		if i > 0 {
			b.WriteString(", ")
		}
		l := ref.Listings[k]
		fmt.Fprintf(&b, "%s, named_struct('sector', %s, 'shares', CAST(%d AS BIGINT))", SQLString(k), SQLString(l.Sector), l.Shares)
	}
	b.WriteString("), t.ticker)")
	return b.String()
}

// SQLString quotes s as a Spark SQL string literal.
func SQLString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

// exactInteger holds when a text field is exactly the decimal form of a BIGINT (no sign other than
// '-', no leading zeros, spaces, fraction or exponent): a cast alone would truncate "1.5" to 1.
func exactInteger(field, typed string) string {
	return fmt.Sprintf("(CAST(%s AS STRING) <=> %s)", typed, field)
}

// tickSQL is TickSize over a BIGINT price expression.
func tickSQL(p string) string {
	return fmt.Sprintf("CASE WHEN %[1]s < 200 THEN 1 WHEN %[1]s < 500 THEN 2 WHEN %[1]s < 2000 THEN 5 WHEN %[1]s < 5000 THEN 10 ELSE 25 END", p)
}

// Reasons of the rules that the job adds beyond Rules.
const (
	// ReasonConflict: a trade whose id was accepted before with other values; the first stays.
	ReasonConflict = "conflicting duplicate: id already accepted with other values"
)

// Rules returns the rules in the order they are checked; the first broken rule names an element's
// reason.
func Rules(ref Reference) []Rule {
	skew := ref.MaxSkew.Microseconds()
	finite := func(c string) string {
		return fmt.Sprintf("%[1]s IS NULL OR isnan(%[1]s) OR abs(%[1]s) = double('Infinity')", c)
	}
	return []Rule{
		{Reason: "record is not a JSON array", SQL: "not_array"},
		{Reason: "element is not a JSON object", SQL: "t IS NULL OR NOT obj"},
		{Reason: "missing id", SQL: "t.id IS NULL"},
		{Reason: "id is not a positive integer",
			SQL:   fmt.Sprintf("NOT %s OR %s <= 0", exactInteger("t.id", colID), colID),
			Check: func(t Trade, _ time.Time, _ Reference) bool { return t.ID <= 0 }},
		{Reason: "missing ticker", SQL: "t.ticker IS NULL"},
		{Reason: "ticker not listed in profile", SQL: colListing + " IS NULL",
			Check: func(t Trade, _ time.Time, ref Reference) bool { _, ok := ref.Listings[t.Ticker]; return !ok }},
		{Reason: "missing sector", SQL: "t.sector IS NULL"},
		{Reason: "sector differs from the profile", SQL: "t.sector <> " + colListing + ".sector",
			Check: func(t Trade, _ time.Time, ref Reference) bool { return t.Sector != ref.Listings[t.Ticker].Sector }},
		{Reason: "missing created_at", SQL: "t.created_at IS NULL"},
		{Reason: "unparsable created_at", SQL: colCreatedAt + " IS NULL",
			Check: func(t Trade, _ time.Time, _ Reference) bool { return t.CreatedAt.IsZero() }},
		{Reason: "created_at too far from the record time",
			SQL: fmt.Sprintf("abs(unix_micros(%s) - unix_micros(kafka_ts)) > %d", colCreatedAt, skew),
			Check: func(t Trade, at time.Time, ref Reference) bool {
				d := t.CreatedAt.Sub(at)
				return d > ref.MaxSkew || d < -ref.MaxSkew
			}},
		{Reason: "missing price", SQL: "t.price IS NULL"},
		{Reason: "price is not a finite number", SQL: finite(colPrice),
			Check: func(t Trade, _ time.Time, _ Reference) bool { return math.IsNaN(t.Price) || math.IsInf(t.Price, 0) }},
		{Reason: "price is not a positive multiple of its IDX price fraction",
			SQL: fmt.Sprintf("NOT (%[1]s BETWEEN 1 AND %[2]d AND %[1]s = floor(%[1]s) AND pmod(CAST(%[1]s AS BIGINT), %[3]s) = 0)",
				colPrice, int64(MaxPrice), tickSQL("CAST("+colPrice+" AS BIGINT)")),
			Check: func(t Trade, _ time.Time, _ Reference) bool { return !OnGrid(t.Price) }},
		{Reason: "missing market_cap", SQL: "t.market_cap IS NULL"},
		{Reason: "market_cap is not a finite number", SQL: finite(colMarketCap),
			Check: func(t Trade, _ time.Time, _ Reference) bool {
				return math.IsNaN(t.MarketCap) || math.IsInf(t.MarketCap, 0)
			}},
		{Reason: "market_cap is not price times listed shares",
			SQL: fmt.Sprintf("abs(%[1]s - %[2]s * %[3]s.shares) > %[4]g * %[2]s * %[3]s.shares", colMarketCap, colPrice, colListing, MarketCapTolerance),
			Check: func(t Trade, _ time.Time, ref Reference) bool {
				want := t.Price * float64(ref.Listings[t.Ticker].Shares)
				return math.Abs(t.MarketCap-want) > MarketCapTolerance*want
			}},
		{Reason: "missing volume", SQL: "t.volume IS NULL"},
		{Reason: "volume is not an integer", SQL: "NOT " + exactInteger("t.volume", colVolume)},
		{Reason: fmt.Sprintf("volume is not a positive multiple of the lot (%d shares)", Lot),
			SQL:   fmt.Sprintf("%[1]s <= 0 OR pmod(%[1]s, %[2]d) <> 0", colVolume, Lot),
			Check: func(t Trade, _ time.Time, _ Reference) bool { return t.Volume <= 0 || t.Volume%Lot != 0 }},
	}
}

// Reasons lists every reason a reject can carry: the rules' in order, then ReasonConflict.
func Reasons() []string {
	rs := Rules(Reference{})
	out := make([]string, 0, len(rs)+1)
	for _, r := range rs {
		out = append(out, r.Reason)
	}
	return append(out, ReasonConflict)
}

// ReasonSQL is a CASE expression naming the first rule an element breaks, NULL for a valid one.
func ReasonSQL(ref Reference) string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, r := range Rules(ref) {
		fmt.Fprintf(&b, " WHEN %s THEN %s", r.SQL, SQLString(r.Reason))
	}
	b.WriteString(" END")
	return b.String()
}

// ErrInvalid is wrapped by Validate's errors.
var ErrInvalid = errors.New("invalid trade")

// checks are the rules with a Go check; their SQL is not needed, so the empty reference builds them.
var checks = sync.OnceValue(func() []Rule {
	var out []Rule
	for _, r := range Rules(Reference{}) {
		if r.Check != nil {
			out = append(out, r)
		}
	}
	return out
})

// Validate checks t, to be carried by a record of time at, and returns nil or an error wrapping
// ErrInvalid that names the first broken rule, as the job would.
func Validate(t Trade, at time.Time, ref Reference) error {
	for _, r := range checks() {
		if r.Check(t, at, ref) {
			return fmt.Errorf("%w %d: %s", ErrInvalid, t.ID, r.Reason)
		}
	}
	return nil
}
