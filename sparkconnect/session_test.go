package sparkconnect_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	sc "idxstream/sparkconnect"
	"idxstream/sparkconnect/connectpb"
	"idxstream/sparkconnect/sparkconnecttest"
)

// idsRecord is a batch with one bigint column "id" holding 0..n-1.
func idsRecord(n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.NewGoAllocator(), arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil))
	defer b.Release()
	for i := 0; i < n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
	}
	return b.NewRecordBatch()
}

func requestsOf[T proto.Message](reqs []proto.Message) []T {
	var out []T
	for _, r := range reqs {
		if v, ok := r.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func TestSessionIdentityOnEveryRequest(t *testing.T) {
	srv, s := newFake(t, sc.WithClientType("unit-test"))
	ctx := ctxT(t)
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) { return idsRecord(1), nil }
	if _, err := s.SparkVersion(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Conf().Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Table("t").Collect(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) < 4 { // analyze, config, execute, release
		t.Fatalf("%d requests", len(reqs))
	}
	type envelope interface {
		GetSessionId() string
		GetUserContext() *connectpb.UserContext
		GetClientType() string
	}
	for _, r := range reqs {
		e := r.(envelope)
		if e.GetSessionId() != s.SessionID() || e.GetUserContext().GetUserId() != "tester" || e.GetClientType() != "unit-test" {
			t.Errorf("%T: session %q user %q client %q", r, e.GetSessionId(), e.GetUserContext().GetUserId(), e.GetClientType())
		}
	}
	ex := requestsOf[*connectpb.ExecutePlanRequest](reqs)[0]
	if !ex.GetRequestOptions()[0].GetReattachOptions().GetReattachable() || len(ex.GetOperationId()) != 36 {
		t.Errorf("execute request not reattachable with an operation id: %v", ex)
	}
}

func TestConnectDefaults(t *testing.T) {
	s, err := sc.Connect("sc://h/;user_id=alice")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.UserID() != "alice" || len(s.SessionID()) != 36 {
		t.Fatalf("user %q session %q", s.UserID(), s.SessionID())
	}
	if _, err := sc.Connect("sc://h", sc.WithSessionID("not-a-uuid")); err == nil {
		t.Fatal("bad session id accepted")
	}
	if _, err := sc.Connect("http://h"); err == nil {
		t.Fatal("bad remote accepted")
	}
}

func TestCollectAndReleaseExecute(t *testing.T) {
	srv, s := newFake(t)
	ctx := ctxT(t)
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) { return idsRecord(5), nil }
	rows, err := s.Table("t").Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[4].At(0) != int64(4) {
		t.Fatalf("rows %v", rows)
	}
	ex := requestsOf[*connectpb.ExecutePlanRequest](srv.Requests())
	if rel := srv.Released(); len(rel) != 1 || rel[0] != ex[0].GetOperationId() {
		t.Fatalf("released %v, want [%s]", rel, ex[0].GetOperationId())
	}
	srv.Query = func(rel *connectpb.Relation) (arrow.RecordBatch, error) {
		agg := rel.GetAggregate()
		if agg == nil || len(agg.GetGroupingExpressions()) != 0 || agg.GetAggregateExpressions()[0].GetUnresolvedFunction().GetFunctionName() != "count" {
			return nil, status.Errorf(codes.InvalidArgument, "not a count plan: %v", rel)
		}
		rec := idsRecord(6)
		defer rec.Release()
		return rec.NewSlice(5, 6), nil // one row holding 5
	}
	n, err := s.Table("t").Count(ctx)
	if err != nil || n != 5 {
		t.Fatalf("count %d, %v", n, err)
	}
}

func TestRetryTransientErrors(t *testing.T) {
	tests := []struct {
		name      string
		errs      []error
		wantErr   bool
		wantCalls int
	}{
		{"two unavailable then success", []error{status.Error(codes.Unavailable, "down"), status.Error(codes.Unavailable, "down")}, false, 3},
		{"cursor disconnected", []error{status.Error(codes.Internal, "[INVALID_CURSOR.DISCONNECTED] x")}, false, 2},
		{"retries exhausted", []error{
			status.Error(codes.Unavailable, "1"), status.Error(codes.Unavailable, "2"), status.Error(codes.Unavailable, "3"), status.Error(codes.Unavailable, "4"),
		}, true, 4},

		{"not retryable", []error{status.Error(codes.PermissionDenied, "no")}, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, s := newFake(t)
			srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) { return idsRecord(2), nil }
			srv.FailNext("ExecutePlan", tc.errs...)
			rows, err := s.Table("t").Collect(ctxT(t))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !tc.wantErr && len(rows) != 2 {
				t.Fatalf("rows %v", rows)
			}
			ex := requestsOf[*connectpb.ExecutePlanRequest](srv.Requests())
			if len(ex) != tc.wantCalls {
				t.Fatalf("%d ExecutePlan calls, want %d", len(ex), tc.wantCalls)
			}
			for _, r := range ex[1:] {
				if r.GetOperationId() != ex[0].GetOperationId() {
					t.Fatal("retry changed the operation id")
				}
			}
		})
	}
}

