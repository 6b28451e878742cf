package sparkconnect_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"idxstream/sparkconnect"
	"idxstream/sparkconnect/connectpb"
	"idxstream/sparkconnect/sparkconnecttest"
)

// Example runs against the in-process fake server so that it needs no Spark; with a real
// server, pass its connection string (e.g. "sc://127.0.0.1:15002") and drop the dial option.
func Example() {
	srv := sparkconnecttest.NewServer()
	defer srv.Close()
	srv.Query = func(*connectpb.Relation) (arrow.RecordBatch, error) {
		b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{
			{Name: "sector", Type: arrow.BinaryTypes.String},
			{Name: "total_volume", Type: arrow.PrimitiveTypes.Int64},
		}, nil))
		defer b.Release()
		b.Field(0).(*array.StringBuilder).AppendValues([]string{"Energy", "Financials"}, nil)
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

	trades, err := spark.Sql(ctx, "SELECT sector, volume FROM trades")
	if err != nil {
		log.Fatal(err)
	}
	rows, err := trades.GroupBy(sparkconnect.Col("sector")).
		Agg(sparkconnect.Sum(sparkconnect.Col("volume")).As("total_volume")).
		OrderBy(sparkconnect.Col("sector")).
		Collect(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rows {
		fmt.Println(r)
	}
	// Output:
	// Spark 3.5.6
	// Row(sector="Energy", total_volume=1200)
	// Row(sector="Financials", total_volume=5300)
}

// ExampleDataStreamWriter_Start starts a streaming query from Kafka to Cassandra and watches
// its progress (needs a real server with the Kafka and Cassandra connectors).
func ExampleDataStreamWriter_Start() {
	ctx := context.Background()
	spark, err := sparkconnect.Connect("sc://127.0.0.1:15002")
	if err != nil {
		log.Fatal(err)
	}
	defer spark.Close()
	q, err := spark.ReadStream().Format("kafka").
		Option("kafka.bootstrap.servers", "127.0.0.1:9092").
		Option("subscribe", "trading_data").
		Option("startingOffsets", "earliest").
		Load().
		SelectExpr("CAST(value AS STRING) AS json").
		WriteStream().
		Format("org.apache.spark.sql.cassandra").
		Options(map[string]string{"keyspace": "trading", "table": "raw_json"}).
		Option("checkpointLocation", "/var/lib/idxstream/checkpoints/raw").
		Trigger(sparkconnect.ProcessingTime(10 * time.Second)).
		QueryName("raw").
		Start(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if p, err := q.LastProgress(ctx); err == nil && p != nil {
		fmt.Printf("batch %d: %d rows, %.1f rows/s\n", p.BatchID, p.NumInputRows, p.ProcessedRowsPerSecond)
	}
	if err := q.Stop(ctx); err != nil {
		log.Fatal(err)
	}
}

// ExampleSparkError shows how to branch on Spark's error class.
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
		fmt.Println(se.ErrorClass)
	}
	// Output: PARSE_SYNTAX_ERROR
}
