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
	"strings"

	"idxstream/stack/internal/cassadmin"
	"idxstream/stack/internal/config"
	"idxstream/stack/internal/fingerprint"
	"idxstream/stack/internal/kafkaadmin"
	"idxstream/stack/internal/mysqladmin"
	"idxstream/stack/internal/namespace"
)

// runNamespace creates, drops or lists test namespaces. A namespace is made with the product's own
// migrations and users, so a test exercises the same schema and grants as the product.
func runNamespace(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	logger = logger.With("namespace", cfg.NsName)
	switch cfg.NsOp {
	case config.NsCreate:
		if err := migrateMySQL(ctx, cfg, cfg.NsName, logger.With("db", "mysql")); err != nil {
			return fmt.Errorf("namespace %s: %w", cfg.NsName, err)
		}
		if err := migrateCassandra(ctx, cfg, cfg.NsName, logger.With("db", "cassandra")); err != nil {
			return fmt.Errorf("namespace %s: %w", cfg.NsName, err)
		}
		fmt.Println(cfg.NsName)
		return nil
	case config.NsDrop:
		return dropNamespace(ctx, cfg, cfg.NsName, logger)
	case config.NsList:
		return listNamespaces(ctx, cfg, os.Stdout, logger)
	}
	return fmt.Errorf("unknown namespace operation %q", cfg.NsOp)
}

func dropNamespace(ctx context.Context, cfg config.Config, name string, logger *slog.Logger) error {
	if !namespace.Valid(name) { // checked by Validate too: this is the last guard before DROP
		return fmt.Errorf("refusing to drop %q: not a test namespace", name)
	}
	if err := mysqladmin.DropDatabase(ctx, cfg.MySQLAdminDSN, name); err != nil {
		return err
	}
	session, err := cassSession(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer session.Close()
	if err := cassadmin.DropKeyspace(ctx, session, name); err != nil {
		return err
	}
	adm, err := kafkaadmin.New(cfg.KafkaBrokers, logger)
	if err != nil {
		return err
	}
	defer adm.Close()
	topics, err := adm.Topics(ctx)
	if err != nil {
		return err
	}
	var mine []string
	for _, t := range topics {
		if namespace.OwnsTopic(name, t) {
			mine = append(mine, t)
		}
	}
	if err := adm.DeleteTopics(ctx, mine...); err != nil {
		return err
	}
	// Streaming checkpoints are named after the topic (the job's query names); natively they sit
	// under the Spark directory of the stack. In Docker they live in the spark volume, which
	// `make clean` removes.
	var removed int
	cps, _ := filepath.Glob(filepath.Join(cfg.StackHome, "spark", "checkpoints", name+"_*"))
	for _, cp := range cps {
		if err := os.RemoveAll(cp); err != nil {
			return fmt.Errorf("remove checkpoint %s: %w", cp, err)
		}
		removed++
	}
	logger.Info("namespace dropped", "topics", len(mine), "checkpoints", removed)
	return nil
}

func listNamespaces(ctx context.Context, cfg config.Config, w io.Writer, logger *slog.Logger) error {
	dbs, err := mysqladmin.Databases(ctx, cfg.MySQLAdminDSN, namespace.Prefix)
	if err != nil {
		return err
	}
	session, err := cassSession(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer session.Close()
	kss, err := cassadmin.Keyspaces(ctx, session, namespace.Prefix)
	if err != nil {
		return err
	}
	seen := map[string][]string{}
	for _, d := range dbs {
		seen[d] = append(seen[d], "mysql")
	}
	for _, k := range kss {
		seen[k] = append(seen[k], "cassandra")
	}
	for _, n := range sortedKeys(seen) {
		fmt.Fprintf(w, "%s\t%s\n", n, strings.Join(seen[n], ","))
	}
	return nil
}

// runFingerprint prints a digest of every table and topic of the product namespace
// (MYSQL_DATABASE, CASSANDRA_KEYSPACE, the topics outside test namespaces).
func runFingerprint(ctx context.Context, cfg config.Config, w io.Writer, logger *slog.Logger) error {
	adm, err := mysqladmin.Open(ctx, cfg.MySQLAdminDSN, cfg.MySQLDatabase)
	if err != nil {
		return err
	}
	defer adm.Close()
	lines, err := fingerprint.MySQL(ctx, adm.DB())
	if err != nil {
		return err
	}
	session, err := cassSession(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer session.Close()
	cl, err := fingerprint.Cassandra(ctx, session, cfg.CassandraKeyspace)
	if err != nil {
		return err
	}
	lines = append(lines, cl...)
	kadm, err := kafkaadmin.New(cfg.KafkaBrokers, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer kadm.Close()
	topics, err := kadm.Topics(ctx)
	if err != nil {
		return err
	}
	offs := map[string]fingerprint.Offsets{}
	for _, t := range topics {
		if strings.HasPrefix(t, namespace.Prefix) {
			continue
		}
		s, e, err := kadm.Offsets(ctx, t)
		if err != nil {
			return err
		}
		offs[t] = fingerprint.Offsets{Start: s, End: e}
	}
	lines = append(lines, fingerprint.Kafka(offs)...)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	return nil
}

func sortedKeys(m map[string][]string) []string {
	return slices.Sorted(maps.Keys(m))
}
