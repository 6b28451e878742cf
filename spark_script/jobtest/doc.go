// Package jobtest holds the streaming job's integration tests (build tag integration): they build
// the job's binary, run it against the real stack as a separate process (so that it can be
// killed with SIGKILL), and check what lands in Cassandra and MySQL.
package jobtest
