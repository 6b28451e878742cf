// Command stackctl prepares the servers of the stack for the pipeline. The launcher
// (stack/stack.sh, `make up`) runs it after starting the servers; it also works on its own:
//
//	stackctl migrate [-targets mysql,cassandra] [-schema dir] [-any-host]
//	    apply schema/mysql/*.sql and schema/cassandra/*.cql once each (recorded in
//	    schema_migrations), create the users trading_job, trading_producer, trading_dashboard
//	    with least-privilege grants, set settings.market_tz_offset from MARKET_TZ, give each
//	    Cassandra table its retention (CASSANDRA_TTL_*, CASSANDRA_GC_GRACE) and system_auth the
//	    keyspace's replication (CASSANDRA_REPLICATION)
//	stackctl topics [-partitions N] [-rf N]
//	    create trading_data and test_topic (KAFKA_PARTITIONS, KAFKA_REPLICATION_FACTOR); existing
//	    topics keep their partitions; both get the retention policy (KAFKA_RETENTION,
//	    KAFKA_RETENTION_BYTES) and KAFKA_MIN_INSYNC_REPLICAS (unset: the broker's)
//	stackctl wait kafka|cassandra|mysql|spark|spark-master|spark-worker [-timeout 60s] [-pid PID]
//	    wait until the server answers a real request (spark: SELECT 1 through Spark Connect with
//	    the secret; spark-master: its UI's /json/ says ALIVE; spark-worker: the master lists an
//	    ALIVE worker); with -pid, give up as soon as that process (the server starting) exits
//	stackctl init [-any-host] [-targets mysql,cassandra]
//	    wait for MySQL, Cassandra and Kafka, then migrate and topics: the one-shot preparation of
//	    a started stack (Docker's stack-init service; the native launcher runs the steps itself)
//	stackctl status [-table -]
//	    one line per service (SERVICE STATE ADDRESS), up only when it answers a real request;
//	    exit 1 when one is down. -table - reads the launcher's rows (its processes) from stdin
//	    and probes those that run; a node of a cluster (kafka-N, cassandra-N, spark-worker-N) is
//	    asked at its own address
//	stackctl namespace create|drop NAME, stackctl namespace list
//	    a test namespace (NAME = itest_…): keyspace and database NAME migrated like the product's,
//	    with the same users and grants; drop removes them, NAME_* topics and their checkpoints
//	stackctl fingerprint
//	    one line per table and topic of the product namespace with a digest of its data
//	stackctl disk
//	    the disk each store uses, the free space of its volume and the retention policy;
//	    a warning when a volume has less than DISK_MIN_FREE (10%) free
//	stackctl preflight
//	    before a test run: the servers answer and ./.env holds the running stack's passwords
//
// Configuration comes from the environment (docs/contracts.md) and ./.env.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"syscall"
	"time"
	_ "time/tzdata" // MARKET_TZ must resolve even where the system has no zoneinfo

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/joho/godotenv"

	"idxstream/stack/internal/cassadmin"
	"idxstream/stack/internal/config"
	"idxstream/stack/internal/kafkaadmin"
	"idxstream/stack/internal/migrate"
	"idxstream/stack/internal/mysqladmin"
	"idxstream/stack/internal/sqlsplit"
)

