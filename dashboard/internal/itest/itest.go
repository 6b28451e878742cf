// Package itest is the dashboard's part of the test kit (testkit): it opens, in a test namespace,
// the write-capable clients that the dashboard's integration and browser tests use to insert
// their own rows (the dashboard's user is read-only), and the rows' helpers.
package itest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"idxstream/testkit"
)

// Env returns the variable's value (the repository's .env loaded), or def when unset or blank.
func Env(name, def string) string { return testkit.Getenv(name, def) }

// Unavailable fails the test when INTEGRATION_REQUIRED=1 and skips it otherwise.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	testkit.Unavailable(t, format, args...)
}

// Reachable requires a TCP listener at addr.
func Reachable(t testing.TB, what, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		Unavailable(t, "%s at %s is unreachable: %v", what, addr, err)
		return
	}
	c.Close()
}

// MySQL describes the MySQL of the stack.
type MySQL struct {
	Addr, Database       string
	DashUser, DashPass   string
	JobUser, JobPassword string
	ns                   *testkit.Namespace
}

// MySQLFromEnv reads MYSQL_ADDR and the dashboard and job users, and requires the server to be
// reachable. The database is the test namespace's (testkit), never the product's.
func MySQLFromEnv(t testing.TB, ns *testkit.Namespace) MySQL {
	t.Helper()
	m := MySQL{
		Addr: Env("MYSQL_ADDR", "127.0.0.1:3306"), Database: ns.Database(),
		DashUser: Env("MYSQL_DASHBOARD_USER", "trading_dashboard"), DashPass: Env("MYSQL_DASHBOARD_PASSWORD", ""),
		JobUser: Env("MYSQL_JOB_USER", "trading_job"), JobPassword: Env("MYSQL_JOB_PASSWORD", ""), ns: ns,
	}
	Reachable(t, "MySQL", m.Addr)
	if m.DashPass == "" || m.JobPassword == "" {
		Unavailable(t, "MYSQL_DASHBOARD_PASSWORD or MYSQL_JOB_PASSWORD is not set (and not in .env)")
	}
	return m
}

// Open opens a pool as user on the namespace's database (closed in t.Cleanup) and checks that it
// answers.
func (m MySQL) Open(t testing.TB, user, password string) *sql.DB {
	t.Helper()
	return m.ns.MySQLAs(t, testkit.User{Name: user, Password: password})
}

// Cassandra describes the Cassandra of the stack.
type Cassandra struct {
	Hosts    []string
	Keyspace string
	// DashUser and DashPass are the dashboard's role, for the store under test.
	DashUser, DashPass string
	ns                 *testkit.Namespace
}

// CassandraFromEnv reads CASSANDRA_HOSTS and requires the first host to be reachable. The
// keyspace is the test namespace's (testkit), never the product's.
func CassandraFromEnv(t testing.TB, ns *testkit.Namespace) Cassandra {
	t.Helper()
	dash := ns.Servers.CassandraUsers[testkit.Dashboard]
	c := Cassandra{Keyspace: ns.Keyspace(), DashUser: dash.Name, DashPass: dash.Password, ns: ns}
	for _, h := range strings.Split(Env("CASSANDRA_HOSTS", "127.0.0.1"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.Hosts = append(c.Hosts, h)
		}
	}
	addr := c.Hosts[0]
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, Env("CASSANDRA_PORT", "9042"))
	}
	Reachable(t, "Cassandra", addr)
	return c
}

// Session opens a session on the namespace's keyspace as the job's role, which may write the
// rows the tests insert (the dashboard's role only reads); closed in t.Cleanup.
func (c Cassandra) Session(t testing.TB) *gocql.Session {
	t.Helper()
	return c.ns.Cassandra(t)
}

// RandomID returns a random negative id, far from the producers' positive ids.
func RandomID() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return -int64(binary.BigEndian.Uint64(b[:])>>2) - 1
}

// RandomTag returns n random upper-case letters, for test tickers and sector names.
func RandomTag(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = 'A' + b[i]%26
	}
	return string(b)
}

// MarketToday is the market date the views use, computed as market_today computes it (UTC now
// shifted by settings.market_tz_offset), from a table every program's user may read.
func MarketToday(t testing.TB, db *sql.DB) time.Time {
	t.Helper()
	var d time.Time
	if err := db.QueryRowContext(t.Context(), `SELECT DATE(CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', value)) FROM settings WHERE name = 'market_tz_offset'`).Scan(&d); err != nil {
		t.Fatalf("read the market date: %v", err)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// AnyCompany returns a company of MySQL's profile (the first by ticker): the dashboard reads raw
// trades only for the tickers listed there.
func AnyCompany(t testing.TB, db *sql.DB) (ticker, sector string) {
	t.Helper()
	if err := db.QueryRowContext(t.Context(), "SELECT ticker, sector FROM profile ORDER BY ticker LIMIT 1").Scan(&ticker, &sector); err != nil {
		t.Fatalf("read a company from profile (is the schema applied? `make up`): %v", err)
	}
	return ticker, sector
}

// SectorRow is one test row of aggregated_data.
type SectorRow struct {
	Sector string
	Volume int64
}

// InsertAggregates inserts rows into aggregated_data for date as the job user, under a random
// negative batch id that no job batch uses, and deletes them in t.Cleanup.
func InsertAggregates(t testing.TB, job *sql.DB, date time.Time, processedAt time.Time, rows []SectorRow) {
	t.Helper()
	batch := RandomID()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := job.ExecContext(ctx, "DELETE FROM aggregated_data WHERE batch_id = ?", batch); err != nil {
			t.Errorf("clean up aggregated_data batch %d: %v", batch, err)
		}
	})
	for i, r := range rows {
		pid := fmt.Sprintf("itest%d-%d:%s:%s", batch, i, date.Format(time.DateOnly), r.Sector)
		if _, err := job.ExecContext(t.Context(), `INSERT INTO aggregated_data
			(processing_id, batch_id, processed_at, sector, total_volume, date) VALUES (?, ?, ?, ?, ?, ?)`,
			pid, batch, processedAt.UTC(), r.Sector, r.Volume, date.Format(time.DateOnly)); err != nil {
			t.Fatalf("insert aggregated_data as the job user: %v", err)
		}
	}
}

// Trade is one test trade for trades_by_ticker.
type Trade struct {
	ID        int64
	CreatedAt time.Time
	Ticker    string
	Volume    int64
	Price     float64
}

// InsertTickerTrade inserts tr into trades_by_ticker, in the partition of its ticker and market
// date day, and deletes it in t.Cleanup.
func InsertTickerTrade(t testing.TB, s *gocql.Session, tr Trade, day time.Time) {
	t.Helper()
	d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Query("DELETE FROM trades_by_ticker WHERE ticker = ? AND day = ? AND created_at = ? AND id = ?",
			tr.Ticker, d, tr.CreatedAt, tr.ID).ExecContext(ctx); err != nil {
			t.Errorf("clean up trades_by_ticker row %d: %v", tr.ID, err)
		}
	})
	if err := s.Query(`INSERT INTO trades_by_ticker (ticker, day, created_at, id, price, volume) VALUES (?, ?, ?, ?, ?, ?)`,
		tr.Ticker, d, tr.CreatedAt, tr.ID, tr.Price, tr.Volume).ExecContext(t.Context()); err != nil {
		t.Fatalf("insert into trades_by_ticker: %v", err)
	}
}
