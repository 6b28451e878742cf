//go:build e2e

package diskdrill

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"idxstream/storage"
	"idxstream/testkit"
	"idxstream/testkit/check"
	"idxstream/trade"
)

// The soak's retention, short enough to act within the run: Kafka keeps 4 minutes (checked every
// 20 s), Cassandra's tables expire after 6 minutes with tombstones dropped 1 minute later, and the
// job forgets trade ids after 4 minutes (trades more than 2 minutes off are rejected, so no copy
// outlives its id); Cassandra's guardrail is back at its defaults (the drill's 2% would stop the
// soak, as it should, within minutes). TestMain starts the drill's stack with these when
// SOAK_DURATION is set.
var soakEnv = []string{
	"CASSANDRA_DISK_WARN_PERCENT=80", "CASSANDRA_DISK_FAIL_PERCENT=90",
	// The commit log grows to its cap before the memtables must flush (1 GiB by default, more than
	// the soak's data); a quarter of it shows the level within the run.
	"CASSANDRA_COMMITLOG_TOTAL=256MiB",
	"KAFKA_RETENTION=4m", "KAFKA_RETENTION_CHECK_MS=20000",
	"CASSANDRA_TTL_REAL_TIME_DATA=6m", "CASSANDRA_TTL_TRADES_BY_TICKER=6m", "CASSANDRA_TTL_REJECTS=6m", "CASSANDRA_GC_GRACE=1m",
	"JOB_DEDUP_HORIZON=4m", "JOB_MAX_SKEW=2m",
}

const soakTTL = 6 * time.Minute

// BenchmarkSoak runs the product on the drill's stack (its own topic trading_data, keyspace and
// database trading) at SOAK_RATE trades/s (default 2000) for SOAK_DURATION (e.g. 20m), sampling
// the disk every 30 s, then checks the totals and measures the bytes per trade of each store after
// a flush and a major compaction. It prints the samples, and reports the growth of the volume in
// the run's last third (levelled off: near 0) and the bytes per trade.
//
//	SOAK_DURATION=20m go test -tags e2e -run '^$' -bench Soak -benchtime 1x -timeout 60m ./diskdrill/
func BenchmarkSoak(b *testing.B) {
	if skip != "" {
		b.Skip(skip)
	}
	d, err := time.ParseDuration(os.Getenv("SOAK_DURATION"))
	if err != nil {
		b.Skip("set SOAK_DURATION (e.g. 20m) to soak")
	}
	rate := testkit.Getenv("SOAK_RATE", "2000")
	ctx := context.Background()
	servers, err := testkit.ServersFromEnv()
	if err != nil {
		b.Fatal(err)
	}
	product := &testkit.Namespace{Name: "trading", Servers: servers} // the drill stack's own product names
	cass, db, kcl := product.Cassandra(b), product.MySQL(b, testkit.Job), product.Kafka(b)
	adm := kadm.NewClient(kcl)

	job := testkit.Start(b, testkit.ProcSpec{Name: "spark_script", Bin: suite.Build(b, "./spark_script"),
		Env: []string{"JOB_STATUS_ADDR=" + testkit.FreeAddr(b), "JOB_DISK_CHECK=5s"}})
	perSecond, err := strconv.Atoi(rate)
	if err != nil || perSecond <= 0 {
		b.Fatalf("SOAK_RATE=%q: want trades per second, such as 2000", rate)
	}
	count := perSecond * int(d.Seconds())
	producer := testkit.Start(b, testkit.ProcSpec{Name: "producer", Bin: suite.Build(b, "./producer"),
		Args: []string{"--rate", rate, "--interval", "250ms", "--count", fmt.Sprint(count), "--progress", "1m", "trading_data"}})

	// What Kafka held, read as it arrives: retention deletes it later.
	var mu sync.Mutex
	var produced []trade.Trade
	var records int
	cctx, stopConsumer := context.WithCancel(ctx)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		c, err := kgo.NewClient(kgo.SeedBrokers(servers.Kafka...), kgo.ConsumeTopics("trading_data"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		for cctx.Err() == nil {
			c.PollFetches(cctx).EachRecord(func(r *kgo.Record) {
				ts, err := trade.DecodeBatch(r.Value)
				mu.Lock()
				defer mu.Unlock()
				records++
				if err == nil {
					produced = append(produced, ts...)
				}
			})
		}
	}()

	type sample struct {
		at                      time.Duration
		volume, kafka, cass, my int64
		trades                  int
	}
	var samples []sample
	start := time.Now()
	take := func() sample {
		s := sample{at: time.Since(start).Round(time.Second)}
		if v := storage.Local(mnt); v.Total > 0 {
			s.volume = v.Total - v.Free
		}
		s.kafka, _ = topicBytes(ctx, adm) // a failed sample shows as 0
		if u, err := storage.Cassandra(ctx, cass, "trading", ""); err == nil {
			s.cass = u.Bytes
		}
		if u, err := storage.MySQL(ctx, db, "trading", ""); err == nil {
			s.my = u.Bytes
		}
		mu.Lock()
		s.trades = len(produced)
		mu.Unlock()
		return s
	}
	b.ResetTimer()
	tick := time.NewTicker(30 * time.Second)
	for running := true; running; {
		select {
		case <-producer.Exited():
			running = false
		case <-job.Exited():
			b.Fatalf("the job exited during the soak:\n%s", job.Tail(30))
		case <-tick.C:
			s := take()
			samples = append(samples, s)
			b.Logf("%6s  volume %9s  kafka %9s  cassandra %9s  mysql %9s  trades %d", s.at, storage.FormatBytes(s.volume),
				storage.FormatBytes(s.kafka), storage.FormatBytes(s.cass), storage.FormatBytes(s.my), s.trades)
		}
	}
	tick.Stop()
	if code := producer.ExitCode(); code != 0 {
		b.Fatalf("producer exited %d:\n%s", code, producer.Tail(20))
	}
	b.StopTimer()

	// Exact totals: MySQL keeps every day's aggregates, so it must count every trade once;
	// real_time_data must hold every trade still inside its TTL (with a minute's margin for the
	// expiry itself), and nothing else.
	testkit.Eventually(b, 5*time.Minute, "the consumer has read every produced trade", func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(produced) < count {
			return fmt.Errorf("%d of %d", len(produced), count)
		}
		return nil
	})
	stopConsumer()
	<-consumed
	zone := servers.Zone
	testkit.Eventually(b, 5*time.Minute, "MySQL's volume per (date, sector) equal to every produced trade's", func() error {
		return check.Totals(ctx, db, produced, zone)
	}, job)
	testkit.Eventually(b, 3*time.Minute, "real_time_data holds exactly the trades inside its TTL", func() error {
		return check.TradesSince(ctx, cass, produced, time.Now().Add(-soakTTL+time.Minute))
	}, job)
	if err := job.Stop(b, syscall.SIGTERM, 2*time.Minute); err != nil {
		b.Errorf("the job did not stop cleanly: %v", err)
	}

	// Levelled off: the volume's growth over the last third of the run.
	if len(samples) >= 6 {
		third := samples[len(samples)-len(samples)/3]
		last := samples[len(samples)-1]
		growth := float64(last.volume-third.volume) / float64(max(int64(1), third.volume))
		b.ReportMetric(100*growth, "growth_last_third_%")
		b.ReportMetric(float64(last.volume)/(1<<20), "volume_MiB")
		peak := int64(0)
		for _, s := range samples {
			peak = max(peak, s.volume)
		}
		b.ReportMetric(float64(peak)/(1<<20), "volume_peak_MiB")
	}
	b.ReportMetric(float64(count)/d.Seconds(), "trades/s")
	bytesPerTrade(b, ctx, adm, cass, db, float64(len(produced))/float64(max(records, 1)))
}

