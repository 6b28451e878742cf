// Package integration holds the stack's integration tests (build tag integration): they run
// against the real servers started by `make up` and read their addresses from the environment
// variables of docs/contracts.md. Run them with `go test -tags integration ./integration/`.
package integration
