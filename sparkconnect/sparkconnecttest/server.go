// Package sparkconnecttest provides an in-process fake Spark Connect server for unit tests of
// code that uses package sparkconnect, in the spirit of net/http/httptest.
//
// The fake speaks the real protocol over an in-memory gRPC connection (bufconn). It does not
// evaluate plans: tests decide what a root relation returns with Server.Query, and can inject
// failures with Server.FailNext and Server.CutStreamsAfter to exercise retries and
// reattachable execution. It keeps SQL conf per session, answers SqlCommand like Spark 3.5
// (commands eagerly, queries as a SQL relation), and tracks streaming queries started with
// WriteStreamOperationStart so that status, progress, stop and the active list behave like a
// server's. Every request is recorded, with the gRPC method path it came in on.
//
// The fake is registered under Spark's service path, /spark.connect.SparkConnectService/<Method>
// (connectpb.ServiceName), like a real server, so a client that reaches it reaches Spark too.
package sparkconnecttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"idxstream/sparkconnect/connectpb"
)

// Remote is a connection string to use with the fake; the host is never resolved.
const Remote = "sc://fake-spark:15002"

// Server is a fake Spark Connect server. Set its exported fields before the first request.
type Server struct {
	connectpb.UnimplementedSparkConnectServiceServer

	// Version is what AnalyzePlan spark_version answers (default "3.5.6").
	Version string
	// Query answers a root relation with rows (default: an UNIMPLEMENTED error).
	Query func(rel *connectpb.Relation) (arrow.RecordBatch, error)
	// Schema answers AnalyzePlan schema (default: an UNIMPLEMENTED error).
	Schema func(rel *connectpb.Relation) (*connectpb.DataType, error)
	// Command answers commands the fake does not handle itself (default: no result).
	Command func(cmd *connectpb.Command) ([]*connectpb.ExecutePlanResponse, error)
	// Progress is the progress JSON each started streaming query reports (oldest first).
	Progress []string

	lis  *bufconn.Listener
	grpc *grpc.Server

	mu         sync.Mutex
	requests   []proto.Message
	methods    []string
	headers    []metadata.MD
	faults     map[string][]error
	cutAfter   int
	conf       map[string]string
	queries    map[string]*query
	operations map[string]*operation
	released   []string
	nextQuery  int
}

type query struct {
	id, runID, name string
	active          bool
}

// operation is the buffered response stream of a reattachable execution.
type operation struct {
	responses []*connectpb.ExecutePlanResponse
}

// NewServer starts a fake server; Close stops it.
func NewServer() *Server {
	s := &Server{
		Version:    "3.5.6",
		lis:        bufconn.Listen(1 << 20),
		faults:     map[string][]error{},
		conf:       map[string]string{},
		queries:    map[string]*query{},
		operations: map[string]*operation{},
	}
	s.grpc = grpc.NewServer(
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			m, _ := grpc.Method(ctx)
			s.recordMethod(m)
			s.recordHeaders(ctx)
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			m, _ := grpc.MethodFromServerStream(ss)
			s.recordMethod(m)
			s.recordHeaders(ss.Context())
			return h(srv, ss)
		}),
	)
	connectpb.RegisterSparkConnectServiceServer(s.grpc, s)
	go func() { _ = s.grpc.Serve(s.lis) }()
	return s
}

// Close stops the server.
func (s *Server) Close() { s.grpc.Stop() }

// DialOptions connect a client to the fake; pass them to sparkconnect.WithDialOptions.
func (s *Server) DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}
}

// FailNext makes the next len(errs) calls of method ("ExecutePlan", "ReattachExecute",
// "AnalyzePlan", "Config", "Interrupt", "ReleaseExecute") fail with these errors, in order.
func (s *Server) FailNext(method string, errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], errs...)
}

// CutStreamsAfter ends every ExecutePlan/ReattachExecute stream after n responses without
// ResultComplete, as a Spark server does every 2 minutes, so that clients must reattach.
// 0 (the default) never cuts.
func (s *Server) CutStreamsAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cutAfter = n
}

