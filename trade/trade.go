package trade

import (
	"encoding/json"
	"fmt"
	"time"
)

// TimeLayout is the Go layout of created_at: RFC 3339 in UTC with exactly six fractional digits
// (microseconds), e.g. 2026-11-23T02:15:04.123456Z. Times are converted to UTC and truncated
// (not rounded) to the microsecond before formatting.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Lot is the number of shares in one IDX trading lot; volumes are whole lots.
const Lot = 100

// Trade is one simulated trade on the Indonesia Stock Exchange.
//
// The JSON names below are the contract with the streaming job and the Cassandra table
// trading.real_time_data; see docs/contracts.md.
type Trade struct {
	// ID is unique per topic; the producer takes it from a block reserved in MySQL id_blocks.
	ID int64 `json:"id"`
	// Ticker is the IDX ticker: four upper-case ASCII letters, e.g. BBCA.
	Ticker string `json:"ticker"`
	// CreatedAt is when the trade happened; encoded in UTC with microseconds (TimeLayout).
	CreatedAt time.Time `json:"created_at"`
	// Price is the trade price in rupiah, a multiple of the IDX price fraction of its band.
	Price float64 `json:"price"`
	// MarketCap is Price times the company's listed shares, in rupiah.
	MarketCap float64 `json:"market_cap"`
	// Volume is the number of shares traded, a positive multiple of Lot.
	Volume int64 `json:"volume"`
	// Sector is the company's IDX-IC sector, e.g. Financials.
	Sector string `json:"sector"`
}

// MarshalJSON encodes t as one JSON object in the contract's form (see AppendJSON).
func (t Trade) MarshalJSON() ([]byte, error) {
	return AppendJSON(make([]byte, 0, 192), t), nil
}

// wireTrade is the decoding shape: created_at stays a string so that its format is checked.
type wireTrade struct {
	ID        *int64   `json:"id"`
	Ticker    string   `json:"ticker"`
	CreatedAt string   `json:"created_at"`
	Price     *float64 `json:"price"`
	MarketCap *float64 `json:"market_cap"`
	Volume    *int64   `json:"volume"`
	Sector    string   `json:"sector"`
}

// UnmarshalJSON decodes one JSON object of the contract's form. created_at must be RFC 3339;
// it is converted to UTC. Missing numeric fields stay zero (Validate reports them).
func (t *Trade) UnmarshalJSON(b []byte) error {
	var w wireTrade
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*t = Trade{Ticker: w.Ticker, Sector: w.Sector}
	if w.ID != nil {
		t.ID = *w.ID
	}
	if w.Price != nil {
		t.Price = *w.Price
	}
	if w.MarketCap != nil {
		t.MarketCap = *w.MarketCap
	}
	if w.Volume != nil {
		t.Volume = *w.Volume
	}
	if w.CreatedAt != "" {
		ts, err := time.Parse(time.RFC3339Nano, w.CreatedAt)
		if err != nil {
			return fmt.Errorf("created_at: %w", err)
		}
		t.CreatedAt = ts.UTC()
	}
	return nil
}

// DecodeBatch decodes one Kafka record value: a JSON array of trades. It does not validate the
// elements; call Validate on each.
func DecodeBatch(b []byte) ([]Trade, error) {
	var ts []Trade
	if err := json.Unmarshal(b, &ts); err != nil {
		return nil, fmt.Errorf("decode trade batch: %w", err)
	}
	return ts, nil
}
