//go:build integration

package integration

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"

	sc "idxstream/sparkconnect"
	"idxstream/stack/internal/cassadmin"
	"idxstream/stack/internal/config"
	"idxstream/stack/internal/sparkprobe"
	"idxstream/testkit"
)

// TestSparkConnectRefusesCallsWithoutTheSecret: a call without the stack's secret, or with a wrong
// one, is refused with UNAUTHENTICATED before anything runs (a CREATE TABLE sent that way leaves
// no table), and logged by the server; the same statement with the secret runs.
func TestSparkConnectRefusesCallsWithoutTheSecret(t *testing.T) {
	c := cfg(t)
	if c.SparkSecret == "" {
		testkit.Unavailable(t, "SPARK_CONNECT_SECRET is not set (and not in .env)")
	}
	table := unique("itest_refused_")
	session := func(opts ...sc.Option) *sc.Session {
		s, err := sc.Connect(c.SparkRemote, append(opts, sc.WithRetryPolicy(sc.RetryPolicy{MaxRetries: 0}))...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	ctx := ctxT(t, 3*time.Minute)
	good := session(sc.WithHeader(config.SparkSecretHeader, c.SparkSecret))
	if err := sparkprobe.Probe(ctx, c.SparkRemote, config.SparkSecretHeader, c.SparkSecret); err != nil {
		testkit.Require(t, "spark connect (with the secret)", err)
	}
	for name, s := range map[string]*sc.Session{
		"no secret":    session(),
		"wrong secret": session(sc.WithHeader(config.SparkSecretHeader, c.SparkSecret+"x")),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Sql(ctx, "CREATE TABLE "+table+" (a INT) USING parquet")
			if !sparkprobe.Unauthenticated(err) {
				t.Fatalf("CREATE TABLE without the right secret: err = %v, want UNAUTHENTICATED", err)
			}
			if strings.Contains(err.Error(), c.SparkSecret) {
				t.Errorf("the error echoes the secret: %v", err)
			}
			if _, err := s.SparkVersion(ctx); !sparkprobe.Unauthenticated(err) {
				t.Errorf("version without the right secret: err = %v, want UNAUTHENTICATED", err)
			}
		})
	}
	df, err := good.Sql(ctx, "SHOW TABLES LIKE '"+table+"'")
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := df.Collect(ctx); err != nil || len(rows) != 0 {
		t.Fatalf("a refused CREATE TABLE left %v (err %v): the plan ran", rows, err)
	}
	if _, err := good.Sql(ctx, "CREATE TABLE "+table+" (a INT) USING parquet"); err != nil {
		t.Fatalf("CREATE TABLE with the secret: %v", err)
	}
	t.Cleanup(func() { good.Sql(context.Background(), "DROP TABLE IF EXISTS "+table) }) //nolint:errcheck // best effort
	// Natively the server's log is on this machine: each refusal is there, without the secret.
	logFile := filepath.Join(c.StackHome, "logs", "spark-connect.log")
	if b, err := os.ReadFile(logFile); err == nil {
		log := string(b)
		if !strings.Contains(log, "refused Spark Connect call") {
			t.Errorf("%s records no refused call", logFile)
		}
		if strings.Contains(log, c.SparkSecret) {
			t.Errorf("%s contains the secret", logFile)
		}
	}
}

// TestCassandraNeedsALoginAndRolesStayInTheirLane: no session without credentials; the dashboard's
// role only reads its table, the job's role writes its tables but cannot drop the keyspace. The
// refused statements target the suite's own namespace, so a regression could only hurt that.
func TestCassandraNeedsALoginAndRolesStayInTheirLane(t *testing.T) {
	c := cfg(t)
	ns := suite.Namespace(t)
	ctx := ctxT(t, 2*time.Minute)
	if s, err := cassadmin.Cluster(c.CassandraHosts, c.CassandraPort).CreateSession(); err == nil {
		s.Close()
		t.Fatal("a CQL session without credentials was accepted")
	}
	job, dash := ns.CassandraAs(t, testkit.Job), ns.CassandraAs(t, testkit.Dashboard)
	day := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		s       *gocql.Session
		stmt    string
		args    []any
		allowed bool
	}{
		{"job writes real_time_data", job, "INSERT INTO real_time_data (id, ticker) VALUES (?, ?)", []any{int64(1), "ITST"}, true},
		{"job writes trades_by_ticker", job, "INSERT INTO trades_by_ticker (ticker, day, created_at, id) VALUES (?, ?, ?, ?)", []any{"ITST", day, day, int64(1)}, true},
		{"job cannot drop the keyspace", job, "DROP KEYSPACE " + ns.Keyspace(), nil, false},
		{"job cannot create tables", job, "CREATE TABLE it_job_table (id int PRIMARY KEY)", nil, false},
		{"dashboard reads trades_by_ticker", dash, "SELECT id FROM trades_by_ticker LIMIT 1", nil, true},
		{"dashboard cannot read real_time_data", dash, "SELECT id FROM real_time_data LIMIT 1", nil, false},
		{"dashboard cannot insert", dash, "INSERT INTO trades_by_ticker (ticker, day, created_at, id) VALUES (?, ?, ?, ?)", []any{"ITST", day, day, int64(2)}, false},
		{"dashboard cannot drop a table", dash, "DROP TABLE trades_by_ticker", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Query(tt.stmt, tt.args...).ExecContext(ctx)
			if tt.allowed {
				if err != nil {
					t.Fatalf("%s: %v", tt.stmt, err)
				}
				return
			}
			var denied *gocql.RequestErrUnauthorized
			if !errors.As(err, &denied) {
				t.Fatalf("%s: err = %v, want unauthorized", tt.stmt, err)
			}
		})
	}
}

// TestMySQLRootNeedsMoreThanTCP: nobody logs in as root over TCP without a password (natively
// root uses the unix socket as the operating-system user; in Docker it has a generated password).
func TestMySQLRootNeedsMoreThanTCP(t *testing.T) {
	addr := testkit.Getenv("MYSQL_ADDR", "127.0.0.1:3306")
	for _, user := range []string{"root", ""} {
		mc := mysql.NewConfig()
		mc.User, mc.Net, mc.Addr, mc.Timeout = user, "tcp", addr, 5*time.Second
		db, err := sql.Open("mysql", mc.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		err = db.PingContext(ctxT(t, 10*time.Second))
		db.Close()
		var me *mysql.MySQLError
		if !errors.As(err, &me) || (me.Number != 1045 && me.Number != 1698) {
			t.Errorf("TCP login as %q without a password: err = %v, want access denied (1045 or 1698)", user, err)
		}
	}
}
