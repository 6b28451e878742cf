// Package store is the producer's only door to MySQL (MariaDB): it reads the companies, with their
// reference prices, from trading.profile and reserves id blocks in trading.id_blocks, with the
// producer's least-privilege user (SELECT on profile; SELECT, INSERT, UPDATE on id_blocks).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"

	"idxstream/producer/internal/market"
)

// ErrNoCompanies is returned by Companies when trading.profile has no rows.
var ErrNoCompanies = errors.New("trading.profile is empty: apply the schema and seed with `stackctl migrate` (make up)")

// Config says how to reach MySQL.
type Config struct {
	Addr     string // host:port, MYSQL_ADDR
	Database string // MYSQL_DATABASE
	User     string // MYSQL_PRODUCER_USER
	Password string // MYSQL_PRODUCER_PASSWORD
}

// Store holds a small connection pool. Safe for concurrent use.
type Store struct {
	db *sql.DB
}

// Open connects and pings MySQL; the error says which address and user failed.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	mc := mysql.NewConfig()
	mc.Net = "tcp"
	mc.Addr = cfg.Addr
	mc.DBName = cfg.Database
	mc.User = cfg.User
	mc.Passwd = cfg.Password
	mc.ParseTime = true
	mc.Timeout = 5 * time.Second
	mc.ReadTimeout = 30 * time.Second
	mc.WriteTimeout = 30 * time.Second
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("mysql config: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to mysql %s as %s (database %s): %w", cfg.Addr, cfg.User, cfg.Database, explain(err))
	}
	return &Store{db: db}, nil
}

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

// Companies returns every company of trading.profile, ordered by ticker. A NULL reference_price
// (migration 005) becomes RefPrice 0, which the market model replaces with its fallback price; see
// market.WithoutRefPrice to report them. It returns an error wrapping ErrNoCompanies when the
// table is empty.
func (s *Store) Companies(ctx context.Context) ([]market.Company, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT ticker, company_name, sector, shares, reference_price FROM profile ORDER BY ticker")
	if err != nil {
		return nil, fmt.Errorf("read trading.profile: %w", explain(err))
	}
	defer rows.Close()
	var cs []market.Company
	for rows.Next() {
		var c market.Company
		var ref sql.NullInt64
		if err := rows.Scan(&c.Ticker, &c.Name, &c.Sector, &c.Shares, &ref); err != nil {
			return nil, fmt.Errorf("read trading.profile: %w", err)
		}
		c.RefPrice = ref.Int64 // 0 when NULL
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trading.profile: %w", explain(err))
	}
	if len(cs) == 0 {
		return nil, ErrNoCompanies
	}
	return cs, nil
}

// Reserve reserves n (> 0) consecutive ids of id space topic (a row of id_blocks; the producer
// uses ids.Deployment) in one transaction and returns the first.
// The topic's row is created with next_id 1 when missing. Concurrent reservations (several
// producers) are serialised by the row lock, so blocks never overlap.
func (s *Store) Reserve(ctx context.Context, topic string, n int64) (int64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("reserve ids: block size %d must be > 0", n)
	}
	if _, err := s.db.ExecContext(ctx, "INSERT IGNORE INTO id_blocks (topic, next_id) VALUES (?, 1)", topic); err != nil {
		return 0, fmt.Errorf("create id_blocks row for %s: %w", topic, explain(err))
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin id reservation: %w", explain(err))
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	var first int64
	if err := tx.QueryRowContext(ctx, "SELECT next_id FROM id_blocks WHERE topic = ? FOR UPDATE", topic).Scan(&first); err != nil {
		return 0, fmt.Errorf("lock id_blocks row of %s: %w", topic, explain(err))
	}
	if _, err := tx.ExecContext(ctx, "UPDATE id_blocks SET next_id = next_id + ? WHERE topic = ?", n, topic); err != nil {
		return 0, fmt.Errorf("advance id_blocks of %s: %w", topic, explain(err))
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit id reservation of %s: %w", topic, explain(err))
	}
	return first, nil
}

// explain adds a hint to MySQL errors that mean a missing user, password or grant.
func explain(err error) error {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return err
	}
	switch me.Number {
	case 1045: // access denied (user/password)
		return fmt.Errorf("%w (check MYSQL_PRODUCER_USER / MYSQL_PRODUCER_PASSWORD in .env; `stackctl migrate` creates the user)", err)
	case 1044, 1142, 1143: // database / table / column access denied
		return fmt.Errorf("%w (the producer user needs SELECT on profile and SELECT, INSERT, UPDATE on id_blocks; `stackctl migrate` grants them)", err)
	case 1146: // table does not exist
		return fmt.Errorf("%w (apply the schema with `stackctl migrate`)", err)
	case 1054: // unknown column, e.g. profile.reference_price before migration 005
		return fmt.Errorf("%w (the schema is older than the producer: apply it with `stackctl migrate`)", err)
	}
	return err
}
