package trade

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Querier is the part of *sql.DB that ReadReference uses.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ReadReference reads the companies that may trade from MySQL's profile table (any database
// holding the product's schema) and pairs them with the skew bound.
func ReadReference(ctx context.Context, db Querier, maxSkew time.Duration) (Reference, error) {
	ref := Reference{MaxSkew: maxSkew, Listings: map[string]Listing{}}
	rows, err := db.QueryContext(ctx, `SELECT ticker, sector, shares FROM profile`)
	if err != nil {
		return ref, fmt.Errorf("read the profile: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ticker string
			l      Listing
		)
		if err := rows.Scan(&ticker, &l.Sector, &l.Shares); err != nil {
			return ref, fmt.Errorf("read the profile: %w", err)
		}
		ref.Listings[ticker] = l
	}
	if err := rows.Err(); err != nil {
		return ref, fmt.Errorf("read the profile: %w", err)
	}
	return ref, nil
}
