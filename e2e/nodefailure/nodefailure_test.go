//go:build e2e

// Package nodefailure is the fault suite of the cluster topology: a native cluster of its own (3
// Kafka nodes, 3 Cassandra nodes with replication 3, 2 Spark workers; other ports and its own
// STACK_HOME beside any stack a user runs), the producer at a fixed rate, the job and the
// dashboard running, and one node after another killed with SIGKILL, kept down while the pipeline
// goes on without it, then restarted by the launcher. After each run every trade is once in every
// Cassandra table the job writes, MySQL's totals and counts are exact, no program of the product
// exited, and the dashboard answered throughout (its longest gap is reported, with the longest
// delay a trade saw from its creation to its write in Cassandra).
package nodefailure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/twmb/franz-go/pkg/kadm"

	"idxstream/e2e/pipeline"
	"idxstream/testkit"
)

var suite = testkit.NewSuite("nodes")

// The cluster's settings: ports 2xxxx beside the product's (1xxxx are the disk drill's), node i
// of Kafka and Cassandra on 127.0.0.i; topics and keyspaces with three copies, Kafka taking a
// write once two hold it, the programs writing and reading Cassandra at LOCAL_QUORUM.
var clusterEnv = []string{
	"STACK_MODE=native", "STACK_TOPOLOGY=cluster",
	"MYSQL_PORT=23306", "KAFKA_PORT=29092", "KAFKA_CONTROLLER_PORT=29093",
	"CASSANDRA_PORT=29042", "CASSANDRA_STORAGE_PORT=27000", "CASSANDRA_JMX_PORT=27199",
	"SPARK_MASTER_PORT=27077", "SPARK_MASTER_UI_PORT=28080", "SPARK_WORKER_UI_PORT=28081",
	"SPARK_CONNECT_PORT=35002", "SPARK_DRIVER_UI_PORT=24040",
	"KAFKA_REPLICATION_FACTOR=3", "KAFKA_MIN_INSYNC_REPLICAS=2",
	"CASSANDRA_REPLICATION={'class': 'SimpleStrategy', 'replication_factor': 3}",
	"CASSANDRA_CONSISTENCY=LOCAL_QUORUM",
	// the programs' view of the same servers: every node
	"KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:29092,127.0.0.2:29092,127.0.0.3:29092",
	"CASSANDRA_HOSTS=127.0.0.1:29042,127.0.0.2:29042,127.0.0.3:29042",
	"MYSQL_ADDR=127.0.0.1:23306", "SPARK_REMOTE=sc://127.0.0.1:35002",
}

// home is the cluster's STACK_HOME, where the launcher keeps each node's pid.
var home string

const (
	rate          = 200              // trades/s offered by the producer
	flowing       = 2000             // trades that must reach Cassandra while a node is down, and after it is back
	cassandraDown = 60 * time.Second // the minimum for a dead Cassandra node
	otherDown     = 30 * time.Second // a Kafka node or a Spark worker: several micro-batches without it
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "idxstream-nodes-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "nodefailure:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		home = filepath.Join(dir, "home")
		pipeline.SetEnv(append(clusterEnv, "STACK_HOME="+home))
		down := func() {
			if err := pipeline.Launcher("nodefailure", "down", 6*time.Minute); err != nil {
				fmt.Fprintln(os.Stderr, "nodefailure:", err)
			}
		}
		defer down()
		defer pipeline.StopOnSignal("nodefailure", down)()
		if err := pipeline.Launcher("nodefailure", "up", 10*time.Minute); err != nil {
			fmt.Fprintln(os.Stderr, "nodefailure:", err)
			return 1
		}
		return suite.Run(m)
	}()
	os.Exit(code)
}

// A fault kills one node and names the launcher's service that brings it back.
type fault struct {
	name    string
	service string                            // STACK_SERVICES for `stack.sh up`, which restarts what is down
	minDown time.Duration                     // at least this long down
	node    func(t *testing.T, r *run) string // the node to kill (its launcher name)
}

