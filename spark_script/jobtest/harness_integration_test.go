//go:build integration

package jobtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"idxstream/testkit"
	"idxstream/trade"
)

// suite is the package's harness: the job's binary (built with the fault points) and the
// namespaces of the tests.
var suite = testkit.NewSuite("jobtest")

func TestMain(m *testing.M) { os.Exit(suite.Run(m)) }

func env(k, def string) string { return testkit.Getenv(k, def) }

// stack is a namespace of the test's own with clients of the real servers.
type stack struct {
	ns    *testkit.Namespace
	kafka *kgo.Client
	cass  *gocql.Session
	db    *sql.DB // as the job's user
}

// connect gives the test a fresh namespace: the tables hold only what the test produces, so the
// checks can count whole tables.
func connect(t testing.TB) *stack {
	t.Helper()
	ns := suite.FreshNamespace(t)
	s := &stack{ns: ns, kafka: ns.Kafka(t), cass: ns.Cassandra(t), db: ns.MySQL(t, testkit.Job)}
	checkCompanies(t, s.db)
	return s
}

func (s *stack) newTopic(t testing.TB, partitions int32) string { return s.ns.Topic(t, partitions) }

// zone is the market zone of the servers' configuration (MARKET_TZ), the job's too.
func (s *stack) zone() *time.Location { return s.ns.Servers.Zone }

// companies are the seed profile's rows that the tests trade (schema/mysql/003_seed_profile.sql);
// connect checks that the namespace's profile holds them, so a changed seed fails loudly.
var companies = []struct {
	ticker, sector string
	shares         int64
}{
	{"BBCA", "Financials", 123275050000}, {"ADRO", "Energy", 30759734500}, {"ANTM", "Basic Materials", 24030764725},
	{"ASII", "Industrials", 40483553140}, {"ICBP", "Consumer Non-Cyclicals", 11661908000}, {"KLBF", "Healthcare", 46875122110},
	{"GOTO", "Technology", 1189827447466}, {"TLKM", "Infrastructures", 99062216600},
}

// checkCompanies fails the test unless the profile holds the companies the tests trade.
func checkCompanies(t testing.TB, db *sql.DB) {
	t.Helper()
	for _, c := range companies {
		var sector string
		var shares int64
		if err := db.QueryRow(`SELECT sector, shares FROM profile WHERE ticker = ?`, c.ticker).Scan(&sector, &shares); err != nil {
			t.Fatalf("profile row of %s: %v", c.ticker, err)
		}
		if sector != c.sector || shares != c.shares {
			t.Fatalf("profile says %s is %q with %d shares; the tests assume %q and %d", c.ticker, sector, shares, c.sector, c.shares)
		}
	}
}

// makeTrades makes n valid trades with ids from 1 (the namespace is the test's own), spread over
// a few companies and the last ten minutes, on the IDX price grid, in whole lots.
func makeTrades(n int, rng *rand.Rand) []trade.Trade { return makeTradesFrom(1, n, rng) }

func makeTradesFrom(firstID int64, n int, rng *rand.Rand) []trade.Trade {
	now := time.Now().UTC()
	out := make([]trade.Trade, n)
	for i := range out {
		c := companies[rng.IntN(len(companies))]
		p := int64(100 + rng.IntN(10000))
		p -= p % trade.TickSize(p)
		out[i] = trade.Trade{
			ID: firstID + int64(i), Ticker: c.ticker, Sector: c.sector,
			CreatedAt: now.Add(-time.Duration(rng.IntN(600)) * time.Second).Add(time.Duration(rng.IntN(1e6)) * time.Microsecond),
			Price:     float64(p), MarketCap: float64(p) * float64(c.shares), Volume: int64(trade.Lot * (1 + rng.IntN(500))),
		}
	}
	return out
}

// produce writes the trades as JSON arrays of perRecord trades, keyed to spread the partitions.
func (s *stack) produce(t testing.TB, topic string, ts []trade.Trade, perRecord int) {
	t.Helper()
	var values [][]byte
	for i := 0; i < len(ts); i += perRecord {
		values = append(values, trade.AppendBatch(nil, ts[i:min(i+perRecord, len(ts))]))
	}
	s.produceRaw(t, topic, values)
}

func (s *stack) produceRaw(t testing.TB, topic string, values [][]byte) {
	t.Helper()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: v}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.kafka.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// startJob starts the job binary (with the fault points compiled in) on topic in the test's
// namespace, with the tests' short triggers; overrides ("KEY=value") replace them.
func (s *stack) startJob(t testing.TB, topic string, overrides ...string) *testkit.Proc {
	t.Helper()
	env := append(s.ns.Env(),
		"JOB_RAW_TRIGGER="+env("JOBTEST_RAW_TRIGGER", "5s"),
		"JOB_AGG_TRIGGER="+env("JOBTEST_AGG_TRIGGER", "15s"),
		"JOB_STATUS_ADDR="+testkit.FreeAddr(t))
	return testkit.Start(t, testkit.ProcSpec{
		Name: "job " + topic,
		Bin:  suite.Build(t, "./spark_script", "faulthook"),
		Args: []string{topic},
		Env:  append(env, overrides...), // the last value of a key wins
	})
}

// errNotYet is what a poll returns while the awaited state has not come.
var errNotYet = errors.New("not yet")