// Requests returns copies of the requests received so far, in order.
func (s *Server) Requests() []proto.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]proto.Message, len(s.requests))
	for i, r := range s.requests {
		out[i] = proto.Clone(r)
	}
	return out
}

// Methods returns the gRPC method paths of the calls received so far, in order, as the client
// sent them on the wire (e.g. "/spark.connect.SparkConnectService/ExecutePlan").
func (s *Server) Methods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.methods...)
}

// Headers returns the gRPC metadata of every call so far, in order.
func (s *Server) Headers() []metadata.MD {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]metadata.MD(nil), s.headers...)
}

func (s *Server) recordHeaders(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	s.headers = append(s.headers, md.Copy())
	s.mu.Unlock()
}

func (s *Server) recordMethod(m string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.methods = append(s.methods, m)
}

// Released returns the operation ids released with ReleaseExecute.
func (s *Server) Released() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.released...)
}

// SparkError builds the gRPC error a Spark 3.5 server sends for an exception: code INTERNAL,
// the message with its "[ERROR_CLASS]" prefix, and ErrorInfo with the class hierarchy.
func SparkError(errorClass, message string, classes ...string) error {
	if len(classes) == 0 {
		classes = []string{"org.apache.spark.sql.AnalysisException"}
	}
	msg := message
	if errorClass != "" {
		msg = "[" + errorClass + "] " + message
	}
	st := status.New(codes.Internal, msg)
	cls := `["` + strings.Join(classes, `","`) + `"]`
	st, err := st.WithDetails(&errdetails.ErrorInfo{Reason: classes[0], Domain: "org.apache.spark", Metadata: map[string]string{"classes": cls}})
	if err != nil {
		panic(err)
	}
	return st.Err()
}

func (s *Server) record(method string, req proto.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, proto.Clone(req))
	if f := s.faults[method]; len(f) > 0 {
		s.faults[method] = f[1:]
		return f[0]
	}
	return nil
}

// AnalyzePlan implements the RPC.
func (s *Server) AnalyzePlan(_ context.Context, req *connectpb.AnalyzePlanRequest) (*connectpb.AnalyzePlanResponse, error) {
	if err := s.record("AnalyzePlan", req); err != nil {
		return nil, err
	}
	resp := &connectpb.AnalyzePlanResponse{SessionId: req.GetSessionId()}
	switch a := req.GetAnalyze().(type) {
	case *connectpb.AnalyzePlanRequest_SparkVersion_:
		resp.Result = &connectpb.AnalyzePlanResponse_SparkVersion_{SparkVersion: &connectpb.AnalyzePlanResponse_SparkVersion{Version: s.Version}}
	case *connectpb.AnalyzePlanRequest_Schema_:
		if s.Schema == nil {
			return nil, status.Error(codes.Unimplemented, "fake: no Schema function")
		}
		dt, err := s.Schema(a.Schema.GetPlan().GetRoot())
		if err != nil {
			return nil, err
		}
		resp.Result = &connectpb.AnalyzePlanResponse_Schema_{Schema: &connectpb.AnalyzePlanResponse_Schema{Schema: dt}}
	default:
		return nil, status.Errorf(codes.Unimplemented, "fake: analyze %T", a)
	}
	return resp, nil
}

// Config implements the RPC for set, get, get_option and unset.
func (s *Server) Config(_ context.Context, req *connectpb.ConfigRequest) (*connectpb.ConfigResponse, error) {
	if err := s.record("Config", req); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &connectpb.ConfigResponse{SessionId: req.GetSessionId()}
	op := req.GetOperation()
	switch {
	case op.GetSet() != nil:
		for _, p := range op.GetSet().GetPairs() {
			s.conf[p.GetKey()] = p.GetValue()
		}
	case op.GetGet() != nil:
		for _, k := range op.GetGet().GetKeys() {
			v, ok := s.conf[k]
			if !ok {
				return nil, SparkError("SQL_CONF_NOT_FOUND", fmt.Sprintf("The SQL config %q cannot be found.", k), "org.apache.spark.SparkNoSuchElementException")
			}
			resp.Pairs = append(resp.Pairs, &connectpb.KeyValue{Key: k, Value: &v})
		}
	case op.GetGetOption() != nil:
		for _, k := range op.GetGetOption().GetKeys() {
			kv := &connectpb.KeyValue{Key: k}
			if v, ok := s.conf[k]; ok {
				kv.Value = &v
			}
			resp.Pairs = append(resp.Pairs, kv)
		}
	case op.GetUnset() != nil:
		for _, k := range op.GetUnset().GetKeys() {
			delete(s.conf, k)
		}
	default:
		return nil, status.Error(codes.Unimplemented, "fake: config operation")
	}
	return resp, nil
}