func main() {
	if err := godotenv.Load(); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, "stackctl: read .env:", err)
		os.Exit(2)
	}
	cfg, err := config.Load(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	var base *slog.Logger
	if err == nil {
		base, err = cfg.Log.New(os.Stderr)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "stackctl: invalid configuration:\n%v\n", err)
		os.Exit(2)
	}
	logger := base.With("component", "stackctl")
	logger.Debug("configuration", "config", cfg) // Config.LogValue redacts the passwords
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger); err != nil {
		if !errors.Is(err, errDown) { // status: its table already says what is down
			logger.Error("failed", "command", cfg.Command, "err", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	switch cfg.Command {
	case config.CmdMigrate:
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		return runMigrate(ctx, cfg, logger)
	case config.CmdTopics:
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		return runTopics(ctx, cfg, logger)
	case config.CmdWait:
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		return runWait(ctx, cfg, logger)
	case config.CmdNamespace:
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		return runNamespace(ctx, cfg, logger)
	case config.CmdPreflight:
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		return runPreflight(ctx, cfg, os.Stdout)
	case config.CmdFingerprint:
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		return runFingerprint(ctx, cfg, os.Stdout, logger)
	case config.CmdDisk:
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		return runDisk(ctx, cfg, os.Stdout, logger)
	case config.CmdStatus:
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		return runStatus(ctx, cfg, os.Stdin, os.Stdout)
	case config.CmdInit:
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		return runInit(ctx, cfg, logger)
	}
	return fmt.Errorf("unknown command %q", cfg.Command)
}

func runMigrate(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	if cfg.Has(config.TargetMySQL) {
		if err := migrateMySQL(ctx, cfg, cfg.MySQLDatabase, logger.With("db", "mysql")); err != nil {
			return err
		}
		if err := hardenMySQL(ctx, cfg, logger.With("db", "mysql")); err != nil {
			return err
		}
	}
	if cfg.Has(config.TargetCassandra) {
		if err := migrateCassandra(ctx, cfg, cfg.CassandraKeyspace, logger.With("db", "cassandra")); err != nil {
			return err
		}
	}
	return nil
}

// hardenMySQL closes the server's accounts without a password. Server-wide, so once per product
// migration, not per (test) database.
func hardenMySQL(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	adm, err := mysqladmin.Open(ctx, cfg.MySQLAdminDSN, cfg.MySQLDatabase)
	if err != nil {
		return err
	}
	defer adm.Close()
	return adm.Harden(ctx, osUser(), logger)
}

// migrateMySQL applies the MySQL schema to database (created if missing) and gives the users
// their grants on it.
func migrateMySQL(ctx context.Context, cfg config.Config, database string, logger *slog.Logger) error {
	files, err := migrate.LoadDir(filepath.Join(cfg.SchemaDir, "mysql"), ".sql")
	if err != nil {
		return err
	}
	adm, err := mysqladmin.Open(ctx, cfg.MySQLAdminDSN, database)
	if err != nil {
		return err
	}
	defer adm.Close()
	r := migrate.Runner{Exec: adm, Dialect: sqlsplit.MySQL, Logger: logger}
	res, err := r.Run(ctx, files)
	if err != nil {
		return fmt.Errorf("mysql migrations: %w", err)
	}
	logger.Info("migrations done", "database", database, "applied", len(res.Applied), "already", len(res.Skipped), "changed", len(res.Changed))
	hosts := []string{"localhost", "127.0.0.1"}
	if cfg.AnyHost {
		hosts = append(hosts, "%")
	}
	accounts := []mysqladmin.Account{
		{Name: cfg.JobUser.Name, Password: cfg.JobUser.Password, Role: mysqladmin.RoleJob},
		{Name: cfg.ProducerUser.Name, Password: cfg.ProducerUser.Password, Role: mysqladmin.RoleProducer},
		{Name: cfg.DashboardUser.Name, Password: cfg.DashboardUser.Password, Role: mysqladmin.RoleDashboard},
	}
	if err := adm.EnsureUsers(ctx, accounts, hosts, logger); err != nil {
		return err
	}
	off, err := adm.SetMarketTZ(ctx, cfg.MarketTZ, time.Now())
	if err != nil {
		return err
	}
	logger.Info("market time zone set", "zone", cfg.MarketTZ, "offset", off)
	return nil
}

// migrateCassandra applies the Cassandra schema to keyspace (created if missing).
func migrateCassandra(ctx context.Context, cfg config.Config, keyspace string, logger *slog.Logger) error {
	files, err := migrate.LoadDir(filepath.Join(cfg.SchemaDir, "cassandra"), ".cql")
	if err != nil {
		return err
	}
	session, err := cassSession(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer session.Close()
	exec := &cassadmin.Migrations{Session: session, Keyspace: keyspace, Replication: cfg.CassandraReplication}
	r := migrate.Runner{Exec: exec, Dialect: sqlsplit.CQL, Logger: logger,
		Vars: map[string]string{"replication": cfg.CassandraReplication, "keyspace": keyspace}}
	res, err := r.Run(ctx, files)
	if err != nil {
		return fmt.Errorf("cassandra migrations: %w", err)
	}
	// before the roles, so that a role made or changed now is written to system_auth's final replicas
	if err := cassadmin.ReplicateAuth(ctx, session, keyspace, logger); err != nil {
		return fmt.Errorf("cassandra system_auth: %w", err)
	}
	nodes := func() *gocql.ClusterConfig { return cassadmin.Cluster(cfg.CassandraHosts, cfg.CassandraPort) }
	if err := cassadmin.EnsureRoles(ctx, session, nodes, keyspace, cassandraRoles(cfg, keyspace), logger); err != nil {
		return fmt.Errorf("cassandra roles: %w", err)
	}
	changed, err := cassadmin.ApplyRetention(ctx, session, keyspace, cfg.Retention.Tables())
	for _, c := range changed {
		logger.Info("table retention changed", "keyspace", keyspace, "table", c)
	}
	if err != nil {
		return err
	}
	logger.Info("migrations done", "keyspace", keyspace, "applied", len(res.Applied), "already", len(res.Skipped), "changed", len(res.Changed))
	return nil
}

func runTopics(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	adm, err := kafkaadmin.New(cfg.KafkaBrokers, logger)
	if err != nil {
		return err
	}
	defer adm.Close()
	for _, t := range cfg.Topics {
		state, parts, changed, err := adm.EnsureTopic(ctx, t, int32(cfg.Partitions), int16(cfg.ReplicationFactor), cfg.TopicConfigs())
		if err != nil {
			return err
		}
		for _, c := range changed {
			logger.Info("topic config changed", "topic", t, "config", c)
		}
		if state == kafkaadmin.TopicExisted && parts != cfg.Partitions {
			logger.Warn("topic exists with another partition count; left as it is", "topic", t, "partitions", parts, "wanted", cfg.Partitions)
			continue
		}
		logger.Info("topic ready", "topic", t, "state", state, "partitions", parts)
	}
	return nil
}

// cassSession opens a CQL session as the stack's superuser (made on first use, see
// cassadmin.Admin, after system_auth gets the replication of CASSANDRA_REPLICATION).
func cassSession(ctx context.Context, cfg config.Config, logger *slog.Logger) (*gocql.Session, error) {
	auth, err := cassadmin.ParseReplication(cfg.CassandraReplication)
	if err != nil {
		return nil, fmt.Errorf("CASSANDRA_REPLICATION=%w", err)
	}
	return cassadmin.Admin(ctx, cfg.CassandraHosts, cfg.CassandraPort, login(cfg.CassandraAdmin), auth, logger)
}

// osUser is the operating-system user running stackctl (the native stack's MariaDB superuser).
func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

func login(u config.User) cassadmin.Login { return cassadmin.Login{Name: u.Name, Password: u.Password} }

// cassandraRoles are the application roles and exactly what they may do in keyspace ks
// (docs/contracts.md): the job writes the tables of the raw path and reads the keyspace; the
// dashboard reads the one table it shows.
func cassandraRoles(cfg config.Config, ks string) []cassadmin.RoleSpec {
	return []cassadmin.RoleSpec{
		{Login: login(cfg.CassandraJob), Grants: []cassadmin.Grant{
			{Permission: "SELECT", Resource: "KEYSPACE " + ks},
			{Permission: "MODIFY", Resource: "TABLE " + ks + ".real_time_data"},
			{Permission: "MODIFY", Resource: "TABLE " + ks + ".trades_by_ticker"},
			{Permission: "MODIFY", Resource: "TABLE " + ks + ".rejects"},
			// the disk its keyspace holds, for the job's status (package storage)
			{Permission: "SELECT", Resource: "TABLE system_views.disk_usage"},
		}},
		{Login: login(cfg.CassandraDashboard), Grants: []cassadmin.Grant{
			{Permission: "SELECT", Resource: "TABLE " + ks + ".trades_by_ticker"},
		}},
	}
}
