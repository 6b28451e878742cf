package sparkconnect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"idxstream/sparkconnect/connectpb"
)

// OutputMode says what a streaming query writes to its sink each trigger (PySpark outputMode).
type OutputMode string

// Output modes.
const (
	OutputModeAppend   OutputMode = "append"
	OutputModeComplete OutputMode = "complete"
	OutputModeUpdate   OutputMode = "update"
)

// Trigger says when a streaming query runs a micro-batch (PySpark trigger()). Build it with
// ProcessingTime, AvailableNow, Once or Continuous; the zero value is Spark's default (as fast
// as possible).
type Trigger struct {
	kind     triggerKind
	interval time.Duration
}

type triggerKind int

const (
	triggerDefault triggerKind = iota
	triggerProcessingTime
	triggerAvailableNow
	triggerOnce
	triggerContinuous
)

// ProcessingTime runs a micro-batch every interval (Trigger.ProcessingTime).
func ProcessingTime(interval time.Duration) Trigger {
	return Trigger{kind: triggerProcessingTime, interval: interval}
}

// AvailableNow processes all data available at start in one or more batches, then stops
// (Trigger.AvailableNow).
func AvailableNow() Trigger { return Trigger{kind: triggerAvailableNow} }

// Once processes all available data in one batch, then stops (Trigger.Once).
func Once() Trigger { return Trigger{kind: triggerOnce} }

// Continuous runs in continuous mode, checkpointing every interval (Trigger.Continuous).
func Continuous(interval time.Duration) Trigger {
	return Trigger{kind: triggerContinuous, interval: interval}
}

// intervalString renders d in Spark's interval syntax, e.g. "10 seconds" or "1500 milliseconds".
func intervalString(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d seconds", d/time.Second)
	}
	return fmt.Sprintf("%d milliseconds", d/time.Millisecond)
}

// WriteStream returns a writer that starts a streaming query on the DataFrame (PySpark
// df.writeStream). The DataFrame must read a streaming source.
func (df *DataFrame) WriteStream() *DataStreamWriter { return &DataStreamWriter{df: df} }

// DataStreamWriter builds a streaming query (PySpark DataStreamWriter). Its methods change and
// return the same writer; it is not safe for concurrent use.
type DataStreamWriter struct {
	df          *DataFrame
	format      string
	options     map[string]string
	outputMode  OutputMode
	trigger     Trigger
	queryName   string
	partitionBy []string
}

// Format sets the sink format, e.g. "org.apache.spark.sql.cassandra", "kafka", "console".
func (w *DataStreamWriter) Format(f string) *DataStreamWriter { w.format = f; return w }

// Option sets one sink option; the checkpoint directory is the option "checkpointLocation".
func (w *DataStreamWriter) Option(key, value string) *DataStreamWriter {
	if w.options == nil {
		w.options = map[string]string{}
	}
	w.options[key] = value
	return w
}

// Options sets several sink options.
func (w *DataStreamWriter) Options(opts map[string]string) *DataStreamWriter {
	for k, v := range opts {
		w.Option(k, v)
	}
	return w
}

// OutputMode sets the output mode (default append).
func (w *DataStreamWriter) OutputMode(m OutputMode) *DataStreamWriter { w.outputMode = m; return w }

// Trigger sets the trigger.
func (w *DataStreamWriter) Trigger(t Trigger) *DataStreamWriter { w.trigger = t; return w }

// QueryName names the query (unique among the active queries of the session).
func (w *DataStreamWriter) QueryName(name string) *DataStreamWriter { w.queryName = name; return w }

// PartitionBy sets the partition columns of file sinks.
func (w *DataStreamWriter) PartitionBy(cols ...string) *DataStreamWriter {
	w.partitionBy = cols
	return w
}

