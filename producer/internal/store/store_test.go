package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"idxstream/producer/internal/market"
)

// profileDB is a database/sql driver that answers the profile query with fixed rows, so that the
// scanning of Companies is tested without a server.
type profileDB struct {
	rows  [][]driver.Value
	query string // the last query received
}

func (d *profileDB) Connect(context.Context) (driver.Conn, error) { return profileConn{d}, nil }
func (d *profileDB) Driver() driver.Driver                        { return nil }

type profileConn struct{ d *profileDB }

func (profileConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (profileConn) Close() error                        { return nil }
func (profileConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }
func (c profileConn) QueryContext(_ context.Context, q string, _ []driver.NamedValue) (driver.Rows, error) {
	c.d.query = q
	return &profileRows{rows: c.d.rows}, nil
}

type profileRows struct{ rows [][]driver.Value }

func (*profileRows) Columns() []string {
	return []string{"ticker", "company_name", "sector", "shares", "reference_price"}
}
func (*profileRows) Close() error { return nil }
func (r *profileRows) Next(dest []driver.Value) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	copy(dest, r.rows[0])
	r.rows = r.rows[1:]
	return nil
}

func TestCompanies(t *testing.T) {
	tests := []struct {
		name    string
		rows    [][]driver.Value
		want    []market.Company
		wantErr error
	}{
		{"reference prices and a NULL", [][]driver.Value{
			{"BBCA", "Bank Central Asia", "Financials", int64(123275050000), int64(9400)},
			{"ZZZZ", "No Price Yet", "Energy", int64(1000000), nil},
		}, []market.Company{
			{Ticker: "BBCA", Name: "Bank Central Asia", Sector: "Financials", Shares: 123275050000, RefPrice: 9400},
			{Ticker: "ZZZZ", Name: "No Price Yet", Sector: "Energy", Shares: 1000000, RefPrice: 0},
		}, nil},
		{"empty table", nil, nil, ErrNoCompanies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &profileDB{rows: tc.rows}
			s := &Store{db: sql.OpenDB(d)}
			defer s.Close()
			got, err := s.Companies(context.Background())
			if !errors.Is(err, tc.wantErr) || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Companies = %+v, %v; want %+v, %v", got, err, tc.want, tc.wantErr)
			}
			if !strings.Contains(d.query, "reference_price") {
				t.Errorf("query %q does not read reference_price", d.query)
			}
		})
	}
}
