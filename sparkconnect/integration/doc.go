// Package integration holds the Spark Connect client's tests against a real Spark Connect server
// (`make up`): SQL round trips of typed values, Kafka batch reads, JDBC and Cassandra writes, a
// streaming query's life cycle, error classes. It is a module of its own so that the client's
// module needs neither the project's test kit nor the Kafka, Cassandra and MySQL drivers; it
// uses only the client's public API.
package integration
