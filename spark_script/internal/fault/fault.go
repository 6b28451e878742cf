// Package fault gives tests deterministic places to kill the job: a fault test names a point and
// the job stops itself there with SIGKILL, instead of being killed after a sleep at an unknown
// place in its work.
//
// Points are compiled in only with the build tag faulthook (the test suites build the job with it);
// in the product's binary Hit does nothing and costs nothing.
//
// With the tag, JOB_FAULT=point[:n] makes the n-th Hit of point (default the first) print a line
// naming it to stderr and kill the process.
package fault

// Point is a place in the job's work where a test may kill it.
type Point string

// The points.
const (
	// AggPlanned: the aggregate path recorded a batch's offset range, before any row is written.
	AggPlanned Point = "agg.planned"
	// AggWritten: the aggregate path wrote a batch's ids and rows to MySQL, inside the transaction
	// that commits the batch, before the commit.
	AggWritten Point = "agg.written"
	// RawProgress: the raw path saw a micro-batch of its streaming query complete with rows.
	RawProgress Point = "raw.progress"
)

// Points lists every point, for the tests' table of faults.
func Points() []Point { return []Point{AggPlanned, AggWritten, RawProgress} }