var (
	kafkaLeader = fault{"the Kafka node leading the most partitions", "kafka", otherDown, func(t *testing.T, r *run) string {
		return "kafka-" + strconv.Itoa(int(r.mostLeader(t)))
	}}
	cassandraNode = fault{"a Cassandra node", "cassandra", cassandraDown, func(*testing.T, *run) string {
		return "cassandra-1" // the first contact point of every program
	}}
	sparkWorker = fault{"a Spark worker with its executor", "spark", otherDown, func(*testing.T, *run) string {
		return "spark-worker-1"
	}}
)

func TestKafkaLeaderKilled(t *testing.T)   { faults(t, kafkaLeader) }
func TestCassandraNodeKilled(t *testing.T) { faults(t, cassandraNode) }
func TestSparkWorkerKilled(t *testing.T)   { faults(t, sparkWorker) }
func TestAllThreeOneAfterAnother(t *testing.T) {
	faults(t, kafkaLeader, cassandraNode, sparkWorker)
}

// run is one test's pipeline: its programs and what the dashboard watcher saw.
type run struct {
	*pipeline.Pipeline
	job, producer, dashboard *testkit.Proc
	watch                    *watcher
}

// faults runs the pipeline at rate, applies each fault in turn and checks the exact totals.
func faults(t *testing.T, fs ...fault) {
	p := pipeline.New(t, suite)
	r := &run{Pipeline: p}
	r.job = p.StartJob()
	addr := testkit.FreeAddr(t)
	r.dashboard = p.Start("dashboard", []string{"DASHBOARD_ADDR=" + addr, "DASHBOARD_AGG_INTERVAL=2s", "DASHBOARD_RAW_INTERVAL=1s"})
	// bounded: at most 15 minutes' worth, stopped once the faults are over
	r.producer = p.Start("producer", nil, "--rate", strconv.Itoa(rate), "--interval", "250ms",
		"--count", strconv.Itoa(rate*900), "--duration", "15m", p.Topic)
	procs := []*testkit.Proc{r.job, r.producer, r.dashboard}
	r.waitStored(t, flowing, "before the first fault")
	r.watch = watchDashboard(addr)

	start := time.Now()
	for _, f := range fs {
		node := f.node(t, r)
		t.Logf("killing %s: %s", f.name, node)
		killed := time.Now()
		kill(t, node)
		r.waitStored(t, flowing, "while "+node+" is down")
		if d := f.minDown - time.Since(killed); d > 0 {
			time.Sleep(d) // the fault's own length, not a wait for something to happen
		}
		t.Logf("%s was down %s; restarting it", node, time.Since(killed).Round(time.Second))
		if err := pipeline.Launcher("nodefailure", "up", 6*time.Minute, "STACK_SERVICES="+f.service); err != nil {
			t.Fatalf("restart %s: %v", node, err)
		}
		r.waitStored(t, flowing, "after "+node+" is back")
	}
	for _, pr := range procs {
		select {
		case <-pr.Exited():
			t.Fatalf("%s exited during the faults:\n%s", pr.Name, pr.Tail(30))
		default:
		}
	}
	if err := r.producer.Stop(t, syscall.SIGTERM, time.Minute); err != nil {
		t.Fatalf("producer: %v\n%s", err, r.producer.Tail(20))
	}
	want := p.ConsumeTrades()
	p.WaitExact(want, r.job, r.dashboard)
	today := pipeline.TodayBySector(want, p.Zone())
	testkit.Eventually(t, 2*time.Minute, "the dashboard's volume of today equal to the trades'", func() error {
		got, err := pipeline.DashboardVolume(addr)
		if err != nil {
			return err
		}
		return pipeline.SameVolumes(got, today)
	}, r.dashboard)
	gap, failures := r.watch.stop()
	delay := longestDelay(t, p.Cass, start)
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	t.Logf("RESULT %s: %d trades produced at %d/s, exact in real_time_data, trades_by_ticker and MySQL; longest delay created -> written %.1f s; dashboard's longest gap %.1f s (%d failed requests)",
		strings.Join(names, ", then "), len(want), rate, delay.Seconds(), gap.Seconds(), failures)
	for _, pr := range []*testkit.Proc{r.job, r.dashboard} {
		if err := pr.Stop(t, syscall.SIGTERM, 2*time.Minute); err != nil {
			t.Errorf("%s did not stop cleanly: %v", pr.Name, err)
		}
	}
}

