// Package sparkconnect is a Spark Connect client: it builds Spark plans in Go, runs them on a
// Spark Connect server (written against Spark 3.5's protocol, to which 4.x servers only add;
// not run against 4.x) and reads the results, including Structured Streaming queries.
//
// The API follows PySpark's names with Go idioms: every call that does I/O takes a
// context.Context first and returns an error; transformations are lazy and do no I/O.
//
//	spark, err := sparkconnect.Connect("sc://127.0.0.1:15002")        // SparkSession
//	df, err := spark.Sql(ctx, "SELECT ...")                            // spark.sql
//	df := spark.Read().Format("kafka").Option(k, v).Load()             // spark.read
//	rows, err := df.Where("x > 1").GroupBy(sparkconnect.Col("k")).
//		Agg(sparkconnect.Sum(sparkconnect.Col("v"))).Collect(ctx)       // collect
//	err = df.Write().Format("jdbc").Mode(sparkconnect.SaveModeAppend).Options(o).Save(ctx)
//	q, err := spark.ReadStream().Format("kafka").Options(o).Load().
//		WriteStream().Format("org.apache.spark.sql.cassandra").
//		Trigger(sparkconnect.ProcessingTime(10*time.Second)).Start(ctx) // writeStream.start
//	p, err := q.LastProgress(ctx)                                      // query.lastProgress
//
// # Sessions
//
// Connect parses a connection string (sc://host:port/;user_id=..;token=..; see ParseRemote) and
// creates a session with a random UUID, or the one given with WithSessionID. The server keeps
// temp views, SQL conf and streaming queries per (user id, session id); it stops a session's
// streaming queries when it drops the session after about an hour without requests, so a
// long-running driver program must keep making requests (polling a query's Status is enough).
//
// # Execution
//
// Plans run with ExecutePlan in reattachable mode: when the server ends a result stream early
// (Spark does every 2 minutes by design) or the connection breaks with a transient error, the
// client reattaches after the last response it processed, and it frees the server-side buffer
// with ReleaseExecute when done. Transient gRPC errors (UNAVAILABLE, INVALID_CURSOR.DISCONNECTED)
// are retried with exponential backoff (RetryPolicy). Errors raised by Spark are returned as
// *SparkError with Spark's error class.
//
// # Results
//
// Rows are decoded from the Arrow batches the server sends; see Row for the Go type of each
// Spark type. Package sparkconnecttest has an in-process fake server for unit tests, and
// package connectpb the generated protocol types.
//
// # Linking beside spark-connect-go
//
// The protocol types (package connectpb) are registered as protobuf package
// idxstream.sparkconnect.v1, not Spark's spark.connect, so that a program can also link
// github.com/apache/spark-connect-go, which registers Spark's names; the gRPC method paths and
// the bytes on the wire are Spark's. See connectpb and the module's README.
//
// # Limits
//
// foreach/foreachBatch sinks, UDFs and listeners need serialized Python or Scala code and are
// not available to a Go client. Spark 3.5 has no ReleaseSession and no FetchErrorDetails.
package sparkconnect