func (w *DataStreamWriter) operation() *connectpb.WriteStreamOperationStart {
	op := &connectpb.WriteStreamOperationStart{
		Input:                   w.df.rel,
		Format:                  w.format,
		Options:                 w.options,
		PartitioningColumnNames: w.partitionBy,
		OutputMode:              string(w.outputMode),
		QueryName:               w.queryName,
	}
	switch w.trigger.kind {
	case triggerProcessingTime:
		op.Trigger = &connectpb.WriteStreamOperationStart_ProcessingTimeInterval{ProcessingTimeInterval: intervalString(w.trigger.interval)}
	case triggerAvailableNow:
		op.Trigger = &connectpb.WriteStreamOperationStart_AvailableNow{AvailableNow: true}
	case triggerOnce:
		op.Trigger = &connectpb.WriteStreamOperationStart_Once{Once: true}
	case triggerContinuous:
		op.Trigger = &connectpb.WriteStreamOperationStart_ContinuousCheckpointInterval{ContinuousCheckpointInterval: intervalString(w.trigger.interval)}
	}
	return op
}

// Start starts the query, writing to path if given (PySpark start).
func (w *DataStreamWriter) Start(ctx context.Context, path ...string) (*StreamingQuery, error) {
	op := w.operation()
	switch len(path) {
	case 0:
	case 1:
		op.SinkDestination = &connectpb.WriteStreamOperationStart_Path{Path: path[0]}
	default:
		return nil, fmt.Errorf("start streaming query: at most one path, got %d", len(path))
	}
	return w.start(ctx, op)
}

// ToTable starts the query writing to table name (PySpark toTable).
func (w *DataStreamWriter) ToTable(ctx context.Context, name string) (*StreamingQuery, error) {
	op := w.operation()
	op.SinkDestination = &connectpb.WriteStreamOperationStart_TableName{TableName: name}
	return w.start(ctx, op)
}

func (w *DataStreamWriter) start(ctx context.Context, op *connectpb.WriteStreamOperationStart) (*StreamingQuery, error) {
	s := w.df.s
	resps, err := s.executeCommand(ctx, &connectpb.Command{CommandType: &connectpb.Command_WriteStreamOperationStart{WriteStreamOperationStart: op}})
	if err != nil {
		return nil, fmt.Errorf("start streaming query %q: %w", w.queryName, err)
	}
	res, err := firstResult(resps, (*connectpb.ExecutePlanResponse).GetWriteStreamOperationStartResult)
	if err != nil {
		return nil, fmt.Errorf("start streaming query %q: %w", w.queryName, err)
	}
	return &StreamingQuery{s: s, id: res.GetQueryId().GetId(), runID: res.GetQueryId().GetRunId(), name: res.GetName()}, nil
}

// StreamingQuery is a handle to a streaming query of the session (PySpark StreamingQuery).
// Queries belong to the Spark Connect session that started them: other sessions cannot see
// them, and the server stops them when the session expires.
type StreamingQuery struct {
	s               *Session
	id, runID, name string
}

// ID is the query id, stable across restarts from the same checkpoint.
func (q *StreamingQuery) ID() string { return q.id }

// RunID is the id of this run of the query.
func (q *StreamingQuery) RunID() string { return q.runID }

// Name is the query name ("" when unnamed).
func (q *StreamingQuery) Name() string { return q.name }

func (q *StreamingQuery) command(ctx context.Context, what string, c *connectpb.StreamingQueryCommand) (*connectpb.StreamingQueryCommandResult, error) {
	c.QueryId = &connectpb.StreamingQueryInstanceId{Id: q.id, RunId: q.runID}
	resps, err := q.s.executeCommand(ctx, &connectpb.Command{CommandType: &connectpb.Command_StreamingQueryCommand{StreamingQueryCommand: c}})
	if err != nil {
		return nil, fmt.Errorf("streaming query %s: %s: %w", q.id, what, err)
	}
	res, err := firstResult(resps, (*connectpb.ExecutePlanResponse).GetStreamingQueryCommandResult)
	if err != nil {
		return nil, fmt.Errorf("streaming query %s: %s: %w", q.id, what, err)
	}
	return res, nil
}

// QueryStatus is the current state of a query (PySpark StreamingQuery.status).
type QueryStatus struct {
	Message         string
	IsDataAvailable bool
	IsTriggerActive bool
	IsActive        bool
}

