// Package testkit is the one harness of the project's integration, end-to-end, browser and
// benchmark tests against the real stack (`make up`).
//
// It loads the repository's .env, reads the servers' addresses from the variables of
// docs/contracts.md, skips a test whose server is unreachable (or fails it when
// INTEGRATION_REQUIRED=1, as `make test` sets), runs programs under test, and gives every suite
// namespaces of its own: a Cassandra keyspace, a MySQL database and Kafka topics created with the
// product's migrations and users by `stackctl namespace create` and dropped afterwards. Tests
// therefore never write into the product's `trading` keyspace, database or topics: a test run is a
// guest on a stack that may hold a user's data, or run `make demo`, at the same time.
//
// The guarantees the product makes (every trade exactly once in each table the job writes, the
// MySQL volume and trade count per market date and sector, every bad element in rejects) are
// written once, in package check.
//
// Set TESTKIT_KEEP=1 to keep the namespaces of failed tests for inspection; their names are
// printed. `stackctl namespace list` shows leftovers and `stackctl namespace drop NAME` removes one.
package testkit