func TestRetryUnary(t *testing.T) {
	srv, s := newFake(t)
	ctx := ctxT(t)
	srv.FailNext("AnalyzePlan", status.Error(codes.Unavailable, "restarting"))
	v, err := s.SparkVersion(ctx)
	if err != nil || v != "3.5.6" {
		t.Fatalf("version %q, %v", v, err)
	}
	srv.FailNext("Config", status.Error(codes.InvalidArgument, "bad"))
	if err := s.Conf().Set(ctx, "a", "b"); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("err %v", err)
	}
}

func TestReattachAfterStreamEnds(t *testing.T) {
	srv, s := newFake(t)
	ctx := ctxT(t)
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) { return idsRecord(3), nil }
	srv.CutStreamsAfter(1) // every stream ends after one response, without ResultComplete
	rows, err := s.Table("t").Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("rows %v", rows)
	}
	reqs := srv.Requests()
	ex := requestsOf[*connectpb.ExecutePlanRequest](reqs)
	re := requestsOf[*connectpb.ReattachExecuteRequest](reqs)
	// responses: arrow batch, metrics, result complete -> 1 execute + 2 reattaches
	if len(ex) != 1 || len(re) != 2 {
		t.Fatalf("%d executes, %d reattaches", len(ex), len(re))
	}
	op := ex[0].GetOperationId()
	if re[0].GetOperationId() != op || re[0].GetLastResponseId() != op+"/0" || re[1].GetLastResponseId() != op+"/1" {
		t.Fatalf("reattach requests %v", re)
	}
	if rel := srv.Released(); len(rel) != 1 || rel[0] != op {
		t.Fatalf("released %v", rel)
	}
}

func TestReattachRetriesUnavailable(t *testing.T) {
	srv, s := newFake(t)
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) { return idsRecord(4), nil }
	srv.CutStreamsAfter(1)
	srv.FailNext("ReattachExecute", status.Error(codes.Unavailable, "blip"))
	rows, err := s.Table("t").Collect(ctxT(t))
	if err != nil || len(rows) != 4 {
		t.Fatalf("rows %d, %v", len(rows), err)
	}
}

func TestStreamBrokenBeforeFirstResponse(t *testing.T) {
	// the ExecutePlan stream fails before any response: the client reattaches; the server
	// answers OPERATION_NOT_FOUND (it never registered the operation), so the client must send
	// the ExecutePlan again instead of failing
	srv, s := newFake(t)
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) { return idsRecord(1), nil }
	srv.FailNext("ExecutePlan", status.Error(codes.Unavailable, "reset"))
	rows, err := s.Table("t").Collect(ctxT(t))
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %d, %v", len(rows), err)
	}
	reqs := srv.Requests()
	ex := requestsOf[*connectpb.ExecutePlanRequest](reqs)
	re := requestsOf[*connectpb.ReattachExecuteRequest](reqs)
	if len(ex) != 2 || len(re) != 1 || re[0].LastResponseId != nil {
		t.Fatalf("%d executes, %d reattaches %v", len(ex), len(re), re)
	}
}

func TestWithoutReattach(t *testing.T) {
	srv, s := newFake(t, sc.WithReattach(false))
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) { return idsRecord(2), nil }
	rows, err := s.Table("t").Collect(ctxT(t))
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %d, %v", len(rows), err)
	}
	ex := requestsOf[*connectpb.ExecutePlanRequest](srv.Requests())
	if len(ex[0].GetRequestOptions()) != 0 || len(srv.Released()) != 0 {
		t.Fatal("reattach used although disabled")
	}
}

