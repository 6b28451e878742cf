//go:build integration

package jobtest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"idxstream/trade"
)

var jobBinary string // built once by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jobtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	jobBinary = filepath.Join(dir, "spark_script")
	build := exec.Command("go", "build", "-o", jobBinary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the job:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// need fails (INTEGRATION_REQUIRED=1, as in CI) or skips when a server is unreachable.
func need(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("INTEGRATION_REQUIRED") == "1" {
		t.Fatalf("%s unreachable: %v", what, err)
	}
	t.Skipf("%s unreachable (start the stack with `make up`): %v", what, err)
}

// stack holds clients of the real servers.
type stack struct {
	kafka *kgo.Client
	adm   *kadm.Client
	cass  *gocql.Session
	db    *sql.DB // as the job's user
}

func connect(t testing.TB) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := &stack{}
	var err error
	s.kafka, err = kgo.NewClient(kgo.SeedBrokers(strings.Split(env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"), ",")...),
		kgo.RequiredAcks(kgo.AllISRAcks()))
	if err == nil {
		err = s.kafka.Ping(ctx)
	}
	need(t, "kafka", err)
	t.Cleanup(s.kafka.Close)
	s.adm = kadm.NewClient(s.kafka)

	cl := gocql.NewCluster(strings.Split(env("CASSANDRA_HOSTS", "127.0.0.1"), ",")...)
	cl.Keyspace = env("CASSANDRA_KEYSPACE", "trading")
	cl.Consistency = gocql.LocalOne
	cl.Timeout = 10 * time.Second
	s.cass, err = cl.CreateSession()
	need(t, "cassandra", err)
	t.Cleanup(s.cass.Close)

	mc := mysql.NewConfig()
	mc.User, mc.Passwd = env("MYSQL_JOB_USER", "trading_job"), os.Getenv("MYSQL_JOB_PASSWORD")
	mc.Net, mc.Addr, mc.DBName, mc.ParseTime = "tcp", env("MYSQL_ADDR", "127.0.0.1:3306"), env("MYSQL_DATABASE", "trading"), true
	s.db, err = sql.Open("mysql", mc.FormatDSN())
	if err == nil {
		err = s.db.PingContext(ctx)
	}
	need(t, "mysql", err)
	t.Cleanup(func() { s.db.Close() })
	return s
}

// newTopic creates a topic of its own for the test and removes it, and the rows the job wrote
// for it, afterwards.
func (s *stack) newTopic(t testing.TB, partitions int32) string {
	t.Helper()
	topic := fmt.Sprintf("job_it_%d", time.Now().UnixNano()%1e9)
	ctx := context.Background()
	if _, err := s.adm.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	t.Cleanup(func() {
		s.adm.DeleteTopics(ctx, topic)                                                                                                  //nolint:errcheck // best effort
		s.db.ExecContext(ctx, `DELETE a FROM aggregated_data a JOIN agg_batches b ON a.batch_id = b.batch_id WHERE b.topic = ?`, topic) //nolint:errcheck
		s.db.ExecContext(ctx, `DELETE FROM agg_batches WHERE topic = ?`, topic)                                                         //nolint:errcheck
	})
	return topic
}

// trades makes n valid trades with ids of their own (never used by another run), spread over
// a few companies and the last hour.
func makeTrades(n int, rng *rand.Rand) []trade.Trade {
	companies := []struct{ ticker, sector string }{
		{"BBCA", "Financials"}, {"ADRO", "Energy"}, {"ANTM", "Basic Materials"}, {"ASII", "Industrials"},
		{"ICBP", "Consumer Non-Cyclicals"}, {"KLBF", "Healthcare"}, {"GOTO", "Technology"}, {"TLKM", "Infrastructures"},
	}
	base := (time.Now().UnixMilli() % 1e10) * 1e5 // unique per run, under 18 digits
	now := time.Now().UTC()
	out := make([]trade.Trade, n)
	for i := range out {
		c := companies[rng.IntN(len(companies))]
		price := float64(100 + 5*rng.IntN(2000))
		out[i] = trade.Trade{
			ID: base + int64(i), Ticker: c.ticker, Sector: c.sector,
			CreatedAt: now.Add(-time.Duration(rng.IntN(3600)) * time.Second).Add(time.Duration(rng.IntN(1e6)) * time.Microsecond),
			Price:     price, MarketCap: price * 1e9, Volume: int64(100 * (1 + rng.IntN(500))),
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

// job is one run of the job's binary.
type job struct {
	cmd    *exec.Cmd
	log    *bytes.Buffer
	mu     *sync.Mutex
	exited chan struct{} // closed when the process has exited; then err is its exit
	err    error
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// startJob starts the job binary on topic with the tests' short triggers; its
// overrides ("KEY=value") replace them.
func startJob(t testing.TB, topic string, overrides ...string) *job {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	statusAddr := ln.Addr().String()
	ln.Close()
	j := &job{log: &bytes.Buffer{}, mu: &sync.Mutex{}, exited: make(chan struct{})}
	j.cmd = exec.Command(jobBinary, topic)
	j.cmd.Env = append(os.Environ(),
		"JOB_RAW_TRIGGER="+env("JOBTEST_RAW_TRIGGER", "5s"),
		"JOB_AGG_TRIGGER="+env("JOBTEST_AGG_TRIGGER", "15s"),
		"JOB_STATUS_ADDR="+statusAddr)
	j.cmd.Env = append(j.cmd.Env, overrides...) // the last value of a key wins
	j.cmd.Stdout, j.cmd.Stderr = lockedWriter{j.mu, j.log}, lockedWriter{j.mu, j.log}
	if err := j.cmd.Start(); err != nil {
		t.Fatalf("start job: %v", err)
	}
	go func() { j.err = j.cmd.Wait(); close(j.exited) }()
	t.Cleanup(func() {
		// Stop the job the way an operator would, so that its queries do not outlive the test on
		// the Spark Connect server; kill it only if it does not stop.
		select {
		case <-j.exited:
		default:
			j.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
			select {
			case <-j.exited:
			case <-time.After(2 * time.Minute):
				j.cmd.Process.Kill() //nolint:errcheck
				<-j.exited
			}
		}
		if t.Failed() {
			t.Logf("job log (%s):\n%s", topic, j.logTail(80))
		}
	})
	return j
}

// logText is everything the job has logged so far.
func (j *job) logText() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.log.String()
}

func (j *job) logTail(lines int) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	all := strings.Split(j.log.String(), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// stop sends sig and waits for the exit.
func (j *job) stop(t testing.TB, sig syscall.Signal, within time.Duration) error {
	t.Helper()
	if err := j.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal job: %v", err)
	}
	select {
	case <-j.exited:
		return j.err
	case <-time.After(within):
		t.Fatalf("job did not exit within %s after %s", within, sig)
		return nil
	}
}

// eventually polls cond every 2 s until it returns nil or the timeout passes; the job must stay
// alive meanwhile.
func eventually(t testing.TB, j *job, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		if j != nil {
			select {
			case <-j.exited:
				t.Fatalf("%s: the job exited (%v) while waiting; last error: %v", what, j.err, err)
			default:
			}
		}
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("%s: not reached within %s: %v", what, timeout, err)
}
