package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"idxstream/stack/internal/cassadmin"
	"idxstream/stack/internal/config"
	"idxstream/stack/internal/kafkaadmin"
	"idxstream/stack/internal/mysqladmin"
	"idxstream/stack/internal/retention"
)

// runDisk prints, per store, the bytes it holds and the free space of its volume, then the
// retention policy, and a warning per volume below cfg.MinFree. Kafka reports its volumes itself;
// for Cassandra and MySQL the volume is known only when their data directory is on this host (the
// native launcher's STACK_HOME), otherwise the line says so.
func runDisk(ctx context.Context, cfg config.Config, w io.Writer, logger *slog.Logger) error {
	var warnings []string
	volume := func(store string, total, usable int64) string {
		if total <= 0 || usable < 0 {
			return "volume not reported"
		}
		share := float64(usable) / float64(total)
		if share < cfg.MinFree {
			warnings = append(warnings, fmt.Sprintf("WARNING %s: %s free of %s (%.0f%%), below DISK_MIN_FREE %.0f%%: "+
				"shorten retention (docs/operations.md, \"Retention and disk\") or add disk",
				store, retention.FormatBytes(usable), retention.FormatBytes(total), 100*share, 100*cfg.MinFree))
		}
		return fmt.Sprintf("%s free of %s (%.0f%%)", retention.FormatBytes(usable), retention.FormatBytes(total), 100*share)
	}
	local := func(dir string) string {
		total, usable, err := statfs(dir)
		if err != nil {
			return "volume not on this host"
		}
		return volume(dir, total, usable)
	}
	fmt.Fprintf(w, "%-10s %-34s %12s  %s\n", "STORE", "WHAT", "USED", "VOLUME")
	var failed []error

	adm, err := kafkaadmin.New(cfg.KafkaBrokers, logger)
	if err == nil {
		defer adm.Close()
		var dirs []kafkaadmin.LogDir
		if dirs, err = adm.LogDirs(ctx); err == nil {
			for _, d := range dirs {
				var sum int64
				for _, n := range d.TopicBytes {
					sum += n
				}
				fmt.Fprintf(w, "%-10s %-34s %12s  %s\n", "kafka", fmt.Sprintf("broker %d", d.Broker), retention.FormatBytes(sum),
					volume(fmt.Sprintf("kafka broker %d %s", d.Broker, d.Dir), d.Total, d.Usable))
				for _, t := range slices.Sorted(maps.Keys(d.TopicBytes)) {
					if t == "trading_data" || d.TopicBytes[t] >= 1<<20 {
						fmt.Fprintf(w, "%-10s %-34s %12s\n", "", "  topic "+t, retention.FormatBytes(d.TopicBytes[t]))
					}
				}
			}
		}
	}
	if err != nil {
		failed = append(failed, fmt.Errorf("kafka: %w", err))
	}

	session, err := cassSession(ctx, cfg, logger)
	if err == nil {
		defer session.Close()
		var tables map[string]int64
		if tables, err = cassadmin.TableBytes(ctx, session, cfg.CassandraKeyspace); err == nil {
			fmt.Fprintf(w, "%-10s %-34s %12s  %s\n", "cassandra", "keyspace "+cfg.CassandraKeyspace, retention.FormatBytes(sumOf(tables)),
				local(filepath.Join(cfg.StackHome, "cassandra", "data")))
			for _, t := range slices.Sorted(maps.Keys(tables)) {
				fmt.Fprintf(w, "%-10s %-34s %12s\n", "", "  table "+t, retention.FormatBytes(tables[t]))
			}
		}
	}
	if err != nil {
		failed = append(failed, fmt.Errorf("cassandra: %w", err))
	}

	db, err := mysqladmin.Open(ctx, cfg.MySQLAdminDSN, cfg.MySQLDatabase)
	if err == nil {
		defer db.Close()
		var tables map[string]int64
		if tables, err = db.TableBytes(ctx); err == nil {
			fmt.Fprintf(w, "%-10s %-34s %12s  %s\n", "mysql", "database "+cfg.MySQLDatabase, retention.FormatBytes(sumOf(tables)),
				local(filepath.Join(cfg.StackHome, "mariadb", "data")))
			for _, t := range slices.Sorted(maps.Keys(tables)) {
				if tables[t] >= 1<<20 {
					fmt.Fprintf(w, "%-10s %-34s %12s\n", "", "  table "+t, retention.FormatBytes(tables[t]))
				}
			}
		}
	}
	if err != nil {
		failed = append(failed, fmt.Errorf("mysql: %w", err))
	}

	fmt.Fprintln(w, "retention:")
	for _, l := range cfg.Retention.Describe() {
		fmt.Fprintln(w, "  "+l)
	}
	for _, l := range warnings {
		fmt.Fprintln(w, l)
	}
	for _, err := range failed {
		fmt.Fprintln(w, "unavailable:", err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of 3 stores did not report their disk use", len(failed))
	}
	return nil
}

func sumOf(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// statfs returns the size and the space left to unprivileged users of the volume holding dir.
func statfs(dir string) (total, usable int64, err error) {
	if _, err := os.Stat(dir); err != nil {
		return 0, 0, err
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Blocks) * st.Bsize, int64(st.Bavail) * st.Bsize, nil
}