// Interrupt implements the RPC; the fake runs nothing in the background, so it interrupts
// nothing.
func (s *Server) Interrupt(_ context.Context, req *connectpb.InterruptRequest) (*connectpb.InterruptResponse, error) {
	if err := s.record("Interrupt", req); err != nil {
		return nil, err
	}
	return &connectpb.InterruptResponse{SessionId: req.GetSessionId()}, nil
}

// ReleaseExecute implements the RPC.
func (s *Server) ReleaseExecute(_ context.Context, req *connectpb.ReleaseExecuteRequest) (*connectpb.ReleaseExecuteResponse, error) {
	if err := s.record("ReleaseExecute", req); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.released = append(s.released, req.GetOperationId())
	resp := &connectpb.ReleaseExecuteResponse{SessionId: req.GetSessionId()}
	if _, ok := s.operations[req.GetOperationId()]; ok {
		id := req.GetOperationId()
		resp.OperationId = &id
		if req.GetReleaseAll() != nil {
			delete(s.operations, id)
		}
	}
	return resp, nil
}

// ExecutePlan implements the RPC.
func (s *Server) ExecutePlan(req *connectpb.ExecutePlanRequest, stream grpc.ServerStreamingServer[connectpb.ExecutePlanResponse]) error {
	if err := s.record("ExecutePlan", req); err != nil {
		return err
	}
	opID := req.GetOperationId()
	if opID == "" {
		opID = fmt.Sprintf("op-%p", req)
	}
	resps, err := s.run(req)
	if err != nil {
		return err
	}
	reattachable := false
	for _, o := range req.GetRequestOptions() {
		reattachable = reattachable || o.GetReattachOptions().GetReattachable()
	}
	for i, r := range resps {
		r.SessionId = req.GetSessionId()
		r.OperationId = opID
		r.ResponseId = fmt.Sprintf("%s/%d", opID, i)
	}
	if !reattachable {
		for _, r := range resps {
			if err := stream.Send(r); err != nil {
				return err
			}
		}
		return nil
	}
	resps = append(resps, &connectpb.ExecutePlanResponse{SessionId: req.GetSessionId(), OperationId: opID,
		ResponseId:   fmt.Sprintf("%s/%d", opID, len(resps)),
		ResponseType: &connectpb.ExecutePlanResponse_ResultComplete_{ResultComplete: &connectpb.ExecutePlanResponse_ResultComplete{}}})
	s.mu.Lock()
	s.operations[opID] = &operation{responses: resps}
	s.mu.Unlock()
	return s.sendFrom(stream, opID, 0)
}

// ReattachExecute implements the RPC: it resumes after last_response_id.
func (s *Server) ReattachExecute(req *connectpb.ReattachExecuteRequest, stream grpc.ServerStreamingServer[connectpb.ExecutePlanResponse]) error {
	if err := s.record("ReattachExecute", req); err != nil {
		return err
	}
	s.mu.Lock()
	op, ok := s.operations[req.GetOperationId()]
	s.mu.Unlock()
	if !ok {
		return status.Errorf(codes.Internal, "[INVALID_HANDLE.OPERATION_NOT_FOUND] Operation %s not found", req.GetOperationId())
	}
	start := 0
	if last := req.GetLastResponseId(); last != "" {
		start = -1
		for i, r := range op.responses {
			if r.GetResponseId() == last {
				start = i + 1
			}
		}
		if start < 0 {
			return status.Errorf(codes.Internal, "[INVALID_CURSOR.POSITION_NOT_FOUND] response %s", last)
		}
	}
	return s.sendFrom(stream, req.GetOperationId(), start)
}

