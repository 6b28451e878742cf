package sparkconnect_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sc "idxstream/sparkconnect"
	"idxstream/sparkconnect/connectpb"
	"idxstream/sparkconnect/sparkconnecttest"
)

// sparkPaths are the method paths of the RPCs the client uses, as Spark serves them.
var sparkPaths = []string{
	"/spark.connect.SparkConnectService/AnalyzePlan",
	"/spark.connect.SparkConnectService/Config",
	"/spark.connect.SparkConnectService/ExecutePlan",
	"/spark.connect.SparkConnectService/Interrupt",
	"/spark.connect.SparkConnectService/ReattachExecute",
	"/spark.connect.SparkConnectService/ReleaseExecute",
}

// TestWireMethodPaths drives the client through every RPC it uses and checks the method paths
// on the wire, as the client sent them (client interceptors see the path grpc-go puts in
// :path) and as the fake received them (grpc.Method on the server side). The protobuf package
// of connectpb is the project's own; these paths must stay Spark's.
func TestWireMethodPaths(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	record := func(m string) {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, m)
	}
	srv, s := newFake(t, sc.WithDialOptions(
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any,
			cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			record(method)
			return invoker(ctx, method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn,
			method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			record(method)
			return streamer(ctx, desc, cc, method, opts...)
		}),
	))
	ctx := ctxT(t)
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) { return idsRecord(2), nil }
	srv.CutStreamsAfter(1) // the stream ends early, so the client reattaches, then releases

	if _, err := s.Table("t").Collect(ctx); err != nil { // ExecutePlan, ReattachExecute, ReleaseExecute
		t.Fatal(err)
	}
	if _, err := s.SparkVersion(ctx); err != nil { // AnalyzePlan
		t.Fatal(err)
	}
	if err := s.Conf().Set(ctx, "spark.sql.shuffle.partitions", "4"); err != nil { // Config
		t.Fatal(err)
	}
	if _, err := s.Interrupt(ctx); err != nil { // Interrupt
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	for side, got := range map[string][]string{"client sent": sent, "fake received": srv.Methods()} {
		set := slices.Compact(slices.Sorted(slices.Values(got)))
		if !slices.Equal(set, sparkPaths) {
			t.Errorf("%s method paths %q, want %q", side, set, sparkPaths)
		}
	}
}

// TestFakeServesSparkPath calls the fake with hand-written paths, without the generated client:
// it answers at Spark's path and not at one named after connectpb's protobuf package.
func TestFakeServesSparkPath(t *testing.T) {
	srv := sparkconnecttest.NewServer()
	defer srv.Close()
	conn, err := grpc.NewClient("passthrough:///fake-spark:15002", srv.DialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := ctxT(t)
	req := &connectpb.AnalyzePlanRequest{
		SessionId: "11111111-2222-4333-8444-555555555555",
		Analyze:   &connectpb.AnalyzePlanRequest_SparkVersion_{SparkVersion: &connectpb.AnalyzePlanRequest_SparkVersion{}},
	}
	var resp connectpb.AnalyzePlanResponse
	if err := conn.Invoke(ctx, "/spark.connect.SparkConnectService/AnalyzePlan", req, &resp); err != nil {
		t.Fatalf("Spark's path: %v", err)
	}
	if v := resp.GetSparkVersion().GetVersion(); v != "3.5.6" {
		t.Errorf("version %q", v)
	}
	err = conn.Invoke(ctx, "/idxstream.sparkconnect.v1.SparkConnectService/AnalyzePlan", req, &resp)
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("path named after the protobuf package: err %v, want UNIMPLEMENTED", err)
	}
}
