//go:build integration

package jobtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"idxstream/spark_script/internal/parse"
	"idxstream/trade"
)

// malformed are records the job must reject without stopping, with the reason each must get.
// The last one mixes a valid trade with a bad one: the valid one must still flow.
func malformed(valid trade.Trade) (values [][]byte, reasons map[string]int) {
	now := time.Now().UTC().Format(trade.TimeLayout)
	el := func(fields string) string {
		return `{"ticker":"BBCA","created_at":"` + now + `","price":9000,"market_cap":1e15,"volume":100,"sector":"Financials"` + fields + `}`
	}
	recs := []struct{ value, reason string }{
		{`not json at all`, "record is not a JSON array"},
		{`{"id": 1, "ticker": "BBCA"}`, "record is not a JSON array"},
		{`["just a string"]`, "element is not a JSON object"},
		{`[{"id": 2, "ticker": "BBCA", "created_at": "` + now + `", "market_cap": 1, "volume": 100, "sector": "Financials"}]`, "missing price"},
		{`[` + el(`,"id":"three"`) + `]`, "id is not a positive integer"},
		{`[{"id": 4, "ticker": "BBCA", "created_at": "` + now + `", "price": "abc", "market_cap": 1, "volume": 100, "sector": "Financials"}]`, "price is not a number"},
		{`[{"id": 5, "ticker": "BBCA", "created_at": "` + now + `", "price": -5, "market_cap": 1, "volume": 100, "sector": "Financials"}]`, "non-positive or absurd price"},
		{`[{"id": 6, "ticker": "BBCA", "created_at": "` + now + `", "price": 5, "market_cap": 1, "volume": 0, "sector": "Financials"}]`, "non-positive volume"},
		{`[{"id": 7, "ticker": "bca1", "created_at": "` + now + `", "price": 5, "market_cap": 1, "volume": 100, "sector": "Financials"}]`, "unknown ticker format"},
		{`[{"id": 8, "ticker": "BBCA", "created_at": "yesterday", "price": 5, "market_cap": 1, "volume": 100, "sector": "Financials"}]`, "unparsable created_at"},
		// Shapes that a plain CAST would accept or truncate, and times in the producer's layout
		// (the parser's fast path) that are not real times.
		{`[` + el(`,"id":1.5`) + `]`, "id is not a positive integer"},
		{`[` + el(`,"id":-3`) + `]`, "id is not a positive integer"},
		{`[{"id": 10, "ticker": "BBCA", "created_at": "` + now + `", "price": 5, "market_cap": 1, "volume": 10.5, "sector": "Financials"}]`, "volume is not an integer"},
		{`[{"id": 11, "ticker": "BBCA", "created_at": "2026-13-01T00:00:00.000000Z", "price": 5, "market_cap": 1, "volume": 100, "sector": "Financials"}]`, "unparsable created_at"},
		{`[{"id": 12, "ticker": "BBCA", "created_at": "2026-11-23T10:00:00.000000", "price": 5, "market_cap": 1, "volume": 100, "sector": "Financials"}]`, "unparsable created_at"},
		{`[` + string(trade.AppendJSON(nil, valid)) + `, {"id": 9}]`, "missing ticker"},
		{`[]`, ""}, // an empty array carries no trades: neither a trade nor a reject
	}
	reasons = map[string]int{}
	for _, r := range recs {
		values = append(values, []byte(r.value))
		if r.reason != "" {
			reasons[r.reason]++
		}
	}
	return values, reasons
}

// TestJobExactlyOnce produces more than 10 000 trades in several records while the job runs, is
// killed with SIGKILL and started again, and lives through a 60 s Cassandra outage; every trade
// must be in Cassandra exactly once with its values, the MySQL volume per (date, sector) must
// equal the trades', and every malformed element must be in the rejects table with its reason.
func TestJobExactlyOnce(t *testing.T) {
	s := connect(t)
	const partitions = 3
	topic := s.newTopic(t, partitions)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	all := makeTrades(13000, rng)
	t.Cleanup(func() { s.deleteTrades(all) })
	first, second, third, fourth := all[:4000], all[4000:7000], all[7000:10000], all[10000:]

	// The valid trade inside the mixed malformed record is part of what must arrive.
	mixed := all[len(all)-1]
	fourth = fourth[:len(fourth)-1]
	bad, wantReasons := malformed(mixed)

	s.produce(t, topic, first, 50)
	s.produceRaw(t, topic, bad)
	ctx := context.Background()

	j := startJob(t, topic)
	eventually(t, j, 5*time.Minute, "first trades in Cassandra", func() error {
		got, err := s.cassandraTrades(ctx, first[:200])
		if err == nil && len(got) == 0 {
			err = fmt.Errorf("none yet")
		}
		return err
	})
	s.produce(t, topic, second, 40)
	time.Sleep(3 * time.Second) // let a batch start, then kill the job in the middle of the stream
	if err := j.stop(t, syscall.SIGKILL, 30*time.Second); err == nil {
		t.Fatal("job exited 0 after SIGKILL?")
	}
	s.produce(t, topic, third, 60)

	j = startJob(t, topic)
	received := append(append(append([]trade.Trade{}, first...), second...), third...)
	received = append(received, mixed)
	waitConsistent(t, s, j, topic, received)

	if os.Getenv("JOBTEST_SKIP_OUTAGE") != "1" {
		t.Log("stopping Cassandra for 60 s while the job runs")
		stackCmd(t, "down")
		s.produce(t, topic, fourth, 50)
		time.Sleep(60 * time.Second)
		stackCmd(t, "up")
		received = append(received, fourth...)
		waitConsistent(t, s, j, topic, received)
	}

	got, err := s.rejects(ctx, topic, partitions)
	if err != nil {
		t.Fatal(err)
	}
	for reason, n := range wantReasons {
		if got[reason] != n {
			t.Errorf("rejects with reason %q: %d, want %d (all: %v)", reason, got[reason], n, got)
		}
	}
	known := map[string]bool{}
	for _, r := range parse.Reasons() {
		known[r] = true
	}
	for reason := range got {
		if !known[reason] {
			t.Errorf("unexpected reject reason %q", reason)
		}
	}
	if err := j.stop(t, syscall.SIGTERM, 3*time.Minute); err != nil {
		t.Fatalf("job did not exit 0 on SIGTERM: %v", err)
	}
}

// waitConsistent waits until Cassandra holds exactly the trades and MySQL their volume.
func waitConsistent(t *testing.T, s *stack, j *job, topic string, ts []trade.Trade) {
	t.Helper()
	ctx := context.Background()
	eventually(t, j, 8*time.Minute, fmt.Sprintf("all %d trades in Cassandra", len(ts)), func() error {
		return s.allInCassandra(ctx, ts)
	})
	want := expectedSums(ts)
	eventually(t, j, 5*time.Minute, "MySQL volume per (date, sector) equal to the trades'", func() error {
		got, err := s.mysqlSums(ctx, topic)
		if err != nil {
			return err
		}
		return diffSums(got, want)
	})
}

// stackCmd stops or starts Cassandra through the project's launcher.
func stackCmd(t *testing.T, verb string) {
	t.Helper()
	cmd := exec.Command("bash", "../../stack/stack.sh", verb)
	cmd.Env = append(os.Environ(), "STACK_SERVICES=cassandra")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stack.sh %s cassandra: %v\n%s", verb, err, out)
	}
}
