// Package pipeline is the end-to-end suites' harness: a test's namespace, its clients, the
// product's programs started in it, and the checks that every table the job writes holds exactly
// the trades Kafka holds.
package pipeline

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"idxstream/testkit"
	"idxstream/testkit/check"
	"idxstream/trade"
)

// Pipeline is a test's namespace, its clients and the programs it runs there.
type Pipeline struct {
	t     *testing.T
	suite *testkit.Suite
	NS    *testkit.Namespace
	Kafka *kgo.Client
	Cass  *gocql.Session
	DB    *sql.DB // as the job's user
	Topic string
}

// New gives the test a fresh namespace of suite with a topic of three partitions.
func New(t *testing.T, suite *testkit.Suite) *Pipeline {
	t.Helper()
	ns := suite.FreshNamespace(t)
	p := &Pipeline{t: t, suite: suite, NS: ns, Kafka: ns.Kafka(t), Cass: ns.Cassandra(t), DB: ns.MySQL(t, testkit.Job)}
	p.Topic = ns.Topic(t, 3)
	return p
}

func (p *Pipeline) Zone() *time.Location { return p.NS.Servers.Zone }

// Start runs program ("producer", "spark_script" or "dashboard") in the namespace.
func (p *Pipeline) Start(program string, env []string, args ...string) *testkit.Proc {
	p.t.Helper()
	var tags []string
	if program == "spark_script" {
		tags = []string{"faulthook"}
	}
	return testkit.Start(p.t, testkit.ProcSpec{
		Name: program, Bin: p.suite.Build(p.t, "./"+program, tags...),
		Args: args, Env: append(p.NS.Env(), env...),
	})
}

// StartJob runs the job on the test's topic with short triggers; extra settings win.
func (p *Pipeline) StartJob(extra ...string) *testkit.Proc {
	p.t.Helper()
	env := append([]string{"JOB_RAW_TRIGGER=5s", "JOB_AGG_TRIGGER=15s", "JOB_STATUS_ADDR=" + testkit.FreeAddr(p.t)}, extra...)
	return p.Start("spark_script", env, p.Topic)
}

// StartDashboard runs the dashboard and returns its address.
func (p *Pipeline) StartDashboard(rawInterval string) string {
	p.t.Helper()
	addr := testkit.FreeAddr(p.t)
	p.Start("dashboard", []string{"DASHBOARD_ADDR=" + addr, "DASHBOARD_AGG_INTERVAL=2s", "DASHBOARD_RAW_INTERVAL=" + rawInterval})
	return addr
}

// Records is the number of records in the topic.
func (p *Pipeline) Records(ctx context.Context) (int64, error) {
	ends, err := kadm.NewClient(p.Kafka).ListEndOffsets(ctx, p.Topic)
	if err != nil {
		return 0, err
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n, nil
}

// ConsumeTrades reads the whole topic and decodes the records that are JSON arrays of trades (the
// malformed ones the test wrote are keyed "bad"); no id may come twice.
func (p *Pipeline) ConsumeTrades() []trade.Trade {
	t := p.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ends, err := kadm.NewClient(p.Kafka).ListEndOffsets(ctx, p.Topic)
	if err != nil {
		t.Fatal(err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { left[o.Partition] = o.Offset })
	c, err := kgo.NewClient(kgo.SeedBrokers(p.NS.Servers.Kafka...), kgo.ConsumeTopics(p.Topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
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
			t.Fatalf("consume %s: %v", p.Topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			left[r.Partition] = ends[p.Topic][r.Partition].Offset - r.Offset - 1
			if string(r.Key) == "bad" {
				return
			}
			ts, err := trade.DecodeBatch(r.Value)
			if err != nil {
				t.Errorf("undecodable record at %d/%d: %v", r.Partition, r.Offset, err)
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

// WaitExact waits until every table the job writes holds exactly the trades.
func (p *Pipeline) WaitExact(want []trade.Trade, watch ...*testkit.Proc) {
	p.t.Helper()
	ctx := context.Background()
	testkit.Eventually(p.t, 8*time.Minute, fmt.Sprintf("all %d trades once in real_time_data", len(want)), func() error {
		return check.Trades(ctx, p.Cass, want)
	}, watch...)
	testkit.Eventually(p.t, 2*time.Minute, "the same trades once in trades_by_ticker (the dashboard's table)", func() error {
		return check.TradesByTicker(ctx, p.Cass, want, p.Zone())
	}, watch...)
	testkit.Eventually(p.t, 5*time.Minute, "MySQL volume and trade count per (date, sector) equal to the trades'", func() error {
		return check.Totals(ctx, p.DB, want, p.Zone())
	}, watch...)
}

// TodayBySector is the volume per sector of the trades of today's market date: what the
// dashboard's volume chart must show.
func TodayBySector(ts []trade.Trade, zone *time.Location) map[string]int64 {
	today := time.Now().In(zone).Format(time.DateOnly)
	out := map[string]int64{}
	for k, s := range check.ExpectedTotals(ts, zone) {
		if k.Date == today {
			out[k.Sector] = s.Volume
		}
	}
	return out
}

// DashboardVolume reads the dashboard's volume per sector of today from its JSON API.
func DashboardVolume(addr string) (map[string]int64, error) {
	resp, err := http.Get("http://" + addr + "/api/volume-today")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Data []struct {
			Sector      string `json:"sector"`
			TotalVolume int64  `json:"total_volume"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("dashboard JSON: %w", err)
	}
	got := map[string]int64{}
	for _, r := range body.Data {
		got[r.Sector] = r.TotalVolume
	}
	return got, nil
}

func SameVolumes(got, want map[string]int64) error {
	if len(got) != len(want) {
		return fmt.Errorf("dashboard shows %d sectors %v, the test produced %d %v", len(got), got, len(want), want)
	}
	for s, v := range want {
		if got[s] != v {
			return fmt.Errorf("sector %s: dashboard %d, produced %d", s, got[s], v)
		}
	}
	return nil
}

// Launcher runs the project's launcher (bash stack/stack.sh VERB) from the repository root with
// the process's environment plus env, for a suite that brings up a stack of its own: its output
// is returned in the error when it fails, and what it took is logged under name.
func Launcher(name, verb string, within time.Duration, env ...string) error {
	root, err := testkit.RepoRoot()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "stack/stack.sh", verb)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	fmt.Fprintf(os.Stderr, "%s: stack %s %s took %s\n", name, verb, strings.Join(env, " "), time.Since(start).Round(time.Second))
	if err != nil {
		return fmt.Errorf("stack %s: %v\n%s", verb, err, Tail(out.String(), 40))
	}
	return nil
}

// SetEnv sets each NAME=value for this process: the launcher, stackctl and the programs the
// tests start all read them.
func SetEnv(env []string) {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
}

// Tail is the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// StopOnSignal runs stop, then exits, when the test binary is sent SIGINT or SIGTERM: a suite
// interrupted by hand does not leave its own stack running. It returns a function that ends the
// watch.
func StopOnSignal(name string, stop func()) func() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(os.Stderr, "%s: %s: stopping the suite's stack\n", name, s)
			stop()
			os.Exit(1)
		case <-done:
		}
	}()
	return func() { signal.Stop(sigs); close(done) }
}
