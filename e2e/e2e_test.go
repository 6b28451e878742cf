//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"idxstream/dashboard/browsertest"
	"idxstream/trade"
)

var bins = map[string]string{} // program name -> binary, built by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, p := range []string{"producer", "spark_script", "dashboard"} {
		bins[p] = filepath.Join(dir, p)
		cmd := exec.Command("go", "build", "-o", bins[p], "./"+p)
		cmd.Dir = ".."
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n", p, err)
			os.Exit(1)
		}
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

func need(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("INTEGRATION_REQUIRED") == "1" {
		t.Fatalf("%s unreachable: %v", what, err)
	}
	t.Skipf("%s unreachable (start the stack with `make up`): %v", what, err)
}

// proc is one running program, its output kept for the failure report.
type proc struct {
	name   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	exited chan struct{}
	err    error
}

func (p *proc) Write(b []byte) (int, error) { p.mu.Lock(); defer p.mu.Unlock(); return p.out.Write(b) }

func start(t *testing.T, name string, extraEnv []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, exited: make(chan struct{})}
	p.cmd = exec.Command(bins[name], args...)
	p.cmd.Dir = ".." // the programs read ./.env from the repository root
	p.cmd.Env = append(os.Environ(), extraEnv...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
			select {
			case <-p.exited:
			case <-time.After(2 * time.Minute):
				p.cmd.Process.Kill() //nolint:errcheck
				<-p.exited
			}
		}
		if t.Failed() {
			p.mu.Lock()
			lines := strings.Split(p.out.String(), "\n")
			p.mu.Unlock()
			t.Logf("--- %s output (last lines):\n%s", name, strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
	})
	return p
}

func (p *proc) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(within):
		t.Fatalf("%s still running after %s", p.name, within)
		return nil
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func eventually(t *testing.T, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("%s: not reached within %s: %v", what, within, err)
}

func stack(t *testing.T, verb string, services ...string) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{"stack/stack.sh", verb}, services...)...)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stack.sh %s %v: %v\n%s", verb, services, err, out)
	}
}

type dateSector struct{ date, sector string }

// clients are the test's own connections to the stack's servers.
type clients struct {
	kafka *kgo.Client
	adm   *kadm.Client
	cass  *gocql.Session
	db    *sql.DB // MySQL as the job's user
	zone  *time.Location
}

// connectStack connects to Kafka, Cassandra and MySQL with the stack's settings (./.env), or
// skips the test when the stack is not up (fails with INTEGRATION_REQUIRED=1).
func connectStack(t *testing.T) *clients {
	t.Helper()
	ctx := context.Background()
	kc, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"), ",")...))
	if err == nil {
		err = kc.Ping(ctx)
	}
	need(t, "kafka", err)
	t.Cleanup(kc.Close)
	cl := gocql.NewCluster(strings.Split(env("CASSANDRA_HOSTS", "127.0.0.1"), ",")...)
	cl.Keyspace, cl.Consistency, cl.Timeout = env("CASSANDRA_KEYSPACE", "trading"), gocql.LocalOne, 10*time.Second
	cass, err := cl.CreateSession()
	need(t, "cassandra", err)
	t.Cleanup(cass.Close)
	mc := mysql.NewConfig()
	mc.User, mc.Passwd = env("MYSQL_JOB_USER", "trading_job"), os.Getenv("MYSQL_JOB_PASSWORD")
	mc.Net, mc.Addr, mc.DBName, mc.ParseTime = "tcp", env("MYSQL_ADDR", "127.0.0.1:3306"), env("MYSQL_DATABASE", "trading"), true
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err == nil {
		err = db.PingContext(ctx)
	}
	need(t, "mysql", err)
	t.Cleanup(func() { db.Close() })
	zone, err := time.LoadLocation(env("MARKET_TZ", "Asia/Jakarta"))
	if err != nil {
		t.Fatal(err)
	}
	return &clients{kafka: kc, adm: kadm.NewClient(kc), cass: cass, db: db, zone: zone}
}

