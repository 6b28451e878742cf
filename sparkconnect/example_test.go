package sparkconnect_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"idxstream/sparkconnect"
	"idxstream/sparkconnect/connectpb"
	"idxstream/sparkconnect/sparkconnecttest"
)

// The examples run against the in-process fake server (sparkconnecttest), so `go test` runs
// them without Spark. With a real server, pass its connection string, e.g.
// sparkconnect.Connect("sc://127.0.0.1:15002"), and leave out WithDialOptions.

// Example runs SQL, aggregates the result and collects the rows (PySpark spark.sql(...).
// groupBy(...).agg(...).collect()).
func Example() {
	srv := sparkconnecttest.NewServer()
	defer srv.Close()
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) { // what the "server" answers
		b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{
			{Name: "region", Type: arrow.BinaryTypes.String},
			{Name: "total", Type: arrow.PrimitiveTypes.Int64},
		}, nil))
		defer b.Release()
		b.Field(0).(*array.StringBuilder).AppendValues([]string{"east", "west"}, nil)
		b.Field(1).(*array.Int64Builder).AppendValues([]int64{1200, 5300}, nil)
		return b.NewRecordBatch(), nil
	}

	ctx := context.Background()
	spark, err := sparkconnect.Connect(sparkconnecttest.Remote, sparkconnect.WithDialOptions(srv.DialOptions()...))
	if err != nil {
		log.Fatal(err)
	}
	defer spark.Close()

	version, err := spark.SparkVersion(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Spark", version)

	sales, err := spark.Sql(ctx, "SELECT region, amount FROM sales WHERE year = ?", 2026)
	if err != nil {
		log.Fatal(err)
	}
	rows, err := sales.GroupBy(sparkconnect.Col("region")).
		Agg(sparkconnect.Sum(sparkconnect.Col("amount")).As("total")).
		OrderBy(sparkconnect.Col("region")).
		Collect(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rows {
		fmt.Println(r)
	}
	// Output:
	// Spark 3.5.6
	// Row(region="east", total=1200)
	// Row(region="west", total=5300)
}

// ExampleDataStreamWriter_Start starts a Structured Streaming query from Kafka to Parquet files
// and manages it (PySpark spark.readStream ... writeStream.start(), query.status,
// query.lastProgress, spark.streams.active, query.stop()). The Kafka connector must be on the
// server's classpath.
func ExampleDataStreamWriter_Start() {
	srv := sparkconnecttest.NewServer()
	defer srv.Close()
	srv.Progress = []string{`{"id":"q","name":"events_to_parquet","batchId":4,"numInputRows":250,"processedRowsPerSecond":125.0}`}

	ctx := context.Background()
	spark, err := sparkconnect.Connect(sparkconnecttest.Remote, sparkconnect.WithDialOptions(srv.DialOptions()...))
	if err != nil {
		log.Fatal(err)
	}
	defer spark.Close()

	q, err := spark.ReadStream().Format("kafka").
		Option("kafka.bootstrap.servers", "127.0.0.1:9092").
		Option("subscribe", "events").
		Option("startingOffsets", "earliest").
		Load().
		SelectExpr("CAST(key AS STRING) AS key", "CAST(value AS STRING) AS json", "timestamp").
		WithWatermark("timestamp", "1 minute").
		WriteStream().
		Format("parquet").
		Option("path", "/data/events").
		Option("checkpointLocation", "/data/checkpoints/events").
		OutputMode(sparkconnect.OutputModeAppend).
		Trigger(sparkconnect.ProcessingTime(10 * time.Second)).
		QueryName("events_to_parquet").
		Start(ctx)
	if err != nil {
		log.Fatal(err)
	}
	st, err := q.Status(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s active=%v: %s\n", q.Name(), st.IsActive, st.Message)
	if p, err := q.LastProgress(ctx); err == nil && p != nil {
		fmt.Printf("batch %d: %d rows, %.0f rows/s\n", p.BatchID, p.NumInputRows, p.ProcessedRowsPerSecond)
	}
	active, err := spark.Streams().Active(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("active queries:", len(active))
	if err := q.Stop(ctx); err != nil {
		log.Fatal(err)
	}
	done, err := q.AwaitTermination(ctx, time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("terminated:", done)
	// Output:
	// events_to_parquet active=true: Waiting for data to arrive
	// batch 4: 250 rows, 125 rows/s
	// active queries: 1
	// terminated: true
}

// ExampleDataFrameWriter_Save appends a DataFrame to a JDBC table with writer options (PySpark
// df.write.format("jdbc").options(...).mode("append").save()); the JDBC driver must be on the
// server's classpath. The fake shows the command that went over the wire.
func ExampleDataFrameWriter_Save() {
	srv := sparkconnecttest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	spark, err := sparkconnect.Connect(sparkconnecttest.Remote, sparkconnect.WithDialOptions(srv.DialOptions()...))
	if err != nil {
		log.Fatal(err)
	}
	defer spark.Close()

	err = spark.Table("staging.totals").
		Write().
		Format("jdbc").
		Options(map[string]string{
			"url":     "jdbc:mysql://127.0.0.1:3306/reports",
			"dbtable": "totals",
			"user":    "writer",
		}).
		Option("password", "from-the-environment").
		Mode(sparkconnect.SaveModeAppend).
		Save(ctx)
	if err != nil {
		log.Fatal(err)
	}

	for _, r := range srv.Requests() {
		if e, ok := r.(*connectpb.ExecutePlanRequest); ok {
			w := e.GetPlan().GetCommand().GetWriteOperation()
			fmt.Println(w.GetSource(), w.GetMode(), slices.Sorted(maps.Keys(w.GetOptions())))
		}
	}
	// Output: jdbc SAVE_MODE_APPEND [dbtable password url user]
}

// ExampleParseRemote reads a connection string (PySpark's SPARK_REMOTE): a token means TLS and
// a bearer token on every call; String never shows the token.
func ExampleParseRemote() {
	r, err := sparkconnect.ParseRemote("sc://spark.example.com:443/;token=s3cr3t;user_id=alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Address(), "TLS:", r.UseTLS, "user:", r.UserID)
	fmt.Println(r)
	// Output:
	// spark.example.com:443 TLS: true user: alice
	// sc://spark.example.com:443/;user_id=alice
}

// ExampleWithRetryPolicy: transient failures (UNAVAILABLE, a disconnected result cursor) are
// retried with exponential backoff; here the server is unavailable twice.
func ExampleWithRetryPolicy() {
	srv := sparkconnecttest.NewServer()
	defer srv.Close()
	unavailable := status.Error(codes.Unavailable, "server restarting")
	srv.FailNext("AnalyzePlan", unavailable, unavailable)

	spark, err := sparkconnect.Connect(sparkconnecttest.Remote,
		sparkconnect.WithDialOptions(srv.DialOptions()...),
		sparkconnect.WithRetryPolicy(sparkconnect.RetryPolicy{
			MaxRetries: 5, InitialBackoff: 10 * time.Millisecond, MaxBackoff: time.Second, Multiplier: 2,
		}))
	if err != nil {
		log.Fatal(err)
	}
	defer spark.Close()
	version, err := spark.SparkVersion(context.Background())
	fmt.Println(version, err)
	// Output: 3.5.6 <nil>
}

// ExampleSparkError branches on Spark's error class, which a Spark 3.5 server sends only as
// the "[CLASS]" prefix of the message.
func ExampleSparkError() {
	srv := sparkconnecttest.NewServer()
	defer srv.Close()
	spark, err := sparkconnect.Connect(sparkconnecttest.Remote, sparkconnect.WithDialOptions(srv.DialOptions()...))
	if err != nil {
		log.Fatal(err)
	}
	defer spark.Close()

	_, err = spark.Sql(context.Background(), "SELEC 1")
	var se *sparkconnect.SparkError
	if errors.As(err, &se) {
		fmt.Println(se.ErrorClass, se.Reason)
	}
	// Output: PARSE_SYNTAX_ERROR org.apache.spark.sql.catalyst.parser.ParseException
}
