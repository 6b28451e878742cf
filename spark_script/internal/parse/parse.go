// Package parse turns Kafka records holding JSON arrays of trades into validated trade rows and
// reject rows, as Spark SQL expressions. The raw path's streaming query applies them once per
// micro-batch and writes every table from the result, the aggregate path's stage included, so the
// tables can never disagree on what a valid trade is.
//
// The stages are plain SQL expression strings (for DataFrame.SelectExpr / Filter), kept free of
// any Spark client type so that they can be read and unit-tested on their own:
//
//	kafka rows -> Records -> Elements (one row per array element) -> Parsed -> Typed
//	  -> Checked (the reason: the first rule of trade.Rules the element breaks, and the trade)
//	Checked -> Shared (computed once per raw micro-batch) -> Valid -> trade columns, agg_stage
//	                                                      -> Rejected -> reject columns
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
		jsonTrim("CAST(value AS STRING)") + " LIKE '[%' AS is_array",
		fmt.Sprintf("CASE WHEN %s LIKE '[%%' THEN from_json(CAST(value AS STRING), 'ARRAY<STRUCT<%s>>') END AS fast", jsonTrim("CAST(value AS STRING)"), elementSchema()),
	}
}

// jsonTrim removes JSON's insignificant whitespace (space, tab, line feed, carriage return) from the
// start of a text; ltrim alone removes spaces only.
func jsonTrim(text string) string {
	return fmt.Sprintf("trim(LEADING ' \\t\\n\\r' FROM %s)", text)
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
			ELSE transform(%s, e -> named_struct('obj', %s LIKE '{%%', 'text', e, 't', from_json(e, '%s')))
			END) AS (element, item)`, slow, jsonTrim("e"), elementSchema()),
	}
}

// NotEmpty filters out the single placeholder row of an empty array.
const NotEmpty = "NOT (NOT not_array AND element IS NULL)"

// Parsed names the element's parts.
func Parsed() []string {
	return []string{
		"topic", "partition", "offset", "kafka_ts", "raw", "not_array", "element",
		"item.obj AS obj", "item.text AS elem", "item.t AS t",
	}
}

// Typed adds the typed fields and the profile row that the contract's rules read
// (trade.ParsedColumns).
func Typed(ref trade.Reference) []string {
	return append([]string{"topic", "partition", "offset", "kafka_ts", "raw", "not_array", "element", "obj", "elem", "t"},
		trade.ParsedColumns(ref)...)
}

// Checked adds the reason (the first rule of trade.Rules the element breaks) and the trade's
// columns (meaningful where the reason is NULL).
func Checked(ref trade.Reference) []string {
	return append([]string{
		"topic", "partition", "offset", "kafka_ts", "raw", "element", "elem",
		trade.ReasonSQL(ref) + " AS reason",
		// The element's fields as parsed, passed through (no cost) so that a rejected element of a
		// well-formed array keeps its text: Rejects renders it only for rejected rows.
		"t",
	}, trade.TypedColumns()...)
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

// Trades projects valid Shared rows onto the columns of trading.real_time_data.
func Trades() []string {
	return []string{"id", "created_at", "ticker", "sector", "volume", "market_cap", "price"}
}

// TradesByTicker projects valid Shared rows onto trading.trades_by_ticker (market-date partitions).
func TradesByTicker(tz string) []string {
	return []string{"ticker", MarketDate("created_at", tz) + " AS day", "created_at", "id", "price", "volume"}
}

// Shared projects Checked rows onto what the raw path's tables read (Trades, TradesByTicker,
// Rejects): the trade's columns, the reason, where the element came from and, for a rejected
// element only, its raw text. The raw path computes these rows once per micro-batch and keeps them
// in memory while it writes each table, so they carry nothing the tables do not need.
func Shared() []string {
	return append([]string{
		"topic", "partition", "offset", "kafka_ts", "element", "reason",
		// The element's own text where the parser kept it (an element that is not an object), else
		// its fields as parsed, re-rendered as JSON (an element of a well-formed array), else the
		// whole record (not an array); bounded.
		fmt.Sprintf("CASE WHEN %s THEN substring(coalesce(elem, to_json(t), raw), 1, %d) END AS reject_raw", IsRejected, MaxRawChars),
	}, Trades()...)
}

// Rejects projects rejected Shared rows onto trading.rejects.
func Rejects(tz string) []string {
	return []string{
		"topic",
		"CAST(partition AS INT) AS kafka_partition",
		MarketDate("kafka_ts", tz) + " AS day",
		"offset AS kafka_offset",
		"CAST(coalesce(element, -1) AS INT) AS element",
		"reason",
		"reject_raw AS raw",
		"current_timestamp() AS rejected_at",
	}
}

// Stage projects valid Shared rows onto MySQL's agg_stage: where each copy came from, a hash of
// all its values (copies with equal hashes are the same trade) and the trade. The raw path stages
// every copy it reads; the aggregate path settles them by offset range (batchlog.Settle).
func Stage(tz string) []string {
	return []string{
		"topic",
		"CAST(partition AS INT) AS kafka_partition",
		"offset AS kafka_offset",
		"CAST(element AS INT) AS element",
		"unix_micros(kafka_ts) AS kafka_ts_us",
		MarketDate("kafka_ts", tz) + " AS kafka_day",
		"id",
		"xxhash64(id, created_at, ticker, sector, volume, market_cap, price) AS hash",
		"unix_micros(created_at) AS created_us", "ticker", "sector", "volume", "price", "market_cap",
		MarketDate("created_at", tz) + " AS date",
	}
}

func escape(s string) string { return strings.ReplaceAll(s, "'", "\\'") }
