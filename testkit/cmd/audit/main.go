// Command audit checks the product's guarantees on a live namespace (by default the product's
// own: topic trading_data, keyspace and database trading), with the same checks the tests use
// (package check): every trade in the topic exactly once in real_time_data and trades_by_ticker
// with its values, and MySQL's volume and trade count per (market date, sector) equal to the
// trades'. Run it once the job has caught up with the topic (no producer running), e.g.
//
//	go run ./testkit/cmd/audit [-topic trading_data]
//
// It reads .env like the programs; it only reads. Exit status 1 when a guarantee does not hold.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"idxstream/testkit"
	"idxstream/testkit/check"
	"idxstream/trade"
)

func main() {
	topic := flag.String("topic", "trading_data", "the Kafka topic the job reads")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := run(ctx, *topic); err != nil {
		fmt.Fprintln(os.Stderr, "audit:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, topic string) error {
	srv, err := testkit.ServersFromEnv()
	if err != nil {
		return err
	}
	keyspace, database := testkit.Getenv("CASSANDRA_KEYSPACE", "trading"), testkit.Getenv("MYSQL_DATABASE", "trading")
	trades, bad, err := readTopic(ctx, srv.Kafka, topic)
	if err != nil {
		return err
	}
	fmt.Printf("topic %s: %d trades (%d records that are not arrays of trades)\n", topic, len(trades), bad)

	cl := gocql.NewCluster(srv.Cassandra...)
	cl.Keyspace, cl.Consistency, cl.Timeout = keyspace, gocql.LocalQuorum, 30*time.Second
	if u := srv.CassandraUsers[testkit.Job]; u.Password != "" {
		cl.Authenticator = gocql.PasswordAuthenticator{Username: u.Name, Password: u.Password}
	}
	cass, err := cl.CreateSession()
	if err != nil {
		return fmt.Errorf("cassandra %v: %w", srv.Cassandra, err)
	}
	defer cass.Close()
	mc := mysql.NewConfig()
	u := srv.Users[testkit.Job]
	mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName, mc.ParseTime = u.Name, u.Password, "tcp", srv.MySQLAddr, database, true
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()

	failed := false
	for _, c := range []struct {
		what string
		err  error
	}{
		{"every trade once in " + keyspace + ".real_time_data", check.Trades(ctx, cass, trades)},
		{"every trade once in " + keyspace + ".trades_by_ticker", check.TradesByTicker(ctx, cass, trades, srv.Zone)},
		{"MySQL " + database + ".aggregated_data = the trades' volume and count per (date, sector)", check.Totals(ctx, db, trades, srv.Zone)},
	} {
		if c.err != nil {
			failed = true
			fmt.Printf("FAIL %s: %v\n", c.what, c.err)
			continue
		}
		fmt.Printf("ok   %s\n", c.what)
	}
	if failed {
		return fmt.Errorf("a guarantee does not hold (is the job caught up with the topic?)")
	}
	return nil
}

// readTopic decodes every record of topic from the start to the end offsets of now. Records that
// are not arrays of trades count as bad (the job puts them in rejects).
func readTopic(ctx context.Context, brokers []string, topic string) ([]trade.Trade, int, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, 0, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, 0, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	var out []trade.Trade
	bad := 0
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, 0, fmt.Errorf("read %s: %w", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := left[r.Partition]; !ok || r.Offset >= end {
				return
			}
			if ts, err := trade.DecodeBatch(r.Value); err != nil {
				bad++
			} else {
				out = append(out, ts...)
			}
			if r.Offset+1 >= left[r.Partition] {
				delete(left, r.Partition)
			}
		})
	}
	return out, bad, nil
}
