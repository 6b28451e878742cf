// Package connectpb holds the Go types and gRPC stubs of the project's subset of the Spark
// Connect protocol (protobuf package spark.connect, service spark.connect.SparkConnectService).
//
// The .proto files under spark/connect/ are written for this project: they declare only the
// messages, fields and RPCs the sparkconnect client uses, with Spark 3.5's names and field
// numbers, so the wire format is identical to Spark's. Newer servers (4.x) only add fields and
// oneof arms; the generated code keeps those as unknown fields.
//
// The *.pb.go files are generated and committed; regenerate them with `go generate` (or
// `make gen` at the repository root), which needs protoc from Debian's protobuf-compiler.
package connectpb

//go:generate sh gen.sh