func (s *Server) sendFrom(stream grpc.ServerStreamingServer[connectpb.ExecutePlanResponse], opID string, start int) error {
	s.mu.Lock()
	op := s.operations[opID]
	cut := s.cutAfter
	s.mu.Unlock()
	sent := 0
	for i := start; i < len(op.responses); i++ {
		if cut > 0 && sent == cut {
			return nil // end of stream without ResultComplete: the client must reattach
		}
		if err := stream.Send(op.responses[i]); err != nil {
			return err
		}
		sent++
	}
	return nil
}

// run computes the responses of a plan.
func (s *Server) run(req *connectpb.ExecutePlanRequest) ([]*connectpb.ExecutePlanResponse, error) {
	if root := req.GetPlan().GetRoot(); root != nil {
		if s.Query == nil {
			return nil, status.Error(codes.Unimplemented, "fake: no Query function")
		}
		rec, err := s.Query(root)
		if err != nil {
			return nil, err
		}
		data, err := ArrowStream(rec)
		if err != nil {
			return nil, err
		}
		return []*connectpb.ExecutePlanResponse{
			{ResponseType: &connectpb.ExecutePlanResponse_ArrowBatch_{ArrowBatch: &connectpb.ExecutePlanResponse_ArrowBatch{RowCount: rec.NumRows(), Data: data}}},
			{Metrics: &connectpb.ExecutePlanResponse_Metrics{}},
		}, nil
	}
	cmd := req.GetPlan().GetCommand()
	switch c := cmd.GetCommandType().(type) {
	case *connectpb.Command_SqlCommand:
		return s.sql(c.SqlCommand)
	case *connectpb.Command_WriteStreamOperationStart:
		return s.startQuery(c.WriteStreamOperationStart), nil
	case *connectpb.Command_StreamingQueryCommand:
		return s.queryCommand(c.StreamingQueryCommand)
	case *connectpb.Command_StreamingQueryManagerCommand:
		return s.managerCommand(c.StreamingQueryManagerCommand)
	}
	if s.Command != nil {
		return s.Command(cmd)
	}
	return nil, nil
}

func (s *Server) sql(c *connectpb.SqlCommand) ([]*connectpb.ExecutePlanResponse, error) {
	q := strings.TrimSpace(c.GetSql())
	word := strings.ToUpper(strings.Fields(q + " x")[0])
	rel := &connectpb.Relation{RelType: &connectpb.Relation_Sql{Sql: &connectpb.SQL{Query: q, PosArgs: c.GetPosArgs(), Args: c.GetArgs()}}}
	switch word {
	case "SELECT", "WITH", "VALUES", "FROM", "TABLE":
	case "SELEC":
		return nil, SparkError("PARSE_SYNTAX_ERROR", "Syntax error at or near 'SELEC'.(line 1, pos 0)", "org.apache.spark.sql.catalyst.parser.ParseException")
	default:
		// a command: the fake "runs" it and returns its (empty) output as a local relation
		empty := []byte{}
		rel = &connectpb.Relation{RelType: &connectpb.Relation_LocalRelation{LocalRelation: &connectpb.LocalRelation{Data: empty}}}
	}
	return []*connectpb.ExecutePlanResponse{{ResponseType: &connectpb.ExecutePlanResponse_SqlCommandResult_{
		SqlCommandResult: &connectpb.ExecutePlanResponse_SqlCommandResult{Relation: rel}}}}, nil
}

func (s *Server) startQuery(w *connectpb.WriteStreamOperationStart) []*connectpb.ExecutePlanResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextQuery++
	q := &query{id: fmt.Sprintf("00000000-0000-4000-8000-%012d", s.nextQuery), runID: fmt.Sprintf("00000000-0000-4000-9000-%012d", s.nextQuery),
		name: w.GetQueryName(), active: true}
	s.queries[q.id] = q
	return []*connectpb.ExecutePlanResponse{{ResponseType: &connectpb.ExecutePlanResponse_WriteStreamOperationStartResult{
		WriteStreamOperationStartResult: &connectpb.WriteStreamOperationStartResult{
			QueryId: &connectpb.StreamingQueryInstanceId{Id: q.id, RunId: q.runID}, Name: q.name}}}}
}

