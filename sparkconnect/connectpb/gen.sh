#!/bin/sh
# Regenerates the Go code of the Spark Connect protocol subset from
# idxstream/sparkconnect/v1/*.proto. Run through `go generate` (see doc.go). Needs protoc
# (Debian: protobuf-compiler); the Go plugins are built from the versions pinned by the `tool`
# lines of sparkconnect/go.mod, so the output only depends on those versions and on protoc's.
set -eu
cd "$(dirname "$0")"
command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
pkg=idxstream/sparkconnect/connectpb
rm -f ./*.pb.go
protoc -I . \
  --plugin=protoc-gen-go="$bin/protoc-gen-go" \
  --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" \
  --go_out=. --go_opt=module="$pkg" \
  --go-grpc_out=. --go-grpc_opt=module="$pkg" \
  idxstream/sparkconnect/v1/*.proto

# protoc-gen-go-grpc names the service after the proto package (idxstream.sparkconnect.v1), but
# Spark serves it as spark.connect.SparkConnectService: every method path and the ServiceDesc
# name are rewritten to Spark's. Without this, every call would end in UNIMPLEMENTED. The
# unit test TestWireMethodPaths checks the result on the wire.
ours=idxstream.sparkconnect.v1.SparkConnectService
spark=spark.connect.SparkConnectService
sed -i \
  -e "s#\"/$ours/#\"/$spark/#" \
  -e "s#ServiceName: \"$ours\"#ServiceName: \"$spark\"#" \
  -e "s#^// source: .*#&\n// gen.sh: the gRPC service name is rewritten from $ours to $spark.#" \
  base_grpc.pb.go
if grep -n "$ours" base_grpc.pb.go | grep -v '^[0-9]*:// gen.sh:'; then
  echo "gen.sh: base_grpc.pb.go still names $ours (above): update the rewrite" >&2
  exit 1
fi
