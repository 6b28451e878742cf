// Package e2e holds the end-to-end suite (build tag e2e): the real producer, streaming job and
// dashboard binaries against the real stack, checking exactly-once delivery, the volume
// invariant and the dashboard's numbers across a Kafka broker restart and a SIGKILL of the job.
// The job's own suite (spark_script/jobtest) covers the Cassandra outage and malformed input.
package e2e
