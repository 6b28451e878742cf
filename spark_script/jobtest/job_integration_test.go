//go:build integration

package jobtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"idxstream/spark_script/internal/fault"
	"idxstream/spark_script/internal/parse"
	"idxstream/testkit"
	"idxstream/testkit/check"
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

// TestJobExactlyOnce produces more than 10 000 trades and a mix of malformed records while the
// job is killed at three chosen points (a fault hook, not a timer) and restarted each time, and
// then lives through a 60 s Cassandra outage. Every trade must be in each table the job writes
// exactly once with its values, MySQL's volume and trade count per (date, sector) must equal the
// trades', and every malformed element must be in rejects with its reason.
func TestJobExactlyOnce(t *testing.T) {
	s := connect(t)
	const partitions = 3
	topic := s.newTopic(t, partitions)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	all := makeTrades(13000, rng)
	first, second, third, fourth := all[:4000], all[4000:7000], all[7000:10000], all[10000:]

	// The valid trade inside the mixed malformed record is part of what must arrive.
	mixed := all[len(all)-1]
	fourth = fourth[:len(fourth)-1]
	bad, wantReasons := malformed(mixed)

	s.produce(t, topic, first, 50)
	s.produceRaw(t, topic, bad)

	// Each run dies at its fault point; the next one must pick up exactly where it left off.
	killedAt := func(point fault.Point, n int, before func()) {
		t.Helper()
		spec := string(point)
		if n > 1 {
			spec += ":" + strconv.Itoa(n)
		}
		if before != nil {
			before()
		}
		j := s.startJob(t, topic, "JOB_FAULT="+spec)
		if err := j.Wait(t, 6*time.Minute); err == nil {
			t.Fatalf("the job exited 0 instead of dying at %s", spec)
		}
		if !strings.Contains(j.Output(), "fault: killing the job at "+string(point)) {
			t.Fatalf("the job exited before reaching %s:\n%s", spec, j.Tail(40))
		}
		t.Logf("killed at %s", spec)
	}
	// After writing the first aggregate batch's rows to MySQL, before committing it.
	killedAt(fault.AggWritten, 1, nil)
	// In the middle of the stream: the raw path's second micro-batch with rows.
	killedAt(fault.RawProgress, 2, func() { s.produce(t, topic, second, 40) })
	// Right after planning an aggregate batch, before any of its rows is written.
	killedAt(fault.AggPlanned, 1, func() { s.produce(t, topic, third, 60) })

	j := s.startJob(t, topic)
	received := append(append(append([]trade.Trade{}, first...), second...), third...)
	received = append(received, mixed)
	waitConsistent(t, s, j, received)

	if os.Getenv("JOBTEST_SKIP_OUTAGE") != "1" {
		t.Log("stopping Cassandra for 60 s while the job runs")
		testkit.StackCmd(t, "down", "cassandra")
		s.produce(t, topic, fourth, 50)
		time.Sleep(60 * time.Second) // the outage's length: the job must ride it out
		testkit.StackCmd(t, "up", "cassandra")
		received = append(received, fourth...)
		waitConsistent(t, s, j, received)
	}

	ctx := context.Background()
	if err := check.RejectReasons(ctx, s.cass, wantReasons); err != nil {
		t.Error(err)
	}
	known := map[string]bool{}
	for _, r := range parse.Reasons() {
		known[r] = true
	}
	rejects, err := check.Rejects(ctx, s.cass)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rejects {
		if !known[r.Reason] {
			t.Errorf("unexpected reject reason %q at %d/%d", r.Reason, r.Partition, r.Offset)
		}
		// Every bad element keeps its text, also one inside a well-formed array.
		if strings.TrimSpace(r.Raw) == "" {
			t.Errorf("reject %q at %d/%d element %d has no raw text", r.Reason, r.Partition, r.Offset, r.Element)
		}
	}
	if err := j.Stop(t, syscall.SIGTERM, 3*time.Minute); err != nil {
		t.Fatalf("job did not exit 0 on SIGTERM: %v", err)
	}
}

// waitConsistent waits until every table the job writes holds exactly the trades.
func waitConsistent(t *testing.T, s *stack, j *testkit.Proc, ts []trade.Trade) {
	t.Helper()
	ctx := context.Background()
	testkit.Eventually(t, 8*time.Minute, fmt.Sprintf("all %d trades once in real_time_data", len(ts)), func() error {
		return check.Trades(ctx, s.cass, ts)
	}, j)
	testkit.Eventually(t, 2*time.Minute, "the same trades once in trades_by_ticker", func() error {
		return check.TradesByTicker(ctx, s.cass, ts, s.zone())
	}, j)
	testkit.Eventually(t, 5*time.Minute, "MySQL volume and trade count per (date, sector) equal to the trades'", func() error {
		return check.Totals(ctx, s.db, ts, s.zone())
	}, j)
}
