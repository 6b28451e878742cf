// Package parse turns Kafka records holding JSON arrays of trades into validated trade rows and
// reject rows, as Spark SQL expressions. Both the streaming raw path and the batch aggregate path
// apply the same stages, so the two paths can never disagree on what a valid trade is.
//
// The stages are plain SQL expression strings (for DataFrame.SelectExpr / Filter), kept free of
// any Spark client type so that they can be read and unit-tested on their own:
//
//	kafka rows -> Records -> Elements (one row per array element) -> Checked (typed + reason)
//	Checked -> Valid (reason IS NULL) -> trade columns
//	Checked -> Rejected (reason IS NOT NULL) -> reject columns
package parse

import (
	"fmt"
	"strings"

	"idxstream/trade"
)

// MaxRawChars bounds the raw text kept with a reject.
const MaxRawChars = 2000

// elementSchema parses every field of the trade contract (trade.Fields) as text, so that an
// ill-typed field is detected by the checks below, with a precise reason, instead of turning the
// whole element into NULLs.
func elementSchema() string {
	fs := trade.Fields()
	cols := make([]string, len(fs))
	for i, f := range fs {
		cols[i] = f.Name + " STRING"
	}
	return strings.Join(cols, ", ")
}

// isoTime is the shape of created_at: RFC 3339 with an explicit zone. CAST alone would also take
// a bare date or a time without zone, and a format mismatch must be a reject, never an exception.
const isoTime = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$"

// Records parses each Kafka record once as an array of trade objects (every field as text). Only
// when that fails (not an array, or an element that is not an object) is the record parsed again
// as an array of JSON texts, so that its valid elements can still be told from its bad ones: the
// common case costs one JSON parse per record.
func Records() []string {
	return []string{
		"topic", "partition", "offset", "timestamp AS kafka_ts",
		"CAST(value AS STRING) AS raw",
		// from_json with an array-of-struct schema reads a lone object as a one-element array;
		// a record must really be an array.
		"ltrim(CAST(value AS STRING)) LIKE '[%' AS is_array",
		fmt.Sprintf("CASE WHEN ltrim(CAST(value AS STRING)) LIKE '[%%' THEN from_json(CAST(value AS STRING), 'ARRAY<STRUCT<%s>>') END AS fast", elementSchema()),
	}
}

// Elements explodes the array into one row per element, with item = (obj: the element is a JSON
// object, text: its JSON text on the slow path, t: its fields). A record that is not an array
// keeps one row so that it can be rejected; empty arrays carry no trades and are dropped by
// NotEmpty.
func Elements() []string {
	slow := "from_json(raw, 'ARRAY<STRING>')"
	notArray := "NOT is_array OR (fast IS NULL AND " + slow + " IS NULL)"
	return []string{
		"topic", "partition", "offset", "kafka_ts",
		// The record's text is only kept where the whole record is rejected: every exploded row
		// would otherwise carry a copy of it, which made copying the text the job's main cost.
		fmt.Sprintf("CASE WHEN %s THEN substring(raw, 1, %d) END AS raw", notArray, MaxRawChars),
		notArray + " AS not_array",
		fmt.Sprintf(`posexplode_outer(CASE WHEN NOT is_array THEN NULL WHEN fast IS NOT NULL
			THEN transform(fast, x -> named_struct('obj', x IS NOT NULL, 'text', CASE WHEN x IS NULL THEN 'null' END, 't', x))
			ELSE transform(%s, e -> named_struct('obj', ltrim(e) LIKE '{%%', 'text', e, 't', from_json(e, '%s')))
			END) AS (element, item)`, slow, elementSchema()),
	}
}

// NotEmpty filters out the single placeholder row of an empty array.
const NotEmpty = "NOT (NOT not_array AND element IS NULL)"

type check struct{ failed, reason string }

// exactInteger holds when a text field is exactly the decimal form of a BIGINT (no sign other than
// '-', no leading zeros, spaces, fraction or exponent): CAST alone would truncate "1.5" to 1. A
// round trip through BIGINT costs far less per row than a regular expression.
func exactInteger(field string) string {
	return fmt.Sprintf("(CAST(CAST(%[1]s AS BIGINT) AS STRING) <=> %[1]s)", field)
}

// createdAt converts created_at to a timestamp, NULL when it is not RFC 3339 with a zone. The
// producer's form (trade.TimeLayout: six fractional digits and Z) takes a fast path: the text
// without its Z, cast in the session zone, which the job sets to UTC. Any other form is checked
// against isoTime and cast with its own zone; Spark parses a zone in the text by compiling
// regular expressions for every row, which made that cast the job's costliest expression.
var createdAt = fmt.Sprintf(`CASE
	WHEN length(t.created_at) = 27 AND substring(t.created_at, 11, 1) = 'T' AND substring(t.created_at, 20, 1) = '.'
		AND substring(t.created_at, 27, 1) = 'Z' THEN CAST(substring(t.created_at, 1, 26) AS TIMESTAMP)
	WHEN t.created_at RLIKE '%s' THEN CAST(t.created_at AS TIMESTAMP)
	END`, isoTime)