// waitStored waits until real_time_data holds n rows more than when it was called.
func (r *run) waitStored(t *testing.T, n int, when string) {
	t.Helper()
	from := r.stored(t)
	testkit.Eventually(t, 5*time.Minute, fmt.Sprintf("%d more trades in real_time_data %s", n, when), func() error {
		got, err := r.count()
		if err != nil {
			return err
		}
		if got < from+n {
			return fmt.Errorf("%d more", got-from)
		}
		return nil
	}, r.job, r.producer, r.dashboard)
}

func (r *run) stored(t *testing.T) int {
	t.Helper()
	var n int
	testkit.Eventually(t, time.Minute, "a count of real_time_data", func() (err error) {
		n, err = r.count()
		return err
	})
	return n
}

func (r *run) count() (int, error) {
	var n int
	err := r.Cass.Query("SELECT COUNT(*) FROM real_time_data").Scan(&n)
	return n, err
}

// mostLeader is the Kafka node that leads the most partitions of the test's topic.
func (r *run) mostLeader(t *testing.T) int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := kadm.NewClient(r.Kafka).Metadata(ctx, r.Topic)
	if err != nil {
		t.Fatalf("metadata of %s: %v", r.Topic, err)
	}
	led := map[int32]int{}
	for _, p := range m.Topics[r.Topic].Partitions {
		if len(p.Replicas) != 3 {
			t.Fatalf("partition %d of %s has %d replicas, want 3", p.Partition, r.Topic, len(p.Replicas))
		}
		led[p.Leader]++
	}
	best := int32(-1)
	for id, n := range led {
		if best < 0 || n > led[best] || (n == led[best] && id < best) {
			best = id
		}
	}
	t.Logf("partition leaders of %s: %v", r.Topic, led)
	return best
}

// kill sends SIGKILL to the process group of a node the launcher started (setsid: the group is
// the node and its children, such as a Spark worker's executor): as if its machine died.
func kill(t *testing.T, node string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, "run", node+".pid"))
	if err != nil {
		t.Fatalf("pid of %s: %v", node, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file of %s: %v", node, err)
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL %s (%d): %v", node, pid, err)
	}
	for syscall.Kill(pid, 0) == nil { // gone once its parent, the launcher's setsid, has reaped it
		time.Sleep(100 * time.Millisecond)
	}
}

// watcher asks the dashboard for today's volume every 250 ms and keeps the longest time between
// two answers.
type watcher struct {
	stopc    chan struct{}
	done     sync.WaitGroup
	longest  time.Duration
	failures int
}

func watchDashboard(addr string) *watcher {
	w := &watcher{stopc: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	w.done.Go(func() {
		last := time.Now()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stopc:
				return
			case <-tick.C:
			}
			resp, err := client.Get("http://" + addr + "/api/volume-today")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = errors.New(resp.Status)
				}
			}
			now := time.Now()
			if err != nil {
				w.failures++
				continue
			}
			w.longest = max(w.longest, now.Sub(last))
			last = now
		}
	})
	return w
}

// stop ends the watch: the longest gap between answers, and how many requests failed.
func (w *watcher) stop() (time.Duration, int) {
	close(w.stopc)
	w.done.Wait()
	return w.longest, w.failures
}

// longestDelay is the longest time a trade created since from took from its creation to its write
// in real_time_data (Cassandra's write time of the row).
func longestDelay(t *testing.T, s *gocql.Session, from time.Time) time.Duration {
	t.Helper()
	var worst time.Duration
	it := s.Query("SELECT created_at, WRITETIME(price) FROM real_time_data").PageSize(5000).Iter()
	var created time.Time
	var written int64
	for it.Scan(&created, &written) {
		if created.Before(from) {
			continue
		}
		worst = max(worst, time.UnixMicro(written).Sub(created))
	}
	if err := it.Close(); err != nil {
		t.Fatalf("read the write times of real_time_data: %v", err)
	}
	return worst
}