func TestServerErrorIsSparkError(t *testing.T) {
	srv, s := newFake(t)
	ctx := ctxT(t)
	_, err := s.Sql(ctx, "SELEC 1")
	var se *sc.SparkError
	if !errors.As(err, &se) || se.ErrorClass != "PARSE_SYNTAX_ERROR" || se.Reason != "org.apache.spark.sql.catalyst.parser.ParseException" {
		t.Fatalf("err %#v", err)
	}
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) {
		return nil, sparkconnecttest.SparkError("TABLE_OR_VIEW_NOT_FOUND", "The table or view `x` cannot be found.")
	}
	_, err = s.Table("x").Collect(ctx)
	if sc.ErrorClass(err) != "TABLE_OR_VIEW_NOT_FOUND" || !strings.Contains(err.Error(), "collect") {
		t.Fatalf("err %v", err)
	}
	if _, err := s.Conf().Get(ctx, "missing"); sc.ErrorClass(err) != "SQL_CONF_NOT_FOUND" {
		t.Fatalf("conf err %v", err)
	}
}

func TestSqlCommandAndConfig(t *testing.T) {
	srv, s := newFake(t)
	ctx := ctxT(t)
	df, err := s.Sql(ctx, "CREATE TEMP VIEW v AS SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	if df.Relation().GetLocalRelation() == nil {
		t.Fatalf("command result %v", df.Relation())
	}
	df, err = s.Sql(ctx, "SELECT 1")
	if err != nil || df.Relation().GetSql().GetQuery() != "SELECT 1" {
		t.Fatalf("query result %v, %v", df.Relation(), err)
	}
	if err := s.Conf().Set(ctx, "spark.sql.shuffle.partitions", "4"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Conf().Get(ctx, "spark.sql.shuffle.partitions"); err != nil || v != "4" {
		t.Fatalf("get %q %v", v, err)
	}
	if err := s.Conf().Unset(ctx, "spark.sql.shuffle.partitions"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Conf().GetOption(ctx, "spark.sql.shuffle.partitions"); ok || err != nil {
		t.Fatalf("after unset: %v %v", ok, err)
	}
	_ = srv
}

func TestWithoutReattachRetriesBeforeFirstResponse(t *testing.T) {
	srv, s := newFake(t, sc.WithReattach(false))
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) { return idsRecord(3), nil }
	srv.FailNext("ExecutePlan", status.Error(codes.Unavailable, "down"))
	rows, err := s.Table("t").Collect(ctxT(t))
	if err != nil || len(rows) != 3 {
		t.Fatalf("rows %d, %v", len(rows), err)
	}
	reqs := srv.Requests()
	if n := len(requestsOf[*connectpb.ExecutePlanRequest](reqs)); n != 2 {
		t.Fatalf("%d ExecutePlan calls, want 2", n)
	}
	if n := len(requestsOf[*connectpb.ReattachExecuteRequest](reqs)); n != 0 {
		t.Fatalf("%d reattaches without reattach", n)
	}
}

func TestServerWithoutReattachExecute(t *testing.T) {
	// a server that ignores the reattach option ends the stream without ResultComplete and
	// answers ReattachExecute with UNIMPLEMENTED: the stream end is the end of the results, and
	// the session stops asking for reattachable execution
	srv, s := newFake(t)
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) { return idsRecord(2), nil }
	srv.CutStreamsAfter(2) // arrow batch + metrics, no ResultComplete
	srv.FailNext("ReattachExecute", status.Error(codes.Unimplemented, "unknown method ReattachExecute"))
	srv.FailNext("ReleaseExecute", status.Error(codes.Unimplemented, "unknown method ReleaseExecute"))
	rows, err := s.Table("t").Collect(ctxT(t))
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %d, %v", len(rows), err)
	}
	if _, err := s.Table("t").Collect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	ex := requestsOf[*connectpb.ExecutePlanRequest](srv.Requests())
	if len(ex) != 2 || len(ex[1].GetRequestOptions()) != 0 {
		t.Fatalf("second execution still reattachable: %v", ex[len(ex)-1].GetRequestOptions())
	}
}

// WithHeader puts the header on every call (the stack's Spark Connect secret travels this way),
// and the value never shows in an error.
func TestWithHeaderOnEveryCall(t *testing.T) {
	const secret = "s3cret-value"
	srv, s := newFake(t, sc.WithHeader("X-Idxstream-Secret", secret))
	ctx := ctxT(t)
	if _, err := s.SparkVersion(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) {
		return nil, status.Error(codes.Unauthenticated, "no")
	}
	_, err := s.Table("t").Collect(ctx)
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("error %v: want a failure that does not echo the header", err)
	}
	hs := srv.Headers()
	if len(hs) < 2 {
		t.Fatalf("%d calls recorded", len(hs))
	}
	for i, md := range hs {
		if got := md.Get("x-idxstream-secret"); len(got) != 1 || got[0] != secret {
			t.Errorf("call %d: x-idxstream-secret = %q, want the secret once", i, got)
		}
	}
}