func (s *Server) queryCommand(c *connectpb.StreamingQueryCommand) ([]*connectpb.ExecutePlanResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queries[c.GetQueryId().GetId()]
	if !ok || q.runID != c.GetQueryId().GetRunId() {
		return nil, SparkError("", "Streaming query "+c.GetQueryId().GetId()+" is not found", "java.lang.IllegalArgumentException")
	}
	res := &connectpb.StreamingQueryCommandResult{QueryId: c.GetQueryId()}
	switch c.GetCommand().(type) {
	case *connectpb.StreamingQueryCommand_Status:
		res.ResultType = &connectpb.StreamingQueryCommandResult_Status{Status: &connectpb.StreamingQueryCommandResult_StatusResult{
			StatusMessage: map[bool]string{true: "Waiting for data to arrive", false: "Stopped"}[q.active], IsActive: q.active}}
	case *connectpb.StreamingQueryCommand_LastProgress:
		var last []string
		if n := len(s.Progress); n > 0 {
			last = s.Progress[n-1:]
		}
		res.ResultType = &connectpb.StreamingQueryCommandResult_RecentProgress{RecentProgress: &connectpb.StreamingQueryCommandResult_RecentProgressResult{RecentProgressJson: last}}
	case *connectpb.StreamingQueryCommand_RecentProgress:
		res.ResultType = &connectpb.StreamingQueryCommandResult_RecentProgress{RecentProgress: &connectpb.StreamingQueryCommandResult_RecentProgressResult{RecentProgressJson: s.Progress}}
	case *connectpb.StreamingQueryCommand_Stop:
		q.active = false
	case *connectpb.StreamingQueryCommand_Exception:
		res.ResultType = &connectpb.StreamingQueryCommandResult_Exception{Exception: &connectpb.StreamingQueryCommandResult_ExceptionResult{}}
	case *connectpb.StreamingQueryCommand_AwaitTermination:
		res.ResultType = &connectpb.StreamingQueryCommandResult_AwaitTermination{AwaitTermination: &connectpb.StreamingQueryCommandResult_AwaitTerminationResult{Terminated: !q.active}}
	default:
		return nil, status.Error(codes.Unimplemented, "fake: streaming query command")
	}
	return []*connectpb.ExecutePlanResponse{{ResponseType: &connectpb.ExecutePlanResponse_StreamingQueryCommandResult{StreamingQueryCommandResult: res}}}, nil
}

func (s *Server) managerCommand(c *connectpb.StreamingQueryManagerCommand) ([]*connectpb.ExecutePlanResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.GetActive() {
		return nil, status.Error(codes.Unimplemented, "fake: streaming query manager command")
	}
	active := &connectpb.StreamingQueryManagerCommandResult_ActiveResult{}
	for _, q := range s.queries {
		if q.active {
			name := q.name
			active.ActiveQueries = append(active.ActiveQueries, &connectpb.StreamingQueryManagerCommandResult_StreamingQueryInstance{
				Id: &connectpb.StreamingQueryInstanceId{Id: q.id, RunId: q.runID}, Name: &name})
		}
	}
	return []*connectpb.ExecutePlanResponse{{ResponseType: &connectpb.ExecutePlanResponse_StreamingQueryManagerCommandResult{
		StreamingQueryManagerCommandResult: &connectpb.StreamingQueryManagerCommandResult{
			ResultType: &connectpb.StreamingQueryManagerCommandResult_Active{Active: active}}}}}, nil
}

// ArrowStream encodes a record batch as one Arrow IPC stream, the format of ArrowBatch.data.
func ArrowStream(rec arrow.RecordBatch) ([]byte, error) {
	if rec == nil {
		return nil, errors.New("fake: nil record batch")
	}
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
	if err := w.Write(rec); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
