package sparkconnect_test

import (
	"encoding/json"
	"testing"
	"time"

	sc "idxstream/sparkconnect"
)

// progressJSON is a StreamingQueryProgress as Spark 3.5 renders it (trimmed).
const progressJSON = `{
  "id" : "00000000-0000-4000-8000-000000000001",
  "runId" : "00000000-0000-4000-9000-000000000001",
  "name" : "raw",
  "timestamp" : "2026-11-23T02:15:00.000Z",
  "batchId" : 3,
  "numInputRows" : 120,
  "inputRowsPerSecond" : 12.0,
  "processedRowsPerSecond" : 80.5,
  "durationMs" : { "addBatch" : 1200, "getBatch" : 3, "latestOffset" : 5, "triggerExecution" : 1490 },
  "stateOperators" : [ ],
  "sources" : [ {
    "description" : "KafkaV2[Subscribe[trading_data]]",
    "startOffset" : { "trading_data" : { "0" : 10, "1" : 20 } },
    "endOffset" : { "trading_data" : { "0" : 70, "1" : 80 } },
    "latestOffset" : { "trading_data" : { "0" : 70, "1" : 80 } },
    "numInputRows" : 120,
    "inputRowsPerSecond" : 12.0,
    "processedRowsPerSecond" : 80.5,
    "metrics" : { "avgOffsetsBehindLatest" : "0.0" }
  } ],
  "sink" : { "description" : "org.apache.spark.sql.cassandra", "numOutputRows" : -1 }
}`

// connectProgressJSON is progress as a Spark 3.5.7 Connect server sent it (captured from the
// integration test): no top-level row counts or rates, offsets as strings holding JSON.
const connectProgressJSON = `{"id":"35eced9c-ddd6-4673-91a6-b5797c430369","runId":"657ab651-734c-4ff6-8451-50c097e19d90","name":"q","timestamp":"2026-11-23T21:20:09.619Z","batchId":0,"batchDuration":3594,"durationMs":{"triggerExecution":3594,"queryPlanning":132,"getBatch":2,"commitOffsets":269,"latestOffset":396,"addBatch":2618,"walCommit":174},"eventTime":{},"stateOperators":[],"sources":[{"description":"KafkaV2[Subscribe[t]]","startOffset":null,"endOffset":"{\"t\":{\"0\":4}}","latestOffset":"{\"t\":{\"0\":4}}","numInputRows":4,"inputRowsPerSecond":0.0,"processedRowsPerSecond":1.1129660545353368,"metrics":{"minOffsetsBehindLatest":"0"}},{"description":"second","numInputRows":3,"inputRowsPerSecond":1.5,"processedRowsPerSecond":2}],"sink":{"description":"CassandraTable(...)","numOutputRows":4,"metrics":{}},"observedMetrics":{}}`

func TestProgressConnectServerShape(t *testing.T) {
	srv, s := newFake(t)
	ctx := ctxT(t)
	srv.Progress = []string{progressJSON, connectProgressJSON}
	q, err := s.ReadStream().Format("rate").Load().WriteStream().Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := q.RecentProgress(ctx)
	if err != nil || len(ps) != 2 {
		t.Fatalf("recent %v %v", ps, err)
	}
	p := ps[1]
	if p.NumInputRows != 7 || p.InputRowsPerSecond != 1.5 || p.ProcessedRowsPerSecond != 1.1129660545353368+2 || p.BatchDuration != 3594 || p.Sink.NumOutputRows != 4 {
		t.Fatalf("totals %+v", p)
	}
	if p.Sources[0].StartOffset != nil || string(p.Sources[0].EndOffset) != `{"t":{"0":4}}` || p.Sources[1].EndOffset != nil {
		t.Fatalf("offsets %q %q %q", p.Sources[0].StartOffset, p.Sources[0].EndOffset, p.Sources[1].EndOffset)
	}
	// Spark's own shape keeps its totals
	if ps[0].NumInputRows != 120 || ps[0].ProcessedRowsPerSecond != 80.5 {
		t.Fatalf("spark shape %+v", ps[0])
	}
}

func TestStreamingQueryLifecycle(t *testing.T) {
	srv, s := newFake(t)
	ctx := ctxT(t)
	srv.Progress = []string{progressJSON}
	q, err := s.ReadStream().Format("kafka").Option("subscribe", "trading_data").Load().
		WriteStream().Format("console").QueryName("raw").Trigger(sc.ProcessingTime(10 * time.Second)).Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if q.ID() == "" || q.RunID() == "" || q.Name() != "raw" {
		t.Fatalf("query %q %q %q", q.ID(), q.RunID(), q.Name())
	}
	st, err := q.Status(ctx)
	if err != nil || !st.IsActive {
		t.Fatalf("status %+v %v", st, err)
	}
	active, err := s.Streams().Active(ctx)
	if err != nil || len(active) != 1 || active[0].ID() != q.ID() || active[0].Name() != "raw" {
		t.Fatalf("active %v %v", active, err)
	}
	p, err := q.LastProgress(ctx)
	if err != nil || p == nil {
		t.Fatalf("last progress %v %v", p, err)
	}
	if p.BatchID != 3 || p.NumInputRows != 120 || p.InputRowsPerSecond != 12 || p.ProcessedRowsPerSecond != 80.5 ||
		p.DurationMs["triggerExecution"] != 1490 || p.Name != "raw" || !p.Timestamp.Equal(time.Date(2026, 11, 23, 2, 15, 0, 0, time.UTC)) {
		t.Fatalf("progress %+v", p)
	}
	var end map[string]map[string]int64
	if err := json.Unmarshal(p.Sources[0].EndOffset, &end); err != nil || end["trading_data"]["1"] != 80 {
		t.Fatalf("end offset %s %v", p.Sources[0].EndOffset, err)
	}
	if p.Sink.NumOutputRows != -1 {
		t.Fatalf("sink %+v", p.Sink)
	}
	recent, err := q.RecentProgress(ctx)
	if err != nil || len(recent) != 1 {
		t.Fatalf("recent %v %v", recent, err)
	}
	if ex, err := q.Exception(ctx); err != nil || ex != nil {
		t.Fatalf("exception %v %v", ex, err)
	}
	if done, err := q.AwaitTermination(ctx, 10*time.Millisecond); err != nil || done {
		t.Fatalf("await running: %v %v", done, err)
	}
	if err := q.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if done, err := q.AwaitTermination(ctx, time.Second); err != nil || !done {
		t.Fatalf("await stopped: %v %v", done, err)
	}
	if active, err := s.Streams().Active(ctx); err != nil || len(active) != 0 {
		t.Fatalf("active after stop %v %v", active, err)
	}
	if on, err := q.IsActive(ctx); err != nil || on {
		t.Fatalf("is active after stop: %v %v", on, err)
	}
}

func TestLastProgressBeforeFirstBatch(t *testing.T) {
	_, s := newFake(t)
	ctx := ctxT(t)
	q, err := s.ReadStream().Format("rate").Load().WriteStream().Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := q.LastProgress(ctx); err != nil || p != nil {
		t.Fatalf("progress %v %v", p, err)
	}
}
