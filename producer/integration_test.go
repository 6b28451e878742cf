//go:build integration

// Integration tests against the stack's real Kafka (KAFKA_BOOTSTRAP_SERVERS) and MariaDB
// (MYSQL_ADDR, MYSQL_PRODUCER_USER/PASSWORD from ../.env), in a namespace of the package's own
// (testkit): each test has its own topic, and the database (with its id_blocks) is dropped at
// the end.
//
//	go test -tags integration ./...                       # skips when a server is down
//	INTEGRATION_REQUIRED=1 go test -tags integration ./... # fails instead
//	PRODUCER_BROKER_RESTART_TEST=1 go test -tags integration -run BrokerRestart -v .
//	    restarts Kafka (`stack/stack.sh restart kafka`) while the producer runs.
//	go test -tags integration -run '^$' -bench Produce .   # trades/s into the local broker
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/joho/godotenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"idxstream/producer/internal/config"
	"idxstream/producer/internal/feed"
	"idxstream/producer/internal/ids"
	"idxstream/producer/internal/market"
	"idxstream/producer/internal/publish"
	"idxstream/producer/internal/store"
	"idxstream/testkit"
	"idxstream/trade"
)

// suite gives the package a namespace of its own: a MySQL database made like the product's (with
// profile and id_blocks) and topics that are deleted with it.
var suite = testkit.NewSuite("producer")

func TestMain(m *testing.M) { os.Exit(suite.Run(m)) }

func unreachable(tb testing.TB, format string, a ...any) {
	tb.Helper()
	testkit.Unavailable(tb, format, a...)
}

// testConfig loads the producer config the way main does, for a new topic of the suite's
// namespace (3 partitions) and the namespace's database.
func testConfig(tb testing.TB, args ...string) config.Config {
	tb.Helper()
	ns := suite.Namespace(tb)
	return nsConfig(tb, ns, ns.Topic(tb, 3), args...)
}

func nsConfig(tb testing.TB, ns *testkit.Namespace, topic string, args ...string) config.Config {
	tb.Helper()
	_ = godotenv.Load("../.env")
	cfg, err := config.Load(append(args, "--progress", "0", topic), os.Getenv, io.Discard)
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	cfg.MySQL.Database = ns.Database()
	return cfg
}

func checkMySQL(tb testing.TB, cfg config.Config) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	db, err := store.Open(ctx, cfg.MySQL)
	if err != nil {
		unreachable(tb, "mysql: %v", err)
	}
	db.Close()
}

// consumeAll reads every record of the topic from the start until `want` trades were seen (or
// 60 s passed), checking each record against the schema, and then until the topic is quiet.
func consumeAll(t *testing.T, cfg config.Config, want int) []trade.Trade {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var all []trade.Trade
	for len(all) < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("fetch %s/%d: %v", topic, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if err := trade.ConformsToSchema(r.Value); err != nil {
				t.Fatalf("record at %d/%d does not conform: %v", r.Partition, r.Offset, err)
			}
			ts, err := trade.DecodeBatch(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, ts...)
		})
	}
	// then read until the topic stays quiet for 3 s: more than expected would be a duplicate
	for {
		idle, cancelIdle := context.WithTimeout(context.Background(), 3*time.Second)
		before := len(all)
		cl.PollFetches(idle).EachRecord(func(r *kgo.Record) {
			ts, err := trade.DecodeBatch(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, ts...)
		})
		cancelIdle()
		if len(all) == before {
			break
		}
	}
	return all
}

