package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"idxstream/stack/internal/config"
	"idxstream/stack/internal/kafkaadmin"
	"idxstream/stack/internal/mysqladmin"
	"idxstream/storage"
)

// runDisk prints, per store, the bytes it holds and the free space of its volume, then the
// retention policy, and a warning per volume below cfg.MinFree. Kafka reports its volumes itself;
// for Cassandra and MySQL the volume is known only when their data directory is on this host (the
// native launcher's STACK_HOME).
func runDisk(ctx context.Context, cfg config.Config, w io.Writer, logger *slog.Logger) error {
	var usages []storage.Usage
	var failed []error
	if adm, err := kafkaadmin.New(cfg.KafkaBrokers, logger); err != nil {
		failed = append(failed, err)
	} else {
		defer adm.Close()
		u, err := storage.Kafka(ctx, adm.Client())
		usages = append(usages, u...)
		failed = append(failed, err)
	}
	if session, err := cassSession(ctx, cfg, logger); err != nil {
		failed = append(failed, err)
	} else {
		defer session.Close()
		u, err := storage.Cassandra(ctx, session, cfg.CassandraKeyspace, cassandraDataDir(cfg.StackHome))
		usages = append(usages, u)
		failed = append(failed, err)
	}
	if db, err := mysqladmin.Open(ctx, cfg.MySQLAdminDSN, cfg.MySQLDatabase); err != nil {
		failed = append(failed, err)
	} else {
		defer db.Close()
		u, err := storage.MySQL(ctx, db.DB(), cfg.MySQLDatabase, filepath.Join(cfg.StackHome, "mariadb", "data"))
		usages = append(usages, u)
		failed = append(failed, err)
	}
	printUsage(w, usages, cfg.MinFree)
	fmt.Fprintln(w, "retention:")
	for _, l := range cfg.Retention.Describe() {
		fmt.Fprintln(w, "  "+l)
	}
	for _, u := range usages {
		if u.Low(cfg.MinFree) {
			fmt.Fprintln(w, "WARNING "+u.Warning(cfg.MinFree))
		}
	}
	if err := errors.Join(failed...); err != nil {
		fmt.Fprintln(w, "unavailable:", err)
		return fmt.Errorf("not every store reported its disk use: %w", err)
	}
	return nil
}

// printUsage writes one line per store and one per part: every topic or table of a MiB or more,
// and trading_data always.
func printUsage(w io.Writer, usages []storage.Usage, minFree float64) {
	fmt.Fprintf(w, "%-10s %-34s %12s  %s\n", "STORE", "WHAT", "USED", "VOLUME")
	for _, u := range usages {
		if u.What == "" {
			continue // the store failed before it said what it holds
		}
		vol := "volume not on this host"
		if s := u.FreeShare(); s >= 0 {
			vol = fmt.Sprintf("%s free of %s (%.0f%%)", storage.FormatBytes(u.Free), storage.FormatBytes(u.Total), 100*s)
		}
		fmt.Fprintf(w, "%-10s %-34s %12s  %s\n", u.Store, u.What, storage.FormatBytes(u.Bytes), vol)
		for _, p := range slices.Sorted(maps.Keys(u.Parts)) {
			if u.Parts[p] >= 1<<20 || p == "trading_data" {
				fmt.Fprintf(w, "%-10s %-34s %12s\n", "", "  "+p, storage.FormatBytes(u.Parts[p]))
			}
		}
	}
}

// cassandraDataDir is where the native launcher keeps Cassandra's data: the single node's
// directory, or node 1's of a cluster (the nodes of this machine's cluster share a volume, and
// system_views.disk_usage answers for the node the session asks).
func cassandraDataDir(home string) string {
	for _, node := range []string{"cassandra", "cassandra-1"} {
		if d := filepath.Join(home, node, "data"); dirExists(d) {
			return d
		}
	}
	return filepath.Join(home, "cassandra", "data")
}

func dirExists(d string) bool {
	fi, err := os.Stat(d)
	return err == nil && fi.IsDir()
}
