//go:build integration || browser

package web

import (
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"idxstream/dashboard/internal/cassandrastore"
	"idxstream/dashboard/internal/dataset"
	"idxstream/dashboard/internal/feed"
	"idxstream/dashboard/internal/itest"
	"idxstream/dashboard/internal/mysqlstore"
	"idxstream/testkit"
)

// suite gives the package's tests a namespace of their own (testkit): they never write into the
// product's keyspace or database.
var suite = testkit.NewSuite("dashweb")

func TestMain(m *testing.M) { os.Exit(suite.Run(m)) }

// realEnv is the dashboard over the stack's real databases, served by httptest.
type realEnv struct {
	mysql   itest.MySQL
	cass    itest.Cassandra
	sets    *dataset.Sets
	handler *Handler
	srv     *httptest.Server
}

// newRealEnv wires the real stores as main does, with the given poll intervals. Pollers are
// not started: call sets.Refresh or sets.Run.
func newRealEnv(t *testing.T, raw, agg time.Duration) *realEnv {
	t.Helper()
	e := &realEnv{mysql: itest.MySQLFromEnv(t, suite.Namespace(t)), cass: itest.CassandraFromEnv(t, suite.Namespace(t))}
	tz := itest.Env("MARKET_TZ", "Asia/Jakarta")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	my, err := mysqlstore.Open(mysqlstore.Config{Addr: e.mysql.Addr, Database: e.mysql.Database,
		User: e.mysql.DashUser, Password: e.mysql.DashPass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { my.Close() })
	if err := my.Ping(t.Context()); err != nil {
		itest.Unavailable(t, "MySQL does not accept the dashboard user: %v", err)
	}
	cass := cassandrastore.New(cassandrastore.Config{Hosts: e.cass.Hosts, Keyspace: e.cass.Keyspace, User: e.cass.DashUser, Password: e.cass.DashPass, Timeout: 10 * time.Second})
	t.Cleanup(cass.Close)
	if err := cass.Ping(t.Context()); err != nil {
		itest.Unavailable(t, "Cassandra does not answer: %v", err)
	}
	broker := &feed.Broker{}
	e.sets, err = dataset.New(dataset.Config{MySQL: my, Cassandra: cass, Location: loc,
		RawInterval: raw, AggInterval: agg, Timeout: 10 * time.Second,
		LatestTrades: 500, SeriesPoints: 120, Publisher: broker})
	if err != nil {
		t.Fatal(err)
	}
	e.handler, err = New(Config{Sets: e.sets, Broker: broker})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.handler)
	t.Cleanup(e.srv.Close)
	t.Cleanup(e.handler.Close)
	return e
}