func sortedIDs(ts []trade.Trade) []int64 {
	out := make([]int64, len(ts))
	for i, tr := range ts {
		out[i] = tr.ID
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// checkContiguous: ids unique and contiguous.
func checkContiguous(t *testing.T, ids []int64) {
	t.Helper()
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+1 {
			t.Fatalf("ids not contiguous/unique: %d then %d", ids[i-1], ids[i])
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestIntegrationCountAllInTopic(t *testing.T) {
	const n = 20000
	cfg := testConfig(t, "--count", strconv.Itoa(n), "--rate", "100000", "--interval", "20ms")
	checkMySQL(t, cfg)
	if err := run(context.Background(), cfg, discardLogger()); err != nil {
		t.Fatalf("run: %v", err)
	}
	got := consumeAll(t, cfg, n)
	if len(got) != n {
		t.Fatalf("%d trades in the topic, want %d", len(got), n)
	}
	checkContiguous(t, sortedIDs(got))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	st, err := store.Open(ctx, cfg.MySQL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs, err := st.Companies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref := market.Reference(cs)
	for _, tr := range got {
		if err := trade.Validate(tr, tr.CreatedAt, ref); err != nil {
			t.Fatalf("invalid trade in topic: %+v: %v", tr, err)
		}
	}
}

func TestIntegrationRestartContinuesIDs(t *testing.T) {
	const n = 500
	cfg := testConfig(t, "--count", strconv.Itoa(n), "--rate", "50000", "--interval", "10ms", "--id-block", "1000")
	checkMySQL(t, cfg)
	for range 2 {
		if err := run(context.Background(), cfg, discardLogger()); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
	got := sortedIDs(consumeAll(t, cfg, 2*n))
	if len(got) != 2*n {
		t.Fatalf("%d trades, want %d", len(got), 2*n)
	}
	// two contiguous runs of n; the second starts after the first's block (never before)
	first, second := got[:n], got[n:]
	checkContiguous(t, first)
	checkContiguous(t, second)
	if second[0] <= first[n-1] {
		t.Fatalf("second run starts at id %d, not after %d", second[0], first[n-1])
	}
}

func TestIntegrationMissingTopicIsAClearError(t *testing.T) {
	ns := suite.Namespace(t)
	cfg := nsConfig(t, ns, ns.Name+"_does_not_exist", "--count", "10")
	checkMySQL(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, cfg, discardLogger())
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("does not exist")) {
		t.Errorf("run = %v, want a 'does not exist' error", err)
	}
}

// TestIntegrationBrokerRestart restarts the broker while the producer runs and checks that
// nothing is lost or doubled. It needs PRODUCER_BROKER_RESTART_TEST=1 because it disturbs every
// user of the stack.
func TestIntegrationBrokerRestart(t *testing.T) {
	if os.Getenv("PRODUCER_BROKER_RESTART_TEST") != "1" {
		t.Skip("restarts the shared Kafka broker: set PRODUCER_BROKER_RESTART_TEST=1 on a stack nobody else uses")
	}
	cfg := testConfig(t, "--rate", "5000", "--interval", "50ms", "--duration", "60s", "--flush-timeout", "2m")
	checkMySQL(t, cfg)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, nil))) }()
	// Restart the broker once the producer is writing, not after a guessed delay.
	ns := suite.Namespace(t)
	adm := ns.Admin(t)
	testkit.Eventually(t, time.Minute, "the producer's first records in the topic", func() error {
		ends, err := adm.ListEndOffsets(context.Background(), cfg.Topic)
		if err != nil {
			return err
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		if n < 20 {
			return fmt.Errorf("%d records so far", n)
		}
		return nil
	})
	testkit.StackCmd(t, "restart", "kafka")
	if err := <-done; err != nil {
		t.Fatalf("producer across a broker restart: %v", err)
	}
	// The summary's id range tells how many trades were produced: all ids in the topic once.
	got := sortedIDs(consumeAll(t, cfg, 1))
	if len(got) == 0 {
		t.Fatal("nothing in the topic")
	}
	checkContiguous(t, got) // unique and no gap: nothing lost, nothing doubled
	t.Logf("%d trades, ids %d..%d", len(got), got[0], got[len(got)-1])
}

// BenchmarkProduce measures the trades per second the producer sustains into the local broker
// (generation, ids from MySQL, JSON encoding, compression, acks=all), per compression codec.
func BenchmarkProduce(b *testing.B) {
	for _, comp := range []string{"lz4", "zstd", "snappy", "none"} {
		b.Run(comp, func(b *testing.B) {
			cfg := testConfig(b, "--compression", comp)
			checkMySQL(b, cfg)
			ctx := context.Background()
			db, err := store.Open(ctx, cfg.MySQL)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			companies, err := db.Companies(ctx)
			if err != nil {
				b.Fatal(err)
			}
			pub, err := publish.New(publish.Config{Brokers: cfg.Brokers, Topic: cfg.Topic, Compression: comp}, discardLogger())
			if err != nil {
				b.Fatal(err)
			}
			defer pub.Close()
			n := max(int64(b.N), 1000)
			f := feed.New(feed.Config{Interval: 10 * time.Millisecond, Rate: 1e8, Count: n, KeyGroups: 6, MaxRecordTrades: 1000},
				market.New(companies, 1, market.Options{}), ids.New(db, ids.Deployment, 1000000), pub, discardLogger(), time.Now)
			b.ResetTimer()
			start := time.Now()
			if _, err := f.Run(ctx, ctx); err != nil {
				b.Fatal(err)
			}
			if err := pub.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			secs := time.Since(start).Seconds()
			b.StopTimer()
			st := pub.Stats()
			if st.Trades != n || st.Failed != 0 {
				b.Fatalf("acked %d of %d trades, %d records failed", st.Trades, n, st.Failed)
			}
			b.ReportMetric(float64(n)/secs, "trades/s")
			b.ReportMetric(float64(st.Bytes)/float64(n), "json-B/trade")
		})
	}
}