// topicBytes is what trading_data holds over every broker's log directories.
func topicBytes(ctx context.Context, adm *kadm.Client) (int64, error) {
	us, err := storage.Kafka(ctx, adm)
	var n int64
	for _, u := range us {
		n += u.Parts["trading_data"]
	}
	return n, err
}

// bytesPerTrade flushes and compacts Cassandra, divides each store's bytes by the trades it holds,
// and logs the disk a day needs at the product's own retention (docs/operations.md).
func bytesPerTrade(b *testing.B, ctx context.Context, adm *kadm.Client, cass *gocql.Session, db *sql.DB, tradesPerRecord float64) {
	root, err := testkit.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	for _, args := range [][]string{{"flush", "trading"}, {"compact", "trading"}} {
		cmd := exec.CommandContext(ctx, "bash", append([]string{"stack/stack.sh", "nodetool"}, args...)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("nodetool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	rows := func(table string) int64 {
		var n int64
		var id int64
		it := cass.Query("SELECT id FROM " + table).PageSize(5000).IterContext(ctx)
		for it.Scan(&id) {
			n++
		}
		if err := it.Close(); err != nil {
			b.Fatalf("count %s: %v", table, err)
		}
		return n
	}
	per := map[string]float64{}
	starts, err := adm.ListStartOffsets(ctx, "trading_data")
	if err != nil {
		b.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, "trading_data")
	if err != nil {
		b.Fatal(err)
	}
	var held int64
	ends.Each(func(o kadm.ListedOffset) { held += o.Offset - starts[o.Topic][o.Partition].Offset })
	if n, err := topicBytes(ctx, adm); err == nil && held > 0 {
		per["kafka trading_data"] = float64(n) / (float64(held) * tradesPerRecord)
	}
	u, err := storage.Cassandra(ctx, cass, "trading", "")
	if err != nil {
		b.Fatal(err)
	}
	for _, table := range []string{"real_time_data", "trades_by_ticker"} {
		if n := rows(table); n > 0 {
			per["cassandra "+table] = float64(u.Parts[table]) / float64(n)
		}
	}
	m, err := storage.MySQL(ctx, db, "trading", "")
	if err != nil {
		b.Fatal(err)
	}
	var ids int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM trade_ids").Scan(&ids); err != nil {
		b.Fatal(err)
	}
	if ids > 0 {
		per["mysql trade_ids"] = float64(m.Parts["trade_ids"]) / float64(ids)
	}
	// Days each store holds at the product's defaults (docs/operations.md, "Retention and disk"):
	// Kafka 7 d, real_time_data kept (one day's growth shown), trades_by_ticker 2 d, trade ids 2 d.
	days := map[string]float64{"kafka trading_data": 7, "cassandra real_time_data": 1, "cassandra trades_by_ticker": 2, "mysql trade_ids": 2}
	names := make([]string, 0, len(per))
	for k := range per {
		names = append(names, k)
	}
	sort.Strings(names)
	b.Logf("| store | bytes/trade | held | 200 trades/s | 1 000 trades/s | 10 000 trades/s |")
	for _, k := range names {
		row := fmt.Sprintf("| %s | %.1f | %v d |", k, per[k], days[k])
		for _, r := range []float64{200, 1000, 10000} {
			row += " " + storage.FormatBytes(int64(per[k]*r*86400*days[k])) + " |"
		}
		b.Logf("%s", row)
		b.ReportMetric(per[k], strings.ReplaceAll(k, " ", "_")+"_B/trade")
	}
}
