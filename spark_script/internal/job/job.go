// Package job wires the streaming job together: the Spark Connect session, the raw path's
// supervised streaming queries, the aggregate path's batch loop and the status endpoint.
package job

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/sync/errgroup"

	"idxstream/spark_script/internal/aggpath"
	"idxstream/spark_script/internal/batchlog"
	"idxstream/spark_script/internal/config"
	"idxstream/spark_script/internal/jobmetrics"
	"idxstream/spark_script/internal/lease"
	"idxstream/spark_script/internal/offsets"
	"idxstream/spark_script/internal/pipeline"
	"idxstream/spark_script/internal/rawpath"
	"idxstream/spark_script/internal/sinkcheck"
	"idxstream/spark_script/internal/statusapi"
	sc "idxstream/sparkconnect"
)

// Status is what GET /status returns.
type Status struct {
	Topic     string           `json:"topic"`
	Session   string           `json:"spark_session"`
	Raw       []rawpath.State  `json:"raw_queries"`
	Aggregate aggpath.Progress `json:"aggregate"`

	Health jobmetrics.Health `json:"health"` // ok, idle or stalled per path, with the reason
}

// Run runs the job until ctx ends. It returns an error when the job cannot start (stack not up,
// schema missing, bad settings) or a part fails for good; outages while running are retried.
func Run(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	session, err := sc.Connect(cfg.SparkRemote, sc.WithLogger(logger.With("component", "sparkconnect")),
		sc.WithClientType("idxstream-job"), sc.WithHeader(config.SparkSecretHeader, cfg.SparkSecret))
	if err != nil {
		return fmt.Errorf("spark connect: %w", err)
	}
	defer session.Close()
	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	version, err := session.SparkVersion(startCtx)
	if err != nil {
		return fmt.Errorf("no Spark Connect server answers at %s (is the stack up? `make up`): %w", shown(cfg.SparkRemote), err)
	}
	for k, v := range map[string]string{
		"spark.sql.session.timeZone":   "UTC",
		"spark.sql.shuffle.partitions": strconv.Itoa(cfg.ShufflePartitions),
		// The connector logs in as the job's role. Session settings, not writer options: options
		// are printed in query plans and errors, and Spark redacts settings named *password*.
		"spark.cassandra.auth.username": cfg.CassandraUser,
		"spark.cassandra.auth.password": cfg.CassandraPassword,
	} {
		if err := session.Conf().Set(startCtx, k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	logger.Info("connected to Spark", "remote", shown(cfg.SparkRemote), "version", version, "session", session.SessionID())

	db, err := openMySQL(startCtx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	// One job at a time: take the topic's lease before anything writes.
	holder := lease.Holder()
	held, err := lease.Acquire(startCtx, db, cfg.Topic, holder, cfg.LeaseTTL, cfg.TakeOver)
	if err != nil {
		return err
	}
	logger.Info("holding the job lease", "topic", cfg.Topic, "holder", holder, "token", held.Token(), "take_over", cfg.TakeOver)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = held.Release(ctx) // a clean stop frees the topic for the next job at once
	}()
	if cfg.TakeOver {
		// The old holder notices at its next renewal (every TTL/3) and stops its queries; start
		// ours once it has had the time to.
		wait := cfg.LeaseTTL/3 + 5*time.Second
		logger.Info("took the lease over; waiting for the old holder to stop", "wait", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}

	kafka, err := offsets.NewReader(strings.Split(cfg.KafkaBootstrap, ","))
	if err != nil {
		return err
	}
	defer kafka.Close()
	if _, _, err := kafka.Bounds(startCtx, cfg.Topic); err != nil {
		return fmt.Errorf("kafka at %s: %w (is the stack up, and the topic created by `make up`?)", cfg.KafkaBootstrap, err)
	}

	p := pipeline.New(session, pipeline.Settings{
		Topic: cfg.Topic, KafkaBootstrap: cfg.SparkKafkaBootstrap, MaxOffsetsPerTrigger: cfg.MaxOffsetsPerTrigger,
		Keyspace: cfg.Keyspace, CheckpointRoot: cfg.CheckpointRoot, RawTrigger: cfg.RawTrigger, MarketTZ: cfg.MarketTZ,
		MySQLURL: cfg.SparkMySQLURL, MySQLUser: cfg.MySQLUser, MySQLPassword: cfg.MySQLPassword,
	})
	var specs []rawpath.Spec
	for _, sink := range pipeline.Sinks() {
		specs = append(specs, rawpath.Spec{Name: p.QueryName(sink), Start: func(ctx context.Context) (rawpath.Query, error) {
			return p.StartRaw(ctx, sink)
		}})
	}
	raw := &rawpath.Supervisor{Specs: specs, Poll: cfg.QueryPoll, Logger: logger.With("component", "raw-path"),
		Ready: sinkcheck.Cassandra{Hosts: cfg.CassandraHosts, User: cfg.CassandraUser, Password: cfg.CassandraPassword}.Ready, StallAfter: max(30*cfg.RawTrigger, 10*time.Minute)}
	agg := &aggpath.Path{Topic: cfg.Topic, MaxRecords: cfg.MaxOffsetsPerTrigger, Trigger: cfg.AggTrigger, RawTrigger: cfg.RawTrigger,
		Log: batchlog.New(db, held), Bounds: kafka, Spark: p, Logger: logger.With("component", "aggregate-path")}

	// One part failing for good cancels the others, so that the job exits and can be restarted whole.
	g, ctx := errgroup.WithContext(ctx)
	part := func(name string, f func(context.Context) error) {
		g.Go(func() error {
			if err := f(ctx); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		})
	}
	part("job lease", held.Keep)
	part("raw path", raw.Run)
	part("aggregate path", agg.Run)
	if cfg.StatusAddr != "" {
		m := jobmetrics.New(jobmetrics.Config{Topic: cfg.Topic, RawTrigger: cfg.RawTrigger, AggTrigger: cfg.AggTrigger, Raw: raw, Agg: agg, Lease: held})
		part("metrics", m.Run)
		part("status endpoint", func(ctx context.Context) error {
			return statusapi.Serve(ctx, cfg.StatusAddr, func(context.Context) any {
				return Status{Topic: cfg.Topic, Session: session.SessionID(), Raw: raw.States(), Aggregate: agg.LastProgress(), Health: m.Health()}
			}, m.Handler(), logger.With("component", "status"))
		})
	}
	return g.Wait()
}

// shown is the connection string as it may be logged: host, port and user, no token nor other
// parameters (they may carry secrets).
func shown(remote string) string {
	if r, err := sc.ParseRemote(remote); err == nil {
		return r.String()
	}
	return "(unparsable SPARK_REMOTE)"
}

func openMySQL(ctx context.Context, cfg config.Config) (*sql.DB, error) {
	mc := mysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName = cfg.MySQLUser, cfg.MySQLPassword, "tcp", cfg.MySQLAddr, cfg.MySQLDatabase
	mc.ParseTime, mc.Loc = true, time.UTC
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	var n int
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables
		WHERE table_schema = ? AND table_name IN ('agg_batches', 'aggregated_data')`, cfg.MySQLDatabase).Scan(&n)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("mysql at %s as %s: %w (is the stack up? `make up`)", cfg.MySQLAddr, cfg.MySQLUser, err)
	}
	if n != 2 {
		db.Close()
		return nil, fmt.Errorf("mysql database %s lacks agg_batches or aggregated_data (or %s may not see them): run `make up`, which applies schema/", cfg.MySQLDatabase, cfg.MySQLUser)
	}
	return db, nil
}
