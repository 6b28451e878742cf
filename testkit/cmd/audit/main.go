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
	"sort"
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
	copies, bad, err := readTopic(ctx, srv.Kafka, topic)
	if err != nil {
		return err
	}

	cons, err := testkit.Consistency(testkit.Getenv)
	if err != nil {
		return err
	}
	cl := gocql.NewCluster(srv.Cassandra...)
	cl.Keyspace, cl.Consistency, cl.Timeout = keyspace, cons, 30*time.Second
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
	ref, err := reference(ctx, db)
	if err != nil {
		return err
	}
	trades, st := accepted(copies, ref)
	fmt.Printf("topic %s: %d trades in %d copies (%d records that are not arrays of trades, %d copies the contract rejects, "+
		"%d copies of trades with the same values, %d conflicting copies)\n", topic, len(trades), len(copies), bad, st.invalid, st.same, st.conflicts)

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

// delivery is one trade as it came in a record.
type delivery struct {
	trade.Trade
	at        time.Time // the record's time
	partition int32
	offset    int64
	element   int
}

type stats struct{ invalid, same, conflicts int }

// accepted is what the job keeps of the copies: those the contract accepts, one per id, the first
// (record time, then partition, offset, element: the job's order within a batch; across batches
// the job's order may differ only for copies whose record times are within one batch of each other).
func accepted(cs []delivery, ref trade.Reference) ([]trade.Trade, stats) {
	var st stats
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if !a.at.Equal(b.at) {
			return a.at.Before(b.at)
		}
		if a.partition != b.partition {
			return a.partition < b.partition
		}
		if a.offset != b.offset {
			return a.offset < b.offset
		}
		return a.element < b.element
	})
	first := map[int64]trade.Trade{}
	var out []trade.Trade
	for _, c := range cs {
		if trade.Validate(c.Trade, c.at, ref) != nil {
			st.invalid++
			continue
		}
		f, seen := first[c.ID]
		switch {
		case !seen:
			first[c.ID] = c.Trade
			out = append(out, c.Trade)
		case f.Ticker == c.Ticker && f.Sector == c.Sector && f.Volume == c.Volume && f.Price == c.Price && f.MarketCap == c.MarketCap && f.CreatedAt.Equal(c.CreatedAt):
			st.same++
		default:
			st.conflicts++
		}
	}
	return out, st
}

// reference is the job's view of the profile, with its skew bound (JOB_MAX_SKEW, default 1h).
func reference(ctx context.Context, db *sql.DB) (trade.Reference, error) {
	skew := trade.DefaultMaxSkew
	if v := os.Getenv("JOB_MAX_SKEW"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return trade.Reference{}, fmt.Errorf("JOB_MAX_SKEW: %w", err)
		}
		skew = d
	}
	return trade.ReadReference(ctx, db, skew)
}

// readTopic decodes every record of topic from the start to the end offsets of now. Records that
// are not arrays of trades count as bad (the job puts them in rejects).
func readTopic(ctx context.Context, brokers []string, topic string) ([]delivery, int, error) {
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
	var out []delivery
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
				for i, t := range ts {
					out = append(out, delivery{Trade: t, at: r.Timestamp, partition: r.Partition, offset: r.Offset, element: i})
				}
			}
			if r.Offset+1 >= left[r.Partition] {
				delete(left, r.Partition)
			}
		})
	}
	return out, bad, nil
}
