// Package cassadmin is stackctl's one door to Cassandra: a CQL session, a migrate.Executor that
// records applied files in <keyspace>.schema_migrations, and a readiness wait.
package cassadmin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Cluster builds the driver configuration for hosts ("host" or "host:port"; port defaults to port).
func Cluster(hosts []string, port int) *gocql.ClusterConfig {
	addrs := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, strconv.Itoa(port))
		}
		addrs = append(addrs, h)
	}
	c := gocql.NewCluster(addrs...)
	c.Consistency = gocql.One
	c.Timeout = 30 * time.Second // DDL waits for schema agreement
	c.ConnectTimeout = 10 * time.Second
	c.DisableInitialHostLookup = len(addrs) == 1
	c.Logger = gocql.NewLogger(gocql.LogLevelWarn)
	return c
}

// Migrations is a migrate.Executor for one keyspace. The keyspace is created with replication
// before the table that records migrations (the first schema file creates it again, IF NOT EXISTS).
type Migrations struct {
	Session     *gocql.Session
	Keyspace    string
	Replication string
}

// EnsureTable implements migrate.Executor.
func (m *Migrations) EnsureTable(ctx context.Context) error {
	if err := m.Session.Query("CREATE KEYSPACE IF NOT EXISTS " + m.Keyspace + " WITH replication = " + m.Replication).ExecContext(ctx); err != nil {
		return fmt.Errorf("create keyspace %s: %w", m.Keyspace, err)
	}
	return m.Session.Query("CREATE TABLE IF NOT EXISTS " + m.Keyspace +
		".schema_migrations (file_name text PRIMARY KEY, checksum text, applied_at timestamp)").ExecContext(ctx)
}

// Applied implements migrate.Executor.
func (m *Migrations) Applied(ctx context.Context) (map[string]string, error) {
	it := m.Session.Query("SELECT file_name, checksum FROM " + m.Keyspace + ".schema_migrations").IterContext(ctx)
	out := map[string]string{}
	var name, sum string
	for it.Scan(&name, &sum) {
		out[name] = sum
	}
	return out, it.Close()
}

// Exec implements migrate.Executor.
func (m *Migrations) Exec(ctx context.Context, stmt string) error {
	return m.Session.Query(stmt).ExecContext(ctx)
}

// Record implements migrate.Executor.
func (m *Migrations) Record(ctx context.Context, name, checksum string, at time.Time) error {
	return m.Session.Query("INSERT INTO "+m.Keyspace+".schema_migrations (file_name, checksum, applied_at) VALUES (?, ?, ?)",
		name, checksum, at).ExecContext(ctx)
}

// Wait connects and runs `SELECT release_version FROM system.local` until it answers or ctx
// ends; it returns the version.
func Wait(ctx context.Context, cluster *gocql.ClusterConfig) (string, error) {
	var last error
	for {
		v, err := releaseVersion(ctx, cluster)
		if err == nil {
			return v, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for cassandra: %w", errors.Join(ctx.Err(), last))
		case <-time.After(2 * time.Second):
		}
	}
}

func releaseVersion(ctx context.Context, cluster *gocql.ClusterConfig) (string, error) {
	s, err := cluster.CreateSession()
	if err != nil {
		return "", fmt.Errorf("connect to cassandra: %w", err)
	}
	defer s.Close()
	var v string
	if err := s.Query("SELECT release_version FROM system.local").ScanContext(ctx, &v); err != nil {
		return "", fmt.Errorf("query system.local: %w", err)
	}
	return v, nil
}

// DropKeyspace drops keyspace ks if it exists.
func DropKeyspace(ctx context.Context, session *gocql.Session, ks string) error {
	if err := session.Query("DROP KEYSPACE IF EXISTS " + ks).ExecContext(ctx); err != nil {
		return fmt.Errorf("drop keyspace %s: %w", ks, err)
	}
	return nil
}

// Keyspaces lists the keyspaces whose names start with prefix.
func Keyspaces(ctx context.Context, session *gocql.Session, prefix string) ([]string, error) {
	it := session.Query("SELECT keyspace_name FROM system_schema.keyspaces").IterContext(ctx)
	var out []string
	var n string
	for it.Scan(&n) {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("list keyspaces: %w", err)
	}
	sort.Strings(out)
	return out, nil
}
