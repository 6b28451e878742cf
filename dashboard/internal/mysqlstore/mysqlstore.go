// Package mysqlstore reads the dashboard's data sets from MySQL (or MariaDB): the views
// volume_today, volume_timeline_today and last_batch, and the profile table. It only reads, with
// the read-only dashboard user, and never touches the base tables' rows directly.
package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"

	"idxstream/dashboard/internal/market"
)

// Config says how to reach MySQL.
type Config struct {
	// Addr is host:port (MYSQL_ADDR, default 127.0.0.1:3306).
	Addr string
	// Database is the schema name (MYSQL_DATABASE, default trading).
	Database string
	// User and Password of the read-only dashboard user (MYSQL_DASHBOARD_USER/_PASSWORD).
	User, Password string
	// Timeout bounds connecting and each read or write on the wire (default 3 s).
	Timeout time.Duration
	// MaxOpenConns caps the pool (default 4: the pollers are the only callers).
	MaxOpenConns int
}

// Store reads the dashboard's MySQL data sets. It is safe for concurrent use.
type Store struct {
	db *sql.DB
}

// Open prepares a connection pool. It does not connect: a server that is down at start-up only
// makes the reads fail until it is back.
func Open(cfg Config) (*Store, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.MaxOpenConns <= 0 {
		cfg.MaxOpenConns = 4
	}
	mc := mysql.NewConfig()
	mc.User, mc.Passwd = cfg.User, cfg.Password
	mc.Net, mc.Addr, mc.DBName = "tcp", cfg.Addr, cfg.Database
	mc.ParseTime, mc.Loc = true, time.UTC
	mc.Timeout, mc.ReadTimeout, mc.WriteTimeout = cfg.Timeout, cfg.Timeout, cfg.Timeout
	mc.Params = map[string]string{"time_zone": "'+00:00'"}
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("mysql connector for %s: %w", cfg.Addr, err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(cfg.MaxOpenConns)
	db.SetMaxIdleConns(cfg.MaxOpenConns)
	db.SetConnMaxLifetime(5 * time.Minute)
	return &Store{db: db}, nil
}

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping mysql: %w", err)
	}
	return nil
}

// VolumeToday reads view volume_today, largest volume first.
func (s *Store) VolumeToday(ctx context.Context) ([]market.SectorVolume, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT sector, total_volume FROM volume_today ORDER BY total_volume DESC, sector")
	if err != nil {
		return nil, fmt.Errorf("query volume_today: %w", err)
	}
	defer rows.Close()
	out := []market.SectorVolume{}
	for rows.Next() {
		var v market.SectorVolume
		if err := rows.Scan(&v.Sector, &v.TotalVolume); err != nil {
			return nil, fmt.Errorf("scan volume_today: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read volume_today: %w", err)
	}
	return out, nil
}

// Timeline reads view volume_timeline_today, oldest minute first.
func (s *Store) Timeline(ctx context.Context) ([]market.TimelinePoint, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT sector, minute_utc, total_volume FROM volume_timeline_today ORDER BY minute_utc, sector")
	if err != nil {
		return nil, fmt.Errorf("query volume_timeline_today: %w", err)
	}
	defer rows.Close()
	out := []market.TimelinePoint{}
	for rows.Next() {
		var p market.TimelinePoint
		if err := rows.Scan(&p.Sector, &p.Minute, &p.TotalVolume); err != nil {
			return nil, fmt.Errorf("scan volume_timeline_today: %w", err)
		}
		p.Minute = p.Minute.UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read volume_timeline_today: %w", err)
	}
	return out, nil
}

// LastBatch reads view last_batch. Before the first committed batch it returns the zero Batch.
func (s *Store) LastBatch(ctx context.Context) (market.Batch, error) {
	var id sql.NullInt64
	var at sql.NullTime
	err := s.db.QueryRowContext(ctx, "SELECT batch_id, committed_at FROM last_batch").Scan(&id, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return market.Batch{}, nil
	}
	if err != nil {
		return market.Batch{}, fmt.Errorf("query last_batch: %w", err)
	}
	b := market.Batch{ID: id.Int64}
	if at.Valid {
		b.CommittedAt = at.Time.UTC()
	}
	return b, nil
}

// Companies reads the profile table (ticker, name, sector), by ticker.
func (s *Store) Companies(ctx context.Context) ([]market.Company, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT ticker, company_name, sector FROM profile ORDER BY ticker")
	if err != nil {
		return nil, fmt.Errorf("query profile: %w", err)
	}
	defer rows.Close()
	out := []market.Company{}
	for rows.Next() {
		var c market.Company
		if err := rows.Scan(&c.Ticker, &c.Name, &c.Sector); err != nil {
			return nil, fmt.Errorf("scan profile: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	return out, nil
}