// Status returns the query's status.
func (q *StreamingQuery) Status(ctx context.Context) (QueryStatus, error) {
	res, err := q.command(ctx, "status", &connectpb.StreamingQueryCommand{Command: &connectpb.StreamingQueryCommand_Status{Status: true}})
	if err != nil {
		return QueryStatus{}, err
	}
	st := res.GetStatus()
	return QueryStatus{Message: st.GetStatusMessage(), IsDataAvailable: st.GetIsDataAvailable(),
		IsTriggerActive: st.GetIsTriggerActive(), IsActive: st.GetIsActive()}, nil
}

// IsActive reports whether the query is running.
func (q *StreamingQuery) IsActive(ctx context.Context) (bool, error) {
	st, err := q.Status(ctx)
	return st.IsActive, err
}

// LastProgress returns the progress of the latest micro-batch, or nil before the first one.
func (q *StreamingQuery) LastProgress(ctx context.Context) (*Progress, error) {
	res, err := q.command(ctx, "last progress", &connectpb.StreamingQueryCommand{Command: &connectpb.StreamingQueryCommand_LastProgress{LastProgress: true}})
	if err != nil {
		return nil, err
	}
	// the server answers last_progress in the recent_progress arm, with 0 or 1 entries
	ps, err := parseProgress(res.GetRecentProgress().GetRecentProgressJson())
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return &ps[len(ps)-1], nil
}

// RecentProgress returns the progress of the recent micro-batches, oldest first
// (spark.sql.streaming.numRecentProgressUpdates are kept).
func (q *StreamingQuery) RecentProgress(ctx context.Context) ([]Progress, error) {
	res, err := q.command(ctx, "recent progress", &connectpb.StreamingQueryCommand{Command: &connectpb.StreamingQueryCommand_RecentProgress{RecentProgress: true}})
	if err != nil {
		return nil, err
	}
	return parseProgress(res.GetRecentProgress().GetRecentProgressJson())
}

// Stop stops the query and waits until it has stopped.
func (q *StreamingQuery) Stop(ctx context.Context) error {
	_, err := q.command(ctx, "stop", &connectpb.StreamingQueryCommand{Command: &connectpb.StreamingQueryCommand_Stop{Stop: true}})
	if err != nil && !isNoResult(err) {
		return err
	}
	return nil
}

// ProcessAllAvailable blocks until all data available at the call has been processed (for
// tests; PySpark processAllAvailable).
func (q *StreamingQuery) ProcessAllAvailable(ctx context.Context) error {
	_, err := q.command(ctx, "process all available", &connectpb.StreamingQueryCommand{Command: &connectpb.StreamingQueryCommand_ProcessAllAvailable{ProcessAllAvailable: true}})
	if err != nil && !isNoResult(err) {
		return err
	}
	return nil
}

// awaitSlice bounds one await_termination call, so that no single RPC blocks for long.
const awaitSlice = 30 * time.Second

// AwaitTermination waits until the query terminates or timeout passes (timeout <= 0: until ctx
// ends) and reports whether it terminated. A query that failed returns its exception as error.
func (q *StreamingQuery) AwaitTermination(ctx context.Context, timeout time.Duration) (bool, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		slice := awaitSlice
		if !deadline.IsZero() {
			slice = min(slice, time.Until(deadline))
		}
		ms := max(slice.Milliseconds(), 0)
		res, err := q.command(ctx, "await termination", &connectpb.StreamingQueryCommand{Command: &connectpb.StreamingQueryCommand_AwaitTermination{
			AwaitTermination: &connectpb.StreamingQueryCommand_AwaitTerminationCommand{TimeoutMs: &ms}}})
		if err != nil {
			return false, err
		}
		if res.GetAwaitTermination().GetTerminated() {
			return true, nil
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return false, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
	}
}

// QueryException is the failure of a streaming query (PySpark StreamingQueryException).
type QueryException struct {
	Message    string
	ErrorClass string
	StackTrace string
}

func (e *QueryException) Error() string { return "streaming query failed: " + e.Message }

// Exception returns the query's failure, or nil when it has not failed.
func (q *StreamingQuery) Exception(ctx context.Context) (*QueryException, error) {
	res, err := q.command(ctx, "exception", &connectpb.StreamingQueryCommand{Command: &connectpb.StreamingQueryCommand_Exception{Exception: true}})
	if err != nil {
		return nil, err
	}
	ex := res.GetException()
	if ex == nil || ex.ExceptionMessage == nil {
		return nil, nil
	}
	return &QueryException{Message: ex.GetExceptionMessage(), ErrorClass: ex.GetErrorClass(), StackTrace: ex.GetStackTrace()}, nil
}

