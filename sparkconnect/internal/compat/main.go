// Command compat links two Spark Connect clients into one program: the project's
// (idxstream/sparkconnect, protobuf package idxstream.sparkconnect.v1) and
// github.com/apache/spark-connect-go (package spark.connect, files spark/connect/*.proto). Before
// the project's protocol had a package of its own, such a program panicked at start with
// "proto: file ... is already registered". It prints what each client registered, then runs a
// request with each client against one in-process fake server (sparkconnecttest) and prints the
// gRPC method paths the fake received. It opens no network connection.
//
//	cd sparkconnect/internal/compat && GOWORK=off go run .
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	scgo "github.com/apache/spark-connect-go/spark/sql"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"idxstream/sparkconnect"
	"idxstream/sparkconnect/connectpb"
	"idxstream/sparkconnect/sparkconnecttest"
)

const sparkConnectGo = "github.com/apache/spark-connect-go"

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "compat:", err)
		os.Exit(1)
	}
}

// Result is what run observed.
type Result struct {
	// Files is the number of registered proto files per protobuf package.
	Files map[string]int
	// Version is spark.version as read by idxstream/sparkconnect.
	Version string
	// Rows are the rows spark-connect-go collected.
	Rows [][]any
	// Methods are the method paths the fake received, in order.
	Methods []string
}

func run(ctx context.Context, w io.Writer) error {
	res, err := exercise(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "linked %s %s: protobuf package spark.connect, %d files spark/connect/*.proto\n",
		sparkConnectGo, moduleVersion(sparkConnectGo), res.Files["spark.connect"])
	fmt.Fprintf(w, "linked idxstream/sparkconnect: protobuf package idxstream.sparkconnect.v1, %d files idxstream/sparkconnect/v1/*.proto\n",
		res.Files["idxstream.sparkconnect.v1"])
	fmt.Fprintf(w, "idxstream/sparkconnect: spark.version = %s\n", res.Version)
	fmt.Fprintf(w, "spark-connect-go: SELECT collected %v\n", res.Rows)
	fmt.Fprintln(w, "method paths the fake server received:")
	for _, m := range res.Methods {
		fmt.Fprintln(w, "  "+m)
	}
	return nil
}

// exercise runs one session of each client against one fake server.
func exercise(ctx context.Context) (*Result, error) {
	res := &Result{Files: map[string]int{}}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if p := string(fd.Package()); p == "spark.connect" || p == "idxstream.sparkconnect.v1" {
			res.Files[p]++
		}
		return true
	})

	srv := sparkconnecttest.NewServer()
	defer srv.Close()
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) {
		b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64},
			{Name: "name", Type: arrow.BinaryTypes.String},
		}, nil))
		defer b.Release()
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
		b.Field(1).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
		return b.NewRecordBatch(), nil
	}

	ours, err := sparkconnect.Connect(sparkconnecttest.Remote, sparkconnect.WithDialOptions(srv.DialOptions()...))
	if err != nil {
		return nil, err
	}
	defer ours.Close()
	if res.Version, err = ours.SparkVersion(ctx); err != nil {
		return nil, fmt.Errorf("idxstream/sparkconnect: %w", err)
	}

	theirs, err := scgo.NewSessionBuilder().WithChannelBuilder(fakeChannel{srv}).Build(ctx)
	if err != nil {
		return nil, fmt.Errorf("spark-connect-go: %w", err)
	}
	defer theirs.Stop()
	df, err := theirs.Sql(ctx, "SELECT id, name FROM VALUES (1, 'a'), (2, 'b') AS t(id, name)")
	if err != nil {
		return nil, fmt.Errorf("spark-connect-go: %w", err)
	}
	rows, err := df.Collect(ctx)
	if err != nil {
		return nil, fmt.Errorf("spark-connect-go: %w", err)
	}
	for _, r := range rows {
		res.Rows = append(res.Rows, r.Values())
	}
	res.Methods = srv.Methods()
	return res, nil
}

// fakeChannel is a spark-connect-go channel.Builder that dials the fake server in memory.
type fakeChannel struct{ srv *sparkconnecttest.Server }

func (c fakeChannel) Build(context.Context) (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///"+strings.TrimPrefix(sparkconnecttest.Remote, "sc://"), c.srv.DialOptions()...)
}
func (fakeChannel) User() string               { return "compat" }
func (fakeChannel) Headers() map[string]string { return nil }
func (fakeChannel) SessionId() string          { return "" }
func (fakeChannel) UserAgent() string          { return "idxstream-compat" }

// moduleVersion is the version of a dependency linked into this binary.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "(unknown version)"
}
