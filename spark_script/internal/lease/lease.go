// Package lease makes sure one job writes at a time: the running job holds a lease (a row of MySQL
// job_lease per topic) with a fencing token that grows at every acquisition. A second job refuses
// to start and names the holder; one started with take-over bumps the token, and the old holder,
// whose next renewal fails, stops. The aggregate path's batch log checks the token in the same
// transaction as each of its writes (Fence), so a process that lost the lease cannot plan, clear
// or commit a batch any more.
//
// A lease expires TTL after its last renewal. A lease whose holder was a process of this host that
// no longer runs (a job killed with SIGKILL) is taken at once, so a restart after a crash does not
// wait for the expiry.
package lease

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrLost is returned once another process holds the lease.
var ErrLost = errors.New("the job lease was taken over by another process")

// HeldError says who holds the lease a job could not acquire.
type HeldError struct {
	Name, Holder string
	Since        time.Time
	Token        int64
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("another job holds the lease of topic %s: %s since %s (token %d); stop it, or start this one with --take-over (JOB_TAKE_OVER=1)",
		e.Name, e.Holder, e.Since.UTC().Format(time.RFC3339), e.Token)
}

// Lease is a held lease. Its methods are safe for concurrent use.
type Lease struct {
	db    *sql.DB
	name  string
	token int64
	ttl   time.Duration

	renewed atomic.Int64 // local clock (Unix ns) of the last acquisition or successful renewal
	lost    atomic.Bool  // a renewal found another holder
}

// Holder names this process: host and pid.
func Holder() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}

// Acquire takes the lease name (the job's topic) for holder. It fails with *HeldError while
// another live holder's lease has not expired, unless takeOver.
func Acquire(ctx context.Context, db *sql.DB, name, holder string, ttl time.Duration, takeOver bool) (*Lease, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("acquire the job lease: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit a no-op
	var (
		cur      HeldError
		expires  time.Time
		hasOwner bool
	)
	err = tx.QueryRowContext(ctx, `SELECT holder, acquired_at, token, expires_at FROM job_lease WHERE name = ? FOR UPDATE`, name).
		Scan(&cur.Holder, &cur.Since, &cur.Token, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("read the job lease: %w (is migration 006 applied? `make up`)", err)
	default:
		hasOwner = true
	}
	var now time.Time
	if err := tx.QueryRowContext(ctx, `SELECT UTC_TIMESTAMP(6)`).Scan(&now); err != nil {
		return nil, fmt.Errorf("read the server's clock: %w", err)
	}
	if hasOwner && expires.After(now) && !takeOver && cur.Holder != holder && !deadLocal(cur.Holder) {
		cur.Name = name
		return nil, &cur
	}
	token := cur.Token + 1
	if _, err := tx.ExecContext(ctx, `INSERT INTO job_lease (name, token, holder, acquired_at, renewed_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE token = VALUES(token), holder = VALUES(holder), acquired_at = VALUES(acquired_at),
			renewed_at = VALUES(renewed_at), expires_at = VALUES(expires_at)`,
		name, token, holder, now, now, now.Add(ttl)); err != nil {
		return nil, fmt.Errorf("write the job lease: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("acquire the job lease: %w", err)
	}
	l := &Lease{db: db, name: name, token: token, ttl: ttl}
	l.renewed.Store(time.Now().UnixNano())
	return l, nil
}

// Token is the fencing token of this holder.
func (l *Lease) Token() int64 { return l.token }

// LastRenewed is when the lease was last acquired or renewed, by this process's clock.
func (l *Lease) LastRenewed() time.Time { return time.Unix(0, l.renewed.Load()) }

// Held reports whether this process still holds the lease as far as it knows: no renewal has
// found another holder, and the last successful one is less than a TTL old (the metrics and
// status; the fencing in Fence is what protects the data).
func (l *Lease) Held() bool {
	return !l.lost.Load() && time.Since(l.LastRenewed()) < l.ttl
}

// Renew extends the lease by its TTL; ErrLost when another process holds it now.
func (l *Lease) Renew(ctx context.Context) error {
	res, err := l.db.ExecContext(ctx, `UPDATE job_lease SET renewed_at = UTC_TIMESTAMP(6),
		expires_at = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND WHERE name = ? AND token = ?`, l.ttl.Microseconds(), l.name, l.token)
	if err != nil {
		return fmt.Errorf("renew the job lease: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		l.lost.Store(true)
		return ErrLost
	}
	l.renewed.Store(time.Now().UnixNano())
	return nil
}

// Fence fails with ErrLost unless this lease still holds, inside tx, and keeps the lease row
// locked until tx ends, so that no take-over lands between the check and tx's writes.
func (l *Lease) Fence(ctx context.Context, tx *sql.Tx) error {
	var token int64
	err := tx.QueryRowContext(ctx, `SELECT token FROM job_lease WHERE name = ? FOR UPDATE`, l.name).Scan(&token)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("check the job lease: %w", err)
	}
	if token != l.token {
		return ErrLost
	}
	return nil
}

// Keep renews the lease every TTL/3 until ctx ends; it returns ErrLost (or a renewal error that
// lasts a whole TTL) so that the job stops writing.
func (l *Lease) Keep(ctx context.Context) error {
	every := max(l.ttl/3, time.Second)
	failingSince := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
		err := l.Renew(ctx)
		switch {
		case err == nil:
			failingSince = time.Time{}
		case errors.Is(err, ErrLost):
			return err
		case ctx.Err() != nil:
			return nil
		default:
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			if time.Since(failingSince) > l.ttl {
				return fmt.Errorf("the job lease could not be renewed for %s, longer than its TTL: %w", time.Since(failingSince).Round(time.Second), err)
			}
		}
	}
}

// Release gives the lease up (a clean stop), so that the next job starts at once.
func (l *Lease) Release(ctx context.Context) error {
	_, err := l.db.ExecContext(ctx, `UPDATE job_lease SET expires_at = UTC_TIMESTAMP(6) WHERE name = ? AND token = ?`, l.name, l.token)
	return err
}

// deadLocal reports whether holder ("host:pid") is a process of this host that does not run.
func deadLocal(holder string) bool {
	host, pidText, ok := strings.Cut(holder, ":")
	me, _ := os.Hostname()
	if !ok || host != me {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return false
	}
	err = syscall.Kill(pid, 0)
	return errors.Is(err, syscall.ESRCH)
}