// newTopic creates a topic of three partitions for this test and removes it, with the
// aggregate path's rows and batches of it, afterwards.
func (c *clients) newTopic(t *testing.T) string {
	t.Helper()
	topic := fmt.Sprintf("e2e_%d", time.Now().UnixNano()%1e9)
	if _, err := c.adm.CreateTopic(context.Background(), 3, 1, nil, topic); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	t.Cleanup(func() {
		c.adm.DeleteTopics(context.Background(), topic)                                                                     //nolint:errcheck
		c.db.Exec(`DELETE a FROM aggregated_data a JOIN agg_batches b ON a.batch_id = b.batch_id WHERE b.topic = ?`, topic) //nolint:errcheck
		c.db.Exec(`DELETE FROM agg_batches WHERE topic = ?`, topic)                                                         //nolint:errcheck
	})
	return topic
}

// TestEndToEnd: producer -> Kafka -> job -> Cassandra and MySQL -> dashboard, with a Kafka
// broker restart while the producer runs and a SIGKILL of the job in the middle of the stream.
func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	c := connectStack(t)
	kc, cass, db, zone := c.kafka, c.cass, c.db, c.zone
	topic := c.newTopic(t)

	jobEnv := []string{"JOB_RAW_TRIGGER=5s", "JOB_AGG_TRIGGER=15s", "JOB_STATUS_ADDR=" + freePort(t)}
	job := start(t, "spark_script", jobEnv, topic)
	dashAddr := freePort(t)
	start(t, "dashboard", []string{"DASHBOARD_ADDR=" + dashAddr, "DASHBOARD_AGG_INTERVAL=2s", "DASHBOARD_RAW_INTERVAL=2s"})

	// Malformed records mixed into the stream: they must not stop anything nor reach the tables.
	bad := []string{`garbage`, `{"id":1}`, `[{"id":"x"}]`, `[{"id":5,"ticker":"BBCA","price":-1}]`}
	for _, v := range bad {
		if err := kc.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte("bad"), Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce malformed: %v", err)
		}
	}

	producer := start(t, "producer", nil, "--rate", "400", "--interval", "250ms", "--count", "12000", "--progress", "5s", topic)
	time.Sleep(10 * time.Second)
	t.Log("restarting the Kafka broker while the producer runs")
	stack(t, "restart", "kafka")
	time.Sleep(5 * time.Second)
	t.Log("killing the job with SIGKILL")
	if err := job.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	job.wait(t, 30*time.Second)
	job = start(t, "spark_script", jobEnv, topic)
	if err := producer.wait(t, 5*time.Minute); err != nil {
		t.Fatalf("producer did not finish cleanly across the broker restart: %v", err)
	}

	// What Kafka holds is what the pipeline must deliver: every trade the producer wrote, once.
	want := consumeTrades(t, kc, topic)
	if len(want) != 12000 {
		t.Fatalf("topic holds %d trades, want the 12000 the producer was asked for", len(want))
	}
	sums := map[dateSector]int64{}
	for _, tr := range want {
		sums[dateSector{tr.CreatedAt.In(zone).Format("2006-01-02"), tr.Sector}] += tr.Volume
	}

	eventually(t, 8*time.Minute, "every trade in Cassandra, once, with its values", func() error {
		return checkCassandra(ctx, cass, want)
	})
	eventually(t, 5*time.Minute, "MySQL volume per (date, sector) = the trades'", func() error {
		got, err := mysqlSums(ctx, db, topic)
		if err != nil {
			return err
		}
		return diff(got, sums)
	})
	eventually(t, 2*time.Minute, "the dashboard's volume by sector = MySQL volume_today", func() error {
		return dashboardMatches(ctx, dashAddr, db)
	})
	if err := job.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := job.wait(t, 3*time.Minute); err != nil {
		t.Fatalf("job did not exit 0 on SIGTERM: %v", err)
	}
}

