// Package fingerprint digests the data of the product's namespace (its MySQL database, Cassandra
// keyspace and Kafka topics) so that a test run can prove it left a user's data as it found it:
// the runner takes a fingerprint before and after the tests and compares the two.
//
// Each line names one object and its digest: MySQL tables by CHECKSUM TABLE and row count,
// Cassandra tables by a hash of every row in token order and row count, Kafka topics by the start
// and end offset of each partition. Topics of test namespaces are left out: they come and go
// during a run.
package fingerprint

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"reflect"
	"sort"
	"strings"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Line is one object's digest, e.g. {"mysql", "aggregated_data", "rows=12 checksum=…"}.
type Line struct {
	Store, Object, Digest string
}

func (l Line) String() string { return l.Store + " " + l.Object + " " + l.Digest }

// Diff returns the lines that differ between before and after, as readable sentences.
func Diff(before, after []Line) []string {
	index := func(ls []Line) map[string]string {
		m := map[string]string{}
		for _, l := range ls {
			m[l.Store+" "+l.Object] = l.Digest
		}
		return m
	}
	b, a := index(before), index(after)
	var out []string
	for k, d := range b {
		switch ad, ok := a[k]; {
		case !ok:
			out = append(out, fmt.Sprintf("%s: gone (was %s)", k, d))
		case ad != d:
			out = append(out, fmt.Sprintf("%s: %s, was %s", k, ad, d))
		}
	}
	for k, d := range a {
		if _, ok := b[k]; !ok {
			out = append(out, fmt.Sprintf("%s: new (%s)", k, d))
		}
	}
	sort.Strings(out)
	return out
}

// MySQL digests every base table of the database db is connected to.
func MySQL(ctx context.Context, db *sql.DB) ([]Line, error) {
	rows, err := db.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1")
	if err != nil {
		return nil, fmt.Errorf("list mysql tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []Line
	for _, t := range tables {
		var name string
		var sum sql.NullInt64
		if err := db.QueryRowContext(ctx, "CHECKSUM TABLE `"+t+"` EXTENDED").Scan(&name, &sum); err != nil {
			return nil, fmt.Errorf("checksum mysql table %s: %w", t, err)
		}
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM `"+t+"`").Scan(&n); err != nil {
			return nil, fmt.Errorf("count mysql table %s: %w", t, err)
		}
		out = append(out, Line{"mysql", t, fmt.Sprintf("rows=%d checksum=%d", n, sum.Int64)})
	}
	return out, nil
}

// Cassandra digests every table of keyspace ks by reading all of it (paged).
func Cassandra(ctx context.Context, s *gocql.Session, ks string) ([]Line, error) {
	it := s.Query("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", ks).IterContext(ctx)
	var tables []string
	var t string
	for it.Scan(&t) {
		tables = append(tables, t)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("list cassandra tables of %s: %w", ks, err)
	}
	sort.Strings(tables)
	var out []Line
	for _, t := range tables {
		n, h, err := digestTable(ctx, s, ks, t)
		if err != nil {
			return nil, err
		}
		out = append(out, Line{"cassandra", t, fmt.Sprintf("rows=%d hash=%016x", n, h)})
	}
	return out, nil
}

func digestTable(ctx context.Context, s *gocql.Session, ks, table string) (int64, uint64, error) {
	it := s.Query("SELECT * FROM " + ks + "." + table).PageSize(5000).IterContext(ctx)
	rd, err := it.RowData()
	if err != nil {
		it.Close()
		return 0, 0, fmt.Errorf("read cassandra table %s.%s: %w", ks, table, err)
	}
	h := fnv.New64a()
	var n int64
	for it.Scan(rd.Values...) {
		var b strings.Builder
		for _, v := range rd.Values {
			fmt.Fprintf(&b, "%v\x1f", reflect.Indirect(reflect.ValueOf(v)).Interface())
		}
		b.WriteByte('\x1e')
		h.Write([]byte(b.String()))
		n++
	}
	if err := it.Close(); err != nil {
		return 0, 0, fmt.Errorf("read cassandra table %s.%s: %w", ks, table, err)
	}
	return n, h.Sum64(), nil
}

// Offsets is what Kafka reports of one topic: partition -> [start, end).
type Offsets struct {
	Start, End map[int32]int64
}

// Kafka digests the topics given with their offsets.
func Kafka(topics map[string]Offsets) []Line {
	names := make([]string, 0, len(topics))
	for n := range topics {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Line
	for _, n := range names {
		o := topics[n]
		parts := make([]int32, 0, len(o.End))
		for p := range o.End {
			parts = append(parts, p)
		}
		sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
		var b strings.Builder
		for _, p := range parts {
			fmt.Fprintf(&b, "%d:%d-%d ", p, o.Start[p], o.End[p])
		}
		out = append(out, Line{"kafka", n, strings.TrimSpace(b.String())})
	}
	return out
}
