// Test-only module: links idxstream/sparkconnect beside github.com/apache/spark-connect-go to
// prove that both start in one binary and speak the same wire. Nothing of the product imports
// it (its import path is internal to idxstream/sparkconnect), and it stays out of go.work so
// that spark-connect-go's requirements never enter the workspace's build list; make lint and
// make unit/test run it with GOWORK=off (scripts/test.sh).
module idxstream/sparkconnect/internal/compat

go 1.26.0

require (
	github.com/apache/arrow-go/v18 v18.8.0
	github.com/apache/spark-connect-go v0.1.1-0.20250826122459-0e3d565b63e6
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
	idxstream/sparkconnect v0.0.0
)

require (
	cloud.google.com/go/compute/metadata v0.9.0 // indirect
	github.com/go-errors/errors v1.5.1 // indirect
	github.com/goccy/go-json v0.10.6 // indirect
	github.com/google/flatbuffers v25.12.19+incompatible // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/klauspost/cpuid/v2 v2.4.0 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/zeebo/xxh3 v1.1.0 // indirect
	golang.org/x/exp v0.0.0-20260112195511-716be5621a96 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/oauth2 v0.36.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
)

replace idxstream/sparkconnect => ../..