// Explain returns the query's plan.
func (q *StreamingQuery) Explain(ctx context.Context, extended bool) (string, error) {
	res, err := q.command(ctx, "explain", &connectpb.StreamingQueryCommand{Command: &connectpb.StreamingQueryCommand_Explain{
		Explain: &connectpb.StreamingQueryCommand_ExplainCommand{Extended: extended}}})
	if err != nil {
		return "", err
	}
	return res.GetExplain().GetResult(), nil
}

func isNoResult(err error) bool { return errors.Is(err, errNoResult) }

// Progress is one StreamingQueryProgress (PySpark lastProgress), parsed from the JSON the
// server sends. NumInputRows and the rates are totals over the sources (a Spark 3.5 Connect
// server sends them only per source; they are summed then). Raw keeps the whole JSON for fields
// not mapped here.
type Progress struct {
	ID        string    `json:"id"`
	RunID     string    `json:"runId"`
	Name      string    `json:"name"`
	Timestamp time.Time `json:"timestamp"`
	BatchID   int64     `json:"batchId"`
	// BatchDuration is the wall time of the batch in milliseconds.
	BatchDuration          int64             `json:"batchDuration"`
	NumInputRows           int64             `json:"numInputRows"`
	InputRowsPerSecond     float64           `json:"inputRowsPerSecond"`
	ProcessedRowsPerSecond float64           `json:"processedRowsPerSecond"`
	DurationMs             map[string]int64  `json:"durationMs"`
	EventTime              map[string]string `json:"eventTime"`
	Sources                []SourceProgress  `json:"sources"`
	Sink                   SinkProgress      `json:"sink"`
	Raw                    json.RawMessage   `json:"-"`
}

// SourceProgress is the progress of one source in a batch. Offsets are the source's own JSON
// (Kafka: {"topic":{"0":12,"1":7}}), nil when absent (StartOffset of the first batch).
type SourceProgress struct {
	Description            string            `json:"description"`
	StartOffset            json.RawMessage   `json:"startOffset"`
	EndOffset              json.RawMessage   `json:"endOffset"`
	LatestOffset           json.RawMessage   `json:"latestOffset"`
	NumInputRows           int64             `json:"numInputRows"`
	InputRowsPerSecond     float64           `json:"inputRowsPerSecond"`
	ProcessedRowsPerSecond float64           `json:"processedRowsPerSecond"`
	Metrics                map[string]string `json:"metrics"`
}

// SinkProgress is the progress of the sink in a batch; NumOutputRows is -1 when the sink does
// not report it.
type SinkProgress struct {
	Description   string            `json:"description"`
	NumOutputRows int64             `json:"numOutputRows"`
	Metrics       map[string]string `json:"metrics"`
}

// parseProgress parses progress JSON in both shapes seen from servers: Spark's own
// StreamingQueryProgress.json (top-level numInputRows and rates, offsets as JSON objects) and the
// form a Spark 3.5 Connect server sends, which omits the top-level row counts and rates and
// carries each offset as a string holding JSON. Missing totals are summed from the sources and
// offsets are always returned as JSON (nil when the source had none).
func parseProgress(js []string) ([]Progress, error) {
	out := make([]Progress, 0, len(js))
	for _, j := range js {
		var p Progress
		if err := json.Unmarshal([]byte(j), &p); err != nil {
			return nil, fmt.Errorf("parse streaming progress: %w", err)
		}
		var present map[string]json.RawMessage
		if err := json.Unmarshal([]byte(j), &present); err != nil {
			return nil, fmt.Errorf("parse streaming progress: %w", err)
		}
		for i := range p.Sources {
			src := &p.Sources[i]
			src.StartOffset = unquoteJSON(src.StartOffset)
			src.EndOffset = unquoteJSON(src.EndOffset)
			src.LatestOffset = unquoteJSON(src.LatestOffset)
		}
		if _, ok := present["numInputRows"]; !ok {
			for _, src := range p.Sources {
				p.NumInputRows += src.NumInputRows
			}
		}
		if _, ok := present["inputRowsPerSecond"]; !ok {
			for _, src := range p.Sources {
				p.InputRowsPerSecond += src.InputRowsPerSecond
			}
		}
		if _, ok := present["processedRowsPerSecond"]; !ok {
			for _, src := range p.Sources {
				p.ProcessedRowsPerSecond += src.ProcessedRowsPerSecond
			}
		}
		p.Raw = json.RawMessage(j)
		out = append(out, p)
	}
	return out, nil
}

