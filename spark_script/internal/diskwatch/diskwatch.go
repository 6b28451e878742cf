// Package diskwatch reports, in the job's status, how much disk each store holds and what Kafka's
// volumes have left (package storage), with a warning below a threshold, and stops the job before
// a local volume it writes to is full: a store that fills its disk fails badly (Cassandra stops
// its native transport, Kafka's broker exits), while a job that stops in time resumes exactly.
// A store that does not answer is reported, and asked again next time.
package diskwatch

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/twmb/franz-go/pkg/kadm"

	"idxstream/storage"
)

// Watch polls the stores. Cassandra and MySQL do not tell their volume over their protocols, so
// their free space is in `make status` on their host; Kafka's brokers report theirs.
type Watch struct {
	Kafka     *kadm.Client
	Cassandra func() *gocql.ClusterConfig // the job's role; a session is opened on first use
	Keyspace  string
	DB        *sql.DB
	Database  string
	// Every is how often the local volumes of Dirs are looked at (a statfs each); the servers are
	// asked what their stores hold every ServersEvery (0: every time), which is slower to change
	// and costs them queries.
	Every        time.Duration
	ServersEvery time.Duration
	MinFree      float64 // a share of a volume: below it, a warning
	// Dirs are local directories the stores or Spark write to (the stack's data); when one's
	// volume has less than StopFree left, Run returns an error marked storage.ErrFull.
	Dirs     []string
	StopFree storage.Threshold
	Logger   *slog.Logger

	mu   sync.Mutex
	last Report
	// the servers' last answers, and when they were asked
	servers    []storage.Usage
	serverErrs []string
	asked      time.Time
	session    *gocql.Session
	low        map[string]bool // volumes warned about, so a warning is logged once per episode
}

// Report is the last poll.
type Report struct {
	At       time.Time       `json:"at"`
	Stores   []storage.Usage `json:"stores"`
	Warnings []string        `json:"warnings,omitempty"`
	Errors   []string        `json:"errors,omitempty"`
}

// Last is the last report (zero before the first poll).
func (w *Watch) Last() Report {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// Run polls until ctx ends (it returns nil then) or a watched directory's volume runs short.
func (w *Watch) Run(ctx context.Context) error {
	defer func() {
		if w.session != nil {
			w.session.Close()
		}
	}()
	for {
		r := w.poll(ctx)
		w.mu.Lock()
		w.last = r
		w.mu.Unlock()
		if err := w.short(r); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(w.Every):
		}
	}
}

func (w *Watch) poll(ctx context.Context) Report {
	if w.asked.IsZero() || time.Since(w.asked) >= w.ServersEvery {
		w.servers, w.serverErrs = w.askServers(ctx)
		w.asked = time.Now()
	}
	r := Report{At: time.Now().UTC(), Stores: slices.Clone(w.servers), Errors: slices.Clone(w.serverErrs)}
	for _, d := range w.Dirs {
		r.Stores = append(r.Stores, storage.Local(d))
	}
	if w.low == nil {
		w.low = map[string]bool{}
	}
	for _, u := range r.Stores {
		key := u.Store + " " + u.What + " " + u.Dir
		if !u.Low(w.MinFree) {
			w.low[key] = false
			continue
		}
		msg := u.Warning(w.MinFree)
		r.Warnings = append(r.Warnings, msg)
		if !w.low[key] {
			w.Logger.Warn("a store's volume is running out of space", "store", u.Store, "what", u.What, "detail", msg)
			w.low[key] = true
		}
	}
	return r
}

// askServers asks each store what it holds (and Kafka what its volumes have left).
func (w *Watch) askServers(ctx context.Context) ([]storage.Usage, []string) {
	// Short enough that a server that does not answer delays the local check little.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var stores []storage.Usage
	var errs []string
	fail := func(store string, err error) { errs = append(errs, fmt.Sprintf("%s: %v", store, err)) }
	if u, err := storage.Kafka(ctx, w.Kafka); err != nil {
		fail("kafka", err)
	} else {
		stores = append(stores, u...)
	}
	if s, err := w.cassandra(); err != nil {
		fail("cassandra", err)
	} else if u, err := storage.Cassandra(ctx, s, w.Keyspace, ""); err != nil {
		fail("cassandra", err)
	} else {
		stores = append(stores, u)
	}
	if u, err := storage.MySQL(ctx, w.DB, w.Database, ""); err != nil {
		fail("mysql", err)
	} else {
		stores = append(stores, u)
	}
	return stores, errs
}

// short is the error for the first watched volume with less than StopFree left.
func (w *Watch) short(r Report) error {
	for _, u := range r.Stores {
		if u.Store == "local" && w.StopFree.Under(u) {
			return fmt.Errorf("%w: %s has %s free of %s, less than JOB_DISK_STOP_FREE=%s; the job stopped before the stores "+
				"writing there fill it. Free space (shorten retention: docs/operations.md, \"Retention and disk\"), then start the job "+
				"again: it resumes from its checkpoints", storage.ErrFull, u.Dir, storage.FormatBytes(u.Free), storage.FormatBytes(u.Total), w.StopFree)
		}
	}
	return nil
}

func (w *Watch) cassandra() (*gocql.Session, error) {
	if w.session != nil {
		return w.session, nil
	}
	s, err := w.Cassandra().CreateSession()
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	w.session = s
	return s, nil
}
