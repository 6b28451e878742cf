// Package trade defines the trade record that the producer writes to Kafka and the streaming
// job reads back: its Go form, its JSON form (one Kafka record value is a JSON array of trades),
// its validation rules with named reasons, and the fields of one array element.
//
// The producer and the job share this package so that the two can never disagree: the contract
// test encodes trades with [AppendBatch] and checks every field against [SparkDDL].
//
// Wire format of one element (field order fixed, no extra fields):
//
//	{"id":1,"ticker":"BBCA","created_at":"2026-11-23T02:15:04.123456Z","price":9875,
//	 "market_cap":1217341118750000,"volume":500,"sector":"Financials"}
//
// created_at is always UTC with exactly six fractional digits ([TimeLayout]); the job also takes
// any RFC 3339 time with a zone.
//
// What a valid trade is, is written once, in [Rules]: the producer checks each trade with
// [Validate] before it sends it and the job builds its Spark plans from the same rules, with the
// reasons that end up in the rejects table.
package trade
