// Package storage tells how much disk each store of the pipeline holds and how much its volume
// has left: Kafka from its log directories (brokers report their volume from Kafka 3.3 on),
// Cassandra from the node's system_views.disk_usage, MySQL from information_schema. stackctl's
// `disk` command and the job's status both read it, so an operator sees the same figures in both.
package storage

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/twmb/franz-go/pkg/kadm"
)

// Usage is what one store holds: its parts (topics or tables) in bytes, and the volume it lives
// on (Total and Free -1 when unknown, e.g. a server on another host).
type Usage struct {
	Store string           `json:"store"` // kafka | cassandra | mysql
	What  string           `json:"what"`  // "broker 1", "keyspace trading", "database trading"
	Bytes int64            `json:"bytes"`
	Parts map[string]int64 `json:"parts"`
	Dir   string           `json:"dir,omitempty"`
	Total int64            `json:"volume_bytes"`
	Free  int64            `json:"volume_free_bytes"`
}

// FreeShare is Free/Total, or -1 when the volume is unknown.
func (u Usage) FreeShare() float64 {
	if u.Total <= 0 || u.Free < 0 {
		return -1
	}
	return float64(u.Free) / float64(u.Total)
}

// Low reports whether the volume is known and has less than minFree of it free.
func (u Usage) Low(minFree float64) bool { s := u.FreeShare(); return s >= 0 && s < minFree }

func (u *Usage) add(part string, n int64) {
	if u.Parts == nil {
		u.Parts = map[string]int64{}
	}
	u.Parts[part] += n
	u.Bytes += n
}

// Kafka describes every log directory of every broker, one Usage each.
func Kafka(ctx context.Context, adm *kadm.Client) ([]Usage, error) {
	all, err := adm.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("describe kafka log dirs: %w", err)
	}
	var out []Usage
	for _, d := range all.Sorted() {
		if d.Err != nil {
			return nil, fmt.Errorf("describe kafka log dir %s of broker %d: %w", d.Dir, d.Broker, d.Err)
		}
		u := Usage{Store: "kafka", What: fmt.Sprintf("broker %d", d.Broker), Dir: d.Dir, Parts: map[string]int64{}, Total: d.TotalBytes, Free: d.UsableBytes}
		d.Topics.Each(func(p kadm.DescribedLogDirPartition) { u.add(p.Topic, p.Size) })
		out = append(out, u)
	}
	return out, nil
}

// Cassandra returns the bytes of each table of keyspace ks on the node the session asks (live
// sstables, rounded up to MiB by Cassandra; memtables not yet flushed are not counted). The
// volume is unknown to CQL: dataDir, when not empty and on this host, supplies it.
func Cassandra(ctx context.Context, s *gocql.Session, ks, dataDir string) (Usage, error) {
	u := Usage{Store: "cassandra", What: "keyspace " + ks, Parts: map[string]int64{}}
	it := s.Query("SELECT table_name, mebibytes FROM system_views.disk_usage WHERE keyspace_name = ?", ks).IterContext(ctx)
	var name string
	var mib int64
	for it.Scan(&name, &mib) {
		u.add(name, mib<<20)
	}
	if err := it.Close(); err != nil {
		return u, fmt.Errorf("read system_views.disk_usage of %s: %w", ks, err)
	}
	u.Dir, u.Total, u.Free = volume(dataDir)
	return u, nil
}

// MySQL returns the bytes of each table of database (data and indexes as InnoDB estimates them,
// in whole pages). The volume comes from dataDir as for Cassandra.
func MySQL(ctx context.Context, db *sql.DB, database, dataDir string) (Usage, error) {
	u := Usage{Store: "mysql", What: "database " + database, Parts: map[string]int64{}}
	rows, err := db.QueryContext(ctx, `SELECT table_name, COALESCE(data_length, 0) + COALESCE(index_length, 0)
		FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'`, database)
	if err != nil {
		return u, fmt.Errorf("read the table sizes of %s: %w", database, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return u, fmt.Errorf("read the table sizes of %s: %w", database, err)
		}
		u.add(name, n)
	}
	if err := rows.Err(); err != nil {
		return u, fmt.Errorf("read the table sizes of %s: %w", database, err)
	}
	u.Dir, u.Total, u.Free = volume(dataDir)
	return u, nil
}

// Local is the volume holding dir on this host, as a Usage of store "local" (Total and Free -1
// when dir does not exist here).
func Local(dir string) Usage {
	d, total, free := volume(dir)
	return Usage{Store: "local", What: dir, Dir: d, Total: total, Free: free}
}

// volume is the size and the space left to unprivileged users of the filesystem holding dir;
// -1 when dir is empty or not on this host.
func volume(dir string) (string, int64, int64) {
	if dir == "" {
		return "", -1, -1
	}
	if _, err := os.Stat(dir); err != nil {
		return "", -1, -1
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return dir, -1, -1
	}
	return dir, int64(st.Blocks) * st.Bsize, int64(st.Bavail) * st.Bsize
}

// FormatBytes renders n in binary units with one decimal.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGT"[exp])
}

// Warning is the operator's message for a volume below minFree, naming the fix.
func (u Usage) Warning(minFree float64) string {
	where := u.Store + " " + u.What
	if u.Dir != "" {
		where += " (" + u.Dir + ")"
	}
	return fmt.Sprintf("%s: %s free of %s (%.0f%%), below %.0f%%: shorten retention (docs/operations.md, \"Retention and disk\") or add disk",
		where, FormatBytes(u.Free), FormatBytes(u.Total), 100*u.FreeShare(), 100*minFree)
}

// MinFreeFromEnv reads DISK_MIN_FREE (a share of a volume such as "10%", the default): below it,
// a volume is a warning in `make status` and the job's status alike.
func MinFreeFromEnv(getenv func(string) string) (float64, error) {
	v := strings.TrimSpace(getenv("DISK_MIN_FREE"))
	if v == "" {
		v = "10%"
	}
	pct, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	if err != nil || pct < 0 || pct >= 100 {
		return 0.10, fmt.Errorf("DISK_MIN_FREE=%q: want a share of the volume such as 10%%", v)
	}
	return pct / 100, nil
}