// unquoteJSON turns an offset sent as a JSON string holding JSON into that JSON; JSON null
// becomes nil; other values are returned as they are.
func unquoteJSON(m json.RawMessage) json.RawMessage {
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	if m[0] != '"' {
		return m
	}
	var s string
	if err := json.Unmarshal(m, &s); err != nil || !json.Valid([]byte(s)) {
		return m
	}
	return json.RawMessage(s)
}

// StreamingQueryManager manages the session's streaming queries (PySpark spark.streams).
type StreamingQueryManager struct{ s *Session }

// Streams returns the session's streaming query manager.
func (s *Session) Streams() StreamingQueryManager { return StreamingQueryManager{s} }

func (m StreamingQueryManager) command(ctx context.Context, what string, c *connectpb.StreamingQueryManagerCommand) (*connectpb.StreamingQueryManagerCommandResult, error) {
	resps, err := m.s.executeCommand(ctx, &connectpb.Command{CommandType: &connectpb.Command_StreamingQueryManagerCommand{StreamingQueryManagerCommand: c}})
	if err != nil {
		return nil, fmt.Errorf("streams: %s: %w", what, err)
	}
	res, err := firstResult(resps, (*connectpb.ExecutePlanResponse).GetStreamingQueryManagerCommandResult)
	if err != nil {
		return nil, fmt.Errorf("streams: %s: %w", what, err)
	}
	return res, nil
}

// Active returns the active queries of this session.
func (m StreamingQueryManager) Active(ctx context.Context) ([]*StreamingQuery, error) {
	res, err := m.command(ctx, "active", &connectpb.StreamingQueryManagerCommand{Command: &connectpb.StreamingQueryManagerCommand_Active{Active: true}})
	if err != nil {
		return nil, err
	}
	var out []*StreamingQuery
	for _, q := range res.GetActive().GetActiveQueries() {
		out = append(out, &StreamingQuery{s: m.s, id: q.GetId().GetId(), runID: q.GetId().GetRunId(), name: q.GetName()})
	}
	return out, nil
}

// Get returns the active query with the given id, or nil when there is none.
func (m StreamingQueryManager) Get(ctx context.Context, id string) (*StreamingQuery, error) {
	qs, err := m.Active(ctx)
	if err != nil {
		return nil, err
	}
	for _, q := range qs {
		if q.id == id {
			return q, nil
		}
	}
	return nil, nil
}

// AwaitAnyTermination waits until any query of the session terminates or timeout passes
// (timeout must be > 0) and reports whether one did.
func (m StreamingQueryManager) AwaitAnyTermination(ctx context.Context, timeout time.Duration) (bool, error) {
	ms := timeout.Milliseconds()
	res, err := m.command(ctx, "await any termination", &connectpb.StreamingQueryManagerCommand{Command: &connectpb.StreamingQueryManagerCommand_AwaitAnyTermination{
		AwaitAnyTermination: &connectpb.StreamingQueryManagerCommand_AwaitAnyTerminationCommand{TimeoutMs: &ms}}})
	if err != nil {
		return false, err
	}
	return res.GetAwaitAnyTermination().GetTerminated(), nil
}

// ResetTerminated forgets past terminated queries, so that AwaitAnyTermination waits for new
// terminations.
func (m StreamingQueryManager) ResetTerminated(ctx context.Context) error {
	_, err := m.command(ctx, "reset terminated", &connectpb.StreamingQueryManagerCommand{Command: &connectpb.StreamingQueryManagerCommand_ResetTerminated{ResetTerminated: true}})
	return err
}