// consumeTrades reads the whole topic and decodes the valid records; ids must be unique.
func consumeTrades(t *testing.T, kc *kgo.Client, topic string) []trade.Trade {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	adm := kadm.NewClient(kc)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { left[o.Partition] = o.Offset })
	c, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"), ",")...),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	seen := map[int64]bool{}
	var out []trade.Trade
	done := func() bool {
		for _, l := range left {
			if l > 0 {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := c.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume %s: %v", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			left[r.Partition] = ends[topic][r.Partition].Offset - r.Offset - 1
			if string(r.Key) == "bad" {
				return
			}
			ts, err := trade.DecodeBatch(r.Value)
			if err != nil {
				t.Errorf("producer wrote an undecodable record at %d/%d: %v", r.Partition, r.Offset, err)
				return
			}
			for _, tr := range ts {
				if seen[tr.ID] {
					t.Errorf("trade %d is twice in Kafka", tr.ID)
				}
				seen[tr.ID] = true
				out = append(out, tr)
			}
		})
	}
	return out
}

func checkCassandra(ctx context.Context, cass *gocql.Session, want []trade.Trade) error {
	byID := map[int64]trade.Trade{}
	for i := 0; i < len(want); i += 100 {
		ids := make([]int64, 0, 100)
		for _, tr := range want[i:min(i+100, len(want))] {
			ids = append(ids, tr.ID)
		}
		it := cass.Query(`SELECT id, created_at, ticker, sector, volume, market_cap, price FROM real_time_data WHERE id IN ?`, ids).WithContext(ctx).Iter()
		var tr trade.Trade
		for it.Scan(&tr.ID, &tr.CreatedAt, &tr.Ticker, &tr.Sector, &tr.Volume, &tr.MarketCap, &tr.Price) {
			byID[tr.ID] = tr
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	if len(byID) != len(want) {
		return fmt.Errorf("%d of %d trades in Cassandra", len(byID), len(want))
	}
	for _, w := range want {
		g := byID[w.ID]
		if g.Ticker != w.Ticker || g.Sector != w.Sector || g.Volume != w.Volume || g.Price != w.Price || g.MarketCap != w.MarketCap ||
			!g.CreatedAt.Equal(w.CreatedAt.Truncate(time.Millisecond)) {
			return fmt.Errorf("trade %d: Cassandra has %+v, Kafka %+v", w.ID, g, w)
		}
	}
	return nil
}

func mysqlSums(ctx context.Context, db *sql.DB, topic string) (map[dateSector]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT DATE_FORMAT(a.date, '%Y-%m-%d'), a.sector, SUM(a.total_volume)
		FROM aggregated_data a JOIN agg_batches b ON a.batch_id = b.batch_id
		WHERE b.topic = ? AND b.committed_at IS NOT NULL GROUP BY 1, 2`, topic)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[dateSector]int64{}
	for rows.Next() {
		var k dateSector
		var v int64
		if err := rows.Scan(&k.date, &k.sector, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

func diff(got, want map[dateSector]int64) error {
	var d []string
	for k, w := range want {
		if got[k] != w {
			d = append(d, fmt.Sprintf("%s/%s: %d, want %d", k.date, k.sector, got[k], w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%s/%s: unexpected", k.date, k.sector))
		}
	}
	sort.Strings(d)
	if len(d) > 0 {
		return fmt.Errorf("%s", strings.Join(d, "; "))
	}
	return nil
}

// dashboardMatches compares the dashboard's JSON with the view it is drawn from.
func dashboardMatches(ctx context.Context, addr string, db *sql.DB) error {
	want, err := browsertest.VolumeToday(ctx, db)
	if err != nil {
		return err
	}
	resp, err := http.Get("http://" + addr + "/api/volume-today")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Data []struct {
			Sector      string `json:"sector"`
			TotalVolume int64  `json:"total_volume"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("dashboard JSON: %w", err)
	}
	got := map[string]int64{}
	for _, r := range body.Data {
		got[r.Sector] = r.TotalVolume
	}
	if len(got) != len(want) {
		return fmt.Errorf("dashboard shows %d sectors, volume_today has %d", len(got), len(want))
	}
	for s, v := range want {
		if got[s] != v {
			return fmt.Errorf("sector %s: dashboard %d, volume_today %d", s, got[s], v)
		}
	}
	return nil
}