// checks run in order; the first that fails names the reason. Expressions refer to t (the parsed
// element as text fields).
var checks = []check{
	{"not_array", "record is not a JSON array"},
	{"t IS NULL OR NOT obj", "element is not a JSON object"},
	{"t.id IS NULL", "missing id"},
	{"NOT " + exactInteger("t.id") + " OR CAST(t.id AS BIGINT) < 0", "id is not a positive integer"},
	{"t.ticker IS NULL", "missing ticker"},
	{"NOT t.ticker RLIKE '^[A-Z]{4}$'", "unknown ticker format"},
	{"t.created_at IS NULL", "missing created_at"},
	{createdAt + " IS NULL", "unparsable created_at"},
	{"t.price IS NULL", "missing price"},
	{"CAST(t.price AS DOUBLE) IS NULL OR isnan(CAST(t.price AS DOUBLE))", "price is not a number"},
	{"CAST(t.price AS DOUBLE) <= 0 OR CAST(t.price AS DOUBLE) > 1e12", "non-positive or absurd price"},
	{"t.market_cap IS NULL", "missing market_cap"},
	{"CAST(t.market_cap AS DOUBLE) IS NULL OR isnan(CAST(t.market_cap AS DOUBLE))", "market_cap is not a number"},
	{"t.volume IS NULL", "missing volume"},
	{"NOT " + exactInteger("t.volume"), "volume is not an integer"},
	{"CAST(t.volume AS BIGINT) <= 0", "non-positive volume"},
	{"t.sector IS NULL OR trim(t.sector) = ''", "missing sector"},
}

// Reasons lists every reject reason the checks can give, in check order.
func Reasons() []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.reason
	}
	return out
}

// reasonExpr is a CASE that names the first failed check, NULL for a valid element.
func reasonExpr() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, c := range checks {
		fmt.Fprintf(&b, " WHEN %s THEN '%s'", c.failed, c.reason)
	}
	b.WriteString(" END AS reason")
	return b.String()
}

// Parsed names the element's parts.
func Parsed() []string {
	return []string{
		"topic", "partition", "offset", "kafka_ts", "raw", "not_array", "element",
		"item.obj AS obj", "item.text AS elem", "item.t AS t",
	}
}

// Checked adds the reason and the typed trade fields (NULL where the element is rejected).
func Checked() []string {
	return []string{
		"topic", "partition", "offset", "kafka_ts", "raw", "element", "elem",
		reasonExpr(),
		"CAST(t.id AS BIGINT) AS id",
		"t.ticker AS ticker",
		createdAt + " AS created_at",
		"CAST(t.price AS DOUBLE) AS price",
		"CAST(t.market_cap AS DOUBLE) AS market_cap",
		"CAST(t.volume AS BIGINT) AS volume",
		"t.sector AS sector",
		// The element's fields as parsed, passed through (no cost) so that a rejected element of a
		// well-formed array keeps its text: Rejects renders it only for rejected rows.
		"t",
	}
}

// IsValid and IsRejected split Checked rows.
const (
	IsValid    = "reason IS NULL"
	IsRejected = "reason IS NOT NULL"
)

// MarketDate is the market-date expression of a UTC timestamp column in zone tz.
func MarketDate(col, tz string) string {
	return fmt.Sprintf("to_date(from_utc_timestamp(%s, '%s'))", col, escape(tz))
}

// Trades projects valid Checked rows onto the columns of trading.real_time_data.
func Trades() []string {
	return []string{"id", "created_at", "ticker", "sector", "volume", "market_cap", "price"}
}

// TradesByTicker projects valid rows onto trading.trades_by_ticker (market-date partitions).
func TradesByTicker(tz string) []string {
	return []string{"ticker", MarketDate("created_at", tz) + " AS day", "created_at", "id", "price", "volume"}
}

// Rejects projects rejected Checked rows onto trading.rejects.
func Rejects(tz string) []string {
	return []string{
		"topic",
		"CAST(partition AS INT) AS kafka_partition",
		MarketDate("kafka_ts", tz) + " AS day",
		"offset AS kafka_offset",
		"CAST(coalesce(element, -1) AS INT) AS element",
		"reason",
		// The element's own text where the parser kept it (an element that is not an object), else
		// its fields as parsed, re-rendered as JSON (an element of a well-formed array), else the
		// whole record (not an array); bounded.
		fmt.Sprintf("substring(coalesce(elem, to_json(t), raw), 1, %d) AS raw", MaxRawChars),
		"current_timestamp() AS rejected_at",
	}
}

// VolumeByDateSector aggregates valid rows per market date and sector: grouping expressions and
// aggregate expressions for GroupBy(...).Agg(...).
func VolumeByDateSector(tz string) (groups []string, aggs []string) {
	return []string{MarketDate("created_at", tz) + " AS date", "sector"},
		[]string{"sum(volume) AS total_volume", "count(1) AS trades"}
}

func escape(s string) string { return strings.ReplaceAll(s, "'", "\\'") }
