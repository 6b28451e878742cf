package jobmetrics

import (
	"fmt"
	"time"
)

// Path states in Health.
const (
	StateOK      = "ok"      // a batch committed within three triggers
	StateIdle    = "idle"    // nothing committed for longer, but nothing waits either
	StateStalled = "stalled" // work waits (or the query is down or silent) and nothing commits
)

// StallTriggers is how many triggers may pass without a committed batch before a path with work
// waiting is reported stalled.
const StallTriggers = 3

// idleReport is how often Spark reports progress of a streaming query that has no new data
// (spark.sql.streaming.noDataProgressEventInterval, 10 s by default); a query silent for three
// of these (or three triggers, whichever is longer) is not reporting at all.
const idleReport = 10 * time.Second

// Health is the job's verdict on its paths, shown by GET /status.
type Health struct {
	Status string       `json:"status"` // ok, or stalled when any path is
	Paths  []PathHealth `json:"paths"`
}

// PathHealth is one query of the raw path, or the aggregate path.
type PathHealth struct {
	Path       string    `json:"path"`  // raw or aggregate
	Query      string    `json:"query"` // the table it fills
	State      string    `json:"state"` // StateOK, StateIdle or StateStalled
	Reason     string    `json:"reason,omitempty"`
	LastCommit time.Time `json:"last_commit,omitzero"` // end of the last batch that committed input
	Trigger    string    `json:"trigger"`
}

// Evidence is what the snapshots say about one path, for Judge.
type Evidence struct {
	// LastCommit is the end of the last batch that committed input (raw: the last progress with
	// input rows; aggregate: its Committed time); zero when none since the job started.
	LastCommit time.Time
	// Since is when the job started watching: the reference while nothing has committed yet.
	Since time.Time
	// Lag is how many Kafka records the last batch left behind.
	Lag int64
	// WaitingSince is when input was first known to wait for this path (aggregate: the end of a
	// raw micro-batch with input after the aggregate path's last commit); zero when none.
	WaitingSince time.Time
	// Streaming is set for a Structured Streaming query, which Spark reports on even when idle;
	// LastProgress is its last report of any kind (zero: none yet).
	Streaming    bool
	LastProgress time.Time
	// DownSince is when the query was last seen stopped (waiting for a restart); zero while it
	// runs.
	DownSince time.Time
	// Hung is the raw supervisor's own verdict (rawpath.State.Stalled, after a much longer wait).
	Hung bool
	// LastError is the last error the path reported, given with the reason of a stall.
	LastError string
}

// Judge says whether a path is ok, idle or stalled at now, and why. A path whose last commit is
// at most StallTriggers triggers old is ok. Past that, an old commit alone is not a fault: with
// no trades coming in (a closed market) there is nothing to commit, so the path is stalled only
// when the evidence says work is held up (records wait, input arrived and was not aggregated, the
// query is down, or Spark stopped reporting on it), and idle otherwise.
func Judge(e Evidence, trigger time.Duration, now time.Time) (state, reason string) {
	limit := StallTriggers * trigger
	ref, head := e.LastCommit, "no batch committed for %s"
	if ref.IsZero() {
		ref, head = e.Since, "no batch committed since the job started %s ago"
	}
	age := now.Sub(ref)
	if age <= limit {
		return StateOK, ""
	}
	head = fmt.Sprintf(head+" (more than %d × trigger %s)", round(age), StallTriggers, trigger)
	heard := e.LastProgress
	if heard.IsZero() {
		heard = e.Since
	}
	var why string
	switch {
	case !e.DownSince.IsZero() && now.Sub(e.DownSince) > limit:
		why = fmt.Sprintf("the query is not running for %s (restarts are retried with backoff)", round(now.Sub(e.DownSince)))
	case e.Hung:
		why = "the supervisor flagged the query as hung"
	case e.Streaming && e.DownSince.IsZero() && now.Sub(heard) > max(limit, StallTriggers*idleReport):
		why = fmt.Sprintf("Spark reported no progress for %s: a micro-batch is hung or running long", round(now.Sub(heard)))
	case e.Lag > 0:
		why = fmt.Sprintf("%d Kafka records wait", e.Lag)
	case !e.WaitingSince.IsZero() && now.Sub(e.WaitingSince) > limit:
		why = fmt.Sprintf("input arrived %s ago and is not aggregated yet", round(now.Sub(e.WaitingSince)))
	default:
		return StateIdle, head + ", and no input waits"
	}
	reason = head + ": " + why
	if e.LastError != "" {
		reason += "; last error: " + e.LastError
	}
	return StateStalled, reason
}

func round(d time.Duration) time.Duration { return d.Round(time.Second) }
