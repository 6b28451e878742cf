// Package migrate applies versioned schema files (schema/mysql/*.sql, schema/cassandra/*.cql) in
// file-name order, once each. Every applied file is recorded with its SHA-256 checksum in a
// schema_migrations table of the target database, so a second run changes nothing and a new file
// brings an older schema up to date. A recorded file whose content changed since is reported, not
// re-applied (write a new file instead).
//
// The database side sits behind Executor, implemented for MySQL in package mysqladmin and for
// Cassandra in package cassadmin.
package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"idxstream/stack/internal/sqlsplit"
)

// File is one schema file.
type File struct {
	Name    string // base name, e.g. 001_core.sql; the key in schema_migrations
	Content string // raw content; the checksum is taken over it
}

// CanonicalKeyspace is what {{keyspace}} stands for when a checksum is taken. The Cassandra files
// named the keyspace `trading` literally until they were made keyspace-relative (so that tests can
// migrate a keyspace of their own); taking the checksum over the canonical form keeps the
// checksums that stacks recorded before that change.
const CanonicalKeyspace = "trading"

// Checksum is the hex SHA-256 of the file's content in canonical form: every {{keyspace}}
// placeholder written as CanonicalKeyspace, everything else raw.
func (f File) Checksum() string {
	sum := sha256.Sum256([]byte(strings.ReplaceAll(f.Content, "{{keyspace}}", CanonicalKeyspace)))
	return hex.EncodeToString(sum[:])
}

// Executor is what a target database offers the runner. Calls are sequential.
type Executor interface {
	// EnsureTable creates the schema_migrations table (and what it lives in) if missing.
	EnsureTable(ctx context.Context) error
	// Applied returns the recorded migrations: file name -> checksum.
	Applied(ctx context.Context) (map[string]string, error)
	// Exec runs one statement.
	Exec(ctx context.Context, stmt string) error
	// Record stores that the file was applied.
	Record(ctx context.Context, name, checksum string, at time.Time) error
}

// Runner applies files through an Executor.
type Runner struct {
	Exec    Executor
	Dialect sqlsplit.Dialect
	// Vars are substituted for {{name}} placeholders before splitting (e.g. "replication").
	Vars   map[string]string
	Logger *slog.Logger
	// Now returns the time recorded as applied_at; time.Now when nil.
	Now func() time.Time
}

// Result says what a run did.
type Result struct {
	Applied []string // files applied by this run, in order
	Skipped []string // files already recorded with the same checksum
	Changed []string // files recorded with another checksum (not re-applied)
}

// Run applies the files not yet recorded, in the order given (LoadDir sorts by name).
// It stops at the first failing statement; the files before it stay recorded.
func (r *Runner) Run(ctx context.Context, files []File) (Result, error) {
	var res Result
	logger := r.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	if err := r.Exec.EnsureTable(ctx); err != nil {
		return res, fmt.Errorf("create schema_migrations: %w", err)
	}
	applied, err := r.Exec.Applied(ctx)
	if err != nil {
		return res, fmt.Errorf("read schema_migrations: %w", err)
	}
	for _, f := range files {
		sum := f.Checksum()
		if old, ok := applied[f.Name]; ok {
			if old == sum {
				res.Skipped = append(res.Skipped, f.Name)
			} else {
				res.Changed = append(res.Changed, f.Name)
				logger.Warn("schema file changed after it was applied; not re-applied (add a new file instead)",
					"file", f.Name, "recorded", short(old), "now", short(sum))
			}
			continue
		}
		text, err := Substitute(f.Content, r.Vars)
		if err != nil {
			return res, fmt.Errorf("migration %s: %w", f.Name, err)
		}
		stmts := sqlsplit.Split(text, r.Dialect)
		for i, s := range stmts {
			if err := r.Exec.Exec(ctx, s); err != nil {
				return res, fmt.Errorf("migration %s, statement %d (%s): %w", f.Name, i+1, firstLine(s), err)
			}
		}
		if err := r.Exec.Record(ctx, f.Name, sum, now().UTC()); err != nil {
			return res, fmt.Errorf("record migration %s: %w", f.Name, err)
		}
		logger.Info("applied", "file", f.Name, "statements", len(stmts))
		res.Applied = append(res.Applied, f.Name)
	}
	return res, nil
}

// LoadDir reads dir/*ext (ext with its dot, e.g. ".sql"), sorted by file name.
func LoadDir(dir, ext string) ([]File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read schema dir: %w", err)
	}
	var files []File
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ext {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read schema file: %w", err)
		}
		files = append(files, File{Name: e.Name(), Content: string(b)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

// Substitute replaces every {{name}} with vars[name]; an unknown name is an error.
func Substitute(text string, vars map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			return "", fmt.Errorf("unclosed {{ placeholder")
		}
		name := strings.TrimSpace(text[i+2 : i+j])
		v, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("no value for placeholder {{%s}}", name)
		}
		b.WriteString(text[:i])
		b.WriteString(v)
		text = text[i+j+2:]
	}
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}
