// Package connectpb holds the Go types and gRPC stubs of the project's subset of the Spark
// Connect protocol: protobuf package idxstream.sparkconnect.v1, files
// idxstream/sparkconnect/v1/*.proto, served at Spark's gRPC path
// /spark.connect.SparkConnectService/<Method> (ServiceName).
//
// The .proto files are written for this project: they declare only the messages, fields and
// RPCs the sparkconnect client uses, with Spark 3.5's message names, field numbers, types and
// labels, so the wire format is identical to Spark's. Newer servers (4.x) only add fields and
// oneof arms; the generated code keeps those as unknown fields.
//
// # Why a package of its own
//
// Spark's own package, spark.connect, with files spark/connect/*.proto, is what every other Go
// copy of the protocol registers, github.com/apache/spark-connect-go included. Protobuf's
// registry admits one file per path and one descriptor per full name, and a program that links
// two packages registering the same ones panics at start ("proto: file ... is already
// registered"). With its own package and paths this one links beside them. The package name
// does not reach the wire: the binary encoding carries field numbers only, and the subset has no
// google.protobuf.Any field, whose type URL would name it. (Should one be added, e.g. Spark's
// `extension` fields, its type URLs must name Spark's messages, not this package's.) The gRPC
// method path does name the service, so gen.sh rewrites the generated service name to
// ServiceName, and SparkConnectService_ServiceDesc and the *_FullMethodName constants carry
// Spark's path.
//
// The *.pb.go files are generated and committed; regenerate them with `go generate` (or
// `make gen` at the repository root), which needs protoc from Debian's protobuf-compiler.
package connectpb

//go:generate sh gen.sh

// ServiceName is the gRPC service name of Spark Connect, as in every method path on the wire
// (/spark.connect.SparkConnectService/ExecutePlan, ...). It is Spark's name, not this package's
// protobuf package; SparkConnectService_ServiceDesc registers under it.
const ServiceName = "spark.connect.SparkConnectService"
