#!/bin/sh
# Regenerates the Go code of the Spark Connect protocol subset from spark/connect/*.proto.
# Run through `go generate` (see doc.go). Needs protoc (Debian: protobuf-compiler); the Go
# plugins are built from the versions pinned by the `tool` lines of sparkconnect/go.mod, so the
# output only depends on those versions and on protoc's.
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
  spark/connect/*.proto
