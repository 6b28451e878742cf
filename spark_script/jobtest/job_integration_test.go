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

	"github.com/twmb/franz-go/pkg/kgo"

	"idxstream/spark_script/internal/fault"
	"idxstream/testkit"
	"idxstream/testkit/check"
	"idxstream/trade"
)

// element renders a JSON object from the fields of tr, with edits: a key mapped to a string is
// written as that raw JSON text (e.g. `"9000"` or `null`); a key mapped to "" is left out.
func element(tr trade.Trade, edits map[string]string) string {
	fields := []struct{ k, v string }{
		{"id", strconv.FormatInt(tr.ID, 10)}, {"ticker", strconv.Quote(tr.Ticker)},
		{"created_at", strconv.Quote(tr.CreatedAt.UTC().Format(trade.TimeLayout))},
		{"price", strconv.FormatFloat(tr.Price, 'f', -1, 64)}, {"market_cap", strconv.FormatFloat(tr.MarketCap, 'f', -1, 64)},
		{"volume", strconv.FormatInt(tr.Volume, 10)}, {"sector", strconv.Quote(tr.Sector)},
	}
	var b strings.Builder
	b.WriteByte('{')
	n := 0
	for _, f := range fields {
		v, edited := edits[f.k]
		if !edited {
			v = f.v
		}
		if v == "" {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(strconv.Quote(f.k) + ":" + v)
	}
	b.WriteByte('}')
	return b.String()
}

// malformed are records the job must reject without stopping, with the reason each must get, and
// records of unusual shape that the contract accepts (their trades are returned in accepted).
// base is a valid trade whose values the bad elements reuse (their ids are 1..99, never produced
// as trades); accepted trades take ids from firstID on.
func malformed(base trade.Trade, firstID int64) (values [][]byte, reasons map[string]int, accepted []trade.Trade) {
	bad := func(id int64, edits map[string]string) string {
		tr := base
		tr.ID = id
		return element(tr, edits)
	}
	huge := strconv.Quote(strings.Repeat("Financials ", 20000)) // a 220 kB sector: an oversized element
	recs := []struct{ value, reason string }{
		{`not json at all`, "record is not a JSON array"},
		{`{"id": 1, "ticker": "BBCA"}`, "record is not a JSON array"},
		{`["just a string"]`, "element is not a JSON object"},
		{`[` + bad(2, map[string]string{"price": ""}) + `]`, "missing price"},
		{`[` + bad(3, map[string]string{"price": "null"}) + `]`, "missing price"},
		{`[` + bad(0, map[string]string{"id": `"three"`}) + `]`, "id is not a positive integer"},
		{`[` + bad(0, map[string]string{"id": "1.5"}) + `]`, "id is not a positive integer"},
		{`[` + bad(0, map[string]string{"id": "-3"}) + `]`, "id is not a positive integer"},
		{`[` + bad(0, map[string]string{"id": "0"}) + `]`, "id is not a positive integer"},
		{`[` + bad(4, map[string]string{"price": `"abc"`}) + `]`, "price is not a finite number"},
		{`[` + bad(5, map[string]string{"price": "NaN"}) + `]`, "price is not a finite number"},
		{`[` + bad(6, map[string]string{"price": "Infinity"}) + `]`, "price is not a finite number"},
		{`[` + bad(7, map[string]string{"price": "-5"}) + `]`, "price is not a positive multiple of its IDX price fraction"},
		{`[` + bad(8, map[string]string{"price": "9001"}) + `]`, "price is not a positive multiple of its IDX price fraction"},
		{`[` + bad(9, map[string]string{"market_cap": "1"}) + `]`, "market_cap is not price times listed shares"},
		{`[` + bad(10, map[string]string{"market_cap": "-Infinity"}) + `]`, "market_cap is not a finite number"},
		{`[` + bad(11, map[string]string{"volume": "0"}) + `]`, "volume is not a positive multiple of the lot (100 shares)"},
		{`[` + bad(12, map[string]string{"volume": "150"}) + `]`, "volume is not a positive multiple of the lot (100 shares)"},
		{`[` + bad(13, map[string]string{"volume": "10.5"}) + `]`, "volume is not an integer"},
		{`[` + bad(14, map[string]string{"ticker": `"bca1"`}) + `]`, "ticker not listed in profile"},
		{`[` + bad(15, map[string]string{"ticker": `"TMAS.JK"`}) + `]`, "ticker not listed in profile"},
		{`[` + bad(16, map[string]string{"ticker": `" BBCA"`}) + `]`, "ticker not listed in profile"},
		{`[` + bad(17, map[string]string{"sector": strconv.Quote(strings.ToUpper(base.Sector))}) + `]`, "sector differs from the profile"},
		{`[` + bad(18, map[string]string{"sector": huge}) + `]`, "sector differs from the profile"},
		{`[` + bad(19, map[string]string{"sector": `""`}) + `]`, "sector differs from the profile"},
		{`[` + bad(20, map[string]string{"sector": ""}) + `]`, "missing sector"},
		{`[` + bad(21, map[string]string{"created_at": `"yesterday"`}) + `]`, "unparsable created_at"},
		{`[` + bad(22, map[string]string{"created_at": `"2026-13-01T00:00:00.000000Z"`}) + `]`, "unparsable created_at"},
		{`[` + bad(23, map[string]string{"created_at": `"2026-11-23T10:00:00.000000"`}) + `]`, "unparsable created_at"},
		{`[` + bad(24, map[string]string{"created_at": strconv.Quote(time.Now().UTC().Add(-3 * time.Hour).Format(trade.TimeLayout))}) + `]`,
			"created_at too far from the record time"},
		{`[` + bad(25, map[string]string{"created_at": strconv.Quote(time.Now().UTC().Add(3 * time.Hour).Format(trade.TimeLayout))}) + `]`,
			"created_at too far from the record time"},
		{`[]`, ""}, // an empty array carries no trades: neither a trade nor a reject
	}
	reasons = map[string]int{}
	for _, r := range recs {
		values = append(values, []byte(r.value))
		if r.reason != "" {
			reasons[r.reason]++
		}
	}
	// Good elements in a record with bad ones, and shapes the contract accepts on purpose: numbers
	// sent as JSON strings (from_json cannot tell them apart, and their text must still be exact),
	// a record and elements with leading whitespace, a key given twice (the last value counts, as
	// in Spark's JSON reader), a time with another zone.
	next := func() trade.Trade {
		tr := base
		tr.ID = firstID + int64(len(accepted))
		accepted = append(accepted, tr)
		return tr
	}
	g1, g2 := next(), next()
	values = append(values, []byte(`[`+element(g1, nil)+`, {"id": 26}, "text", `+element(g2, nil)+`]`))
	reasons["missing ticker"]++
	reasons["element is not a JSON object"]++
	g3 := next()
	values = append(values, []byte(" \n\t["+element(g3, map[string]string{"price": strconv.Quote(strconv.FormatFloat(g3.Price, 'f', -1, 64)),
		"volume": strconv.Quote(strconv.FormatInt(g3.Volume, 10))})+"]"))
	g4 := next()
	dup := element(g4, nil)
	dup = `{"volume": 999999900, ` + dup[1:] // the later volume (g4's) wins
	g5 := next()
	jakarta := g5.CreatedAt.In(time.FixedZone("WIB", 7*3600)).Format("2006-01-02T15:04:05.000000-07:00")
	values = append(values, []byte(`[ `+dup+`,  `+element(g5, map[string]string{"created_at": strconv.Quote(jakarta)})+`]`))
	return values, reasons, accepted
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

	// The valid trades inside the malformed records are part of what must arrive.
	bad, wantReasons, odd := malformed(all[0], int64(len(all)+1))

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
	// In the middle of the stream: right after the raw path's first micro-batch with rows of this
	// run committed, before the aggregate path read it.
	killedAt(fault.RawProgress, 1, func() { s.produce(t, topic, second, 40) })
	// Right after planning an aggregate batch, before any of its rows is written.
	killedAt(fault.AggPlanned, 1, func() { s.produce(t, topic, third, 60) })

	j := s.startJob(t, topic)
	received := append(append(append([]trade.Trade{}, first...), second...), third...)
	received = append(received, odd...)
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
	for _, r := range trade.Reasons() {
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

// TestCopiesAreCountedOnce re-sends a tenth of 12 000 trades unchanged (as an at-least-once
// producer does after a timeout) and sends conflicting copies (same id, other values), before and
// after the job is killed between staging a batch and settling it. Every table must hold the first
// copy of each trade once, MySQL must count each trade once, and each conflicting copy must be in
// rejects with its reason and text.
func TestCopiesAreCountedOnce(t *testing.T) {
	s := connect(t)
	topic := s.newTopic(t, 3)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	all := makeTrades(12000, rng)
	first, second := all[:6000], all[6000:]

	resend := func(from []trade.Trade, n int) []trade.Trade {
		out := make([]trade.Trade, n)
		for i := range out {
			out[i] = from[rng.IntN(len(from))]
		}
		return out
	}
	// A conflicting copy changes values the tables keep: volume always, and for some the time
	// (which moves the trade's row in trades_by_ticker).
	conflicting := func(from []trade.Trade, n int) []trade.Trade {
		out := make([]trade.Trade, n)
		for i, k := range rng.Perm(len(from))[:n] {
			c := from[k]
			c.Volume += trade.Lot
			if i%2 == 0 {
				c.CreatedAt = c.CreatedAt.Add(-37 * time.Second)
			}
			out[i] = c
		}
		return out
	}
	conflicts := 0
	s.produce(t, topic, first, 50)
	s.produce(t, topic, resend(first, 600), 30)
	c1 := conflicting(first, 20)
	s.produce(t, topic, c1, 10)
	conflicts += len(c1)
	// The job stages its first batch (with copies of the same trades in it), then dies before
	// settling it; the next run must settle the same range once.
	j := s.startJob(t, topic, "JOB_FAULT="+string(fault.AggWritten))
	if err := j.Wait(t, 6*time.Minute); err == nil || !strings.Contains(j.Output(), "fault: killing the job at "+string(fault.AggWritten)) {
		t.Fatalf("the job did not die at %s (err %v):\n%s", fault.AggWritten, err, j.Tail(40))
	}

	j = s.startJob(t, topic)
	s.produce(t, topic, second, 50)
	s.produce(t, topic, resend(all, 600), 30)
	c2 := conflicting(all, 20)
	s.produce(t, topic, c2, 10)
	conflicts += len(c2)
	// Two copies of one new trade in one record, the second with other values: the first stays.
	extra := makeTradesFrom(int64(len(all)+1), 1, rng)[0]
	other := extra
	other.Volume += 2 * trade.Lot
	s.produce(t, topic, []trade.Trade{extra, other}, 2)
	conflicts++
	want := append(append([]trade.Trade{}, all...), extra)
	waitConsistent(t, s, j, want)

	ctx := context.Background()
	testkit.Eventually(t, 2*time.Minute, "every conflicting copy in rejects", func() error {
		return check.RejectReasons(ctx, s.cass, map[string]int{trade.ReasonConflict: conflicts})
	}, j)
	rejects, err := check.Rejects(ctx, s.cass)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rejects {
		if !strings.Contains(r.Raw, `"id":`) {
			t.Errorf("reject at %d/%d element %d keeps no text of the copy: %q", r.Partition, r.Offset, r.Element, r.Raw)
		}
	}
	// The ledger's totals agree with the tables: everything was settled, nothing staged is left.
	var staged int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM agg_stage`).Scan(&staged); err != nil || staged != 0 {
		t.Errorf("agg_stage holds %d rows after every batch settled (err %v)", staged, err)
	}
	if err := j.Stop(t, syscall.SIGTERM, 3*time.Minute); err != nil {
		t.Fatalf("job did not exit 0 on SIGTERM: %v", err)
	}
}

// TestSparkConnectRestart restarts the Spark servers (the Connect server, which is the job's
// driver, with them) while the job runs and trades keep arriving: the job must notice, open a
// new session and resume both paths from their checkpoints and batch log, without exiting,
// losing or doubling anything.
func TestSparkConnectRestart(t *testing.T) {
	s := connect(t)
	topic := s.newTopic(t, 3)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 17))
	all := makeTrades(6000, rng)
	before, during := all[:3000], all[3000:]
	s.produce(t, topic, before, 50)
	j := s.startJob(t, topic)
	waitConsistent(t, s, j, before)

	t.Log("restarting the Spark servers while the job runs")
	s.produce(t, topic, during[:1500], 50)
	testkit.StackCmd(t, "restart", "spark")
	s.produce(t, topic, during[1500:], 50)
	waitConsistent(t, s, j, all)
	if !strings.Contains(j.Output(), "opening a new session") {
		t.Errorf("the job did not say that it opened a new session:\n%s", j.Tail(40))
	}
	if err := j.Stop(t, syscall.SIGTERM, 3*time.Minute); err != nil {
		t.Fatalf("job did not exit 0 on SIGTERM: %v", err)
	}
}

// TestRecreatedTopic deletes the job's topic while the job runs and creates it again with fewer
// records than the job has read: the job must stop with an error that names the cause, instead of
// skipping the new topic's first records.
func TestRecreatedTopic(t *testing.T) {
	s := connect(t)
	topic := s.newTopic(t, 2)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 19))
	all := makeTrades(2000, rng)
	s.produce(t, topic, all, 10)
	j := s.startJob(t, topic)
	waitConsistent(t, s, j, all)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adm := s.ns.Admin(t)
	if _, err := adm.DeleteTopic(ctx, topic); err != nil {
		t.Fatalf("delete %s: %v", topic, err)
	}
	testkit.Eventually(t, time.Minute, "the topic created again", func() error {
		resp, err := adm.CreateTopic(ctx, 2, 1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		return err
	})
	// A new client: the old one caches the deleted topic's id.
	fresh := s.ns.Kafka(t)
	value := trade.AppendBatch(nil, makeTradesFrom(5000, 20, rng))
	testkit.Eventually(t, time.Minute, "a record produced to the new topic", func() error {
		pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return fresh.ProduceSync(pctx, &kgo.Record{Topic: topic, Value: value}).FirstErr()
	})
	if err := j.Wait(t, 5*time.Minute); err == nil {
		t.Fatal("the job exited 0 on a recreated topic")
	}
	if !strings.Contains(j.Output(), "the topic was recreated or truncated") {
		t.Fatalf("the job did not say that the topic was recreated:\n%s", j.Tail(30))
	}
}
