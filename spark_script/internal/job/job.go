// Package job wires the streaming job together: the Spark Connect session, the raw path's
// supervised streaming queries, the aggregate path's batch loop and the status endpoint.
package job

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"
	"golang.org/x/sync/errgroup"

	"idxstream/spark_script/internal/aggpath"
	"idxstream/spark_script/internal/batchlog"
	"idxstream/spark_script/internal/config"
	"idxstream/spark_script/internal/diskwatch"
	"idxstream/spark_script/internal/jobmetrics"
	"idxstream/spark_script/internal/lease"
	"idxstream/spark_script/internal/offsets"
	"idxstream/spark_script/internal/rawpath"
	"idxstream/spark_script/internal/rawrepair"
	"idxstream/spark_script/internal/sinkcheck"
	"idxstream/spark_script/internal/statusapi"
	sc "idxstream/sparkconnect"
	"idxstream/trade"
)

// Status is what GET /status returns.
type Status struct {
	Topic     string           `json:"topic"`
	Session   string           `json:"spark_session"`
	Raw       []rawpath.State  `json:"raw_queries"`
	Aggregate aggpath.Progress `json:"aggregate"`

	Health jobmetrics.Health `json:"health"` // ok, idle or stalled per path, with the reason
	// Storage: the disk each store holds and what Kafka's volumes have left, polled once a minute.
	Storage diskwatch.Report `json:"storage"`
}

// Run runs the job until ctx ends. It returns an error when the job cannot start (stack not up,
// schema missing, bad settings) or a part fails for good; outages while running are retried, and a
// Spark Connect server that lost the job's session (a restart) is given a new session.
//
// base carries no component: each part adds its own (the job's own lines have component=job).
func Run(ctx context.Context, cfg config.Config, base *slog.Logger) error {
	logger := base.With("component", "job")
	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	session, err := connect(startCtx, cfg, base)
	if err != nil {
		return err
	}
	// Closed when done: by the session loop below once it runs, here if the job stops before.
	looping := false
	defer func() {
		if !looping {
			session.Close()
		}
	}()

	db, err := openMySQL(startCtx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	ref, err := loadReference(startCtx, db, cfg)
	if err != nil {
		return err
	}
	logger.Info("checking trades against the profile", "companies", len(ref.Listings), "max_skew", cfg.MaxSkew,
		"dedup_horizon", cfg.DedupHorizon)

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

	zone, _ := time.LoadLocation(cfg.MarketTZ) // checked by config.Validate
	repair := &rawrepair.Cassandra{Hosts: cfg.CassandraHosts, User: cfg.CassandraUser, Password: cfg.CassandraPassword,
		Keyspace: cfg.Keyspace, Zone: zone, Consistency: cfg.CassandraConsistency}
	defer repair.Close()
	j := &paths{cfg: cfg, logger: base, ref: ref, db: db}
	// One aggregate path for the job's life: only its gate follows the session.
	j.agg = &aggpath.Path{Topic: cfg.Topic, MaxRecords: cfg.MaxOffsetsPerTrigger, Trigger: cfg.AggTrigger, RawTrigger: cfg.RawTrigger,
		Log: batchlog.New(db, held), Bounds: kafka, Gate: j, Repair: repair, Horizon: cfg.DedupHorizon,
		Logger: base.With("component", "aggregate-path")}

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
	looping = true
	part("spark", func(ctx context.Context) error {
		for {
			err := j.run(ctx, session)
			session.Close()
			if ctx.Err() != nil || !errors.Is(err, errSessionLost) {
				return err
			}
			logger.Warn("the Spark Connect server no longer knows the job's session (it restarted); opening a new session, "+
				"the queries resume from their checkpoints and an unfinished aggregate batch is replayed", "session", session.SessionID())
			if session = reconnect(ctx, cfg, base); session == nil {
				return nil // shutting down
			}
		}
	})
	// The disk watch runs with or without the status endpoint: it also stops the job before a
	// store's volume is full.
	disk := &diskwatch.Watch{Kafka: kafka.Admin(), Keyspace: cfg.Keyspace, DB: db, Database: cfg.MySQLDatabase,
		Cassandra: func() *gocql.ClusterConfig {
			return sinkcheck.Cluster(cfg.CassandraHosts, cfg.CassandraUser, cfg.CassandraPassword, 10*time.Second)
		},
		Every: cfg.DiskCheck, ServersEvery: time.Minute, MinFree: cfg.DiskMinFree, Dirs: cfg.DiskDirs, StopFree: cfg.DiskStopFree,
		Logger: base.With("component", "disk")}
	part("disk watch", disk.Run)
	if cfg.StatusAddr != "" {
		m := jobmetrics.New(jobmetrics.Config{Topic: cfg.Topic, RawTrigger: cfg.RawTrigger, AggTrigger: cfg.AggTrigger, Raw: j, Agg: j, Lease: held})
		part("metrics", m.Run)
		part("status endpoint", func(ctx context.Context) error {
			return statusapi.Serve(ctx, cfg.StatusAddr, func(context.Context) any {
				st := j.status()
				st.Health = m.Health()
				st.Storage = disk.Last()
				return st
			}, m.Handler(), base.With("component", "status"))
		})
	}
	return g.Wait()
}

// errSessionLost: the Spark Connect server no longer has the job's session (it restarted, and
// Spark 3.5 then opens an empty session under the old id).
var errSessionLost = errors.New("spark connect session lost")

// sessionMarker is a session setting the job sets at connect time: a server that no longer has
// it has lost the session, with its queries and settings.
const sessionMarker = "spark.idxstream.job.session"

// connect opens a Spark Connect session with the job's settings; base is the job's logger
// without a component.
func connect(ctx context.Context, cfg config.Config, base *slog.Logger) (*sc.Session, error) {
	logger := base.With("component", "job")
	session, err := sc.Connect(cfg.SparkRemote, sc.WithLogger(base.With("component", "sparkconnect")),
		sc.WithClientType("idxstream-job"), sc.WithHeader(config.SparkSecretHeader, cfg.SparkSecret))
	if err != nil {
		return nil, fmt.Errorf("spark connect: %w", err)
	}
	version, err := session.SparkVersion(ctx)
	if err != nil {
		session.Close()
		return nil, fmt.Errorf("no Spark Connect server answers at %s (is the stack up? `make up`): %w", shown(cfg.SparkRemote), err)
	}
	for k, v := range map[string]string{
		"spark.sql.session.timeZone":   "UTC",
		"spark.sql.shuffle.partitions": strconv.Itoa(cfg.ShufflePartitions),
		// The connector logs in as the job's role. Session settings, not writer options: options
		// are printed in query plans and errors, and Spark redacts settings named *password*.
		"spark.cassandra.auth.username": cfg.CassandraUser,
		"spark.cassandra.auth.password": cfg.CassandraPassword,
		sessionMarker:                   session.SessionID(),
	} {
		if err := session.Conf().Set(ctx, k, v); err != nil {
			session.Close()
			return nil, fmt.Errorf("set %s: %w", k, err)
		}
	}
	logger.Info("connected to Spark", "remote", shown(cfg.SparkRemote), "version", version, "session", session.SessionID())
	return session, nil
}

// reconnect opens a new session, retrying with backoff (the server may still be starting); nil
// when ctx ends first.
func reconnect(ctx context.Context, cfg config.Config, base *slog.Logger) *sc.Session {
	logger := base.With("component", "job")
	backoff := time.Second
	for {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		s, err := connect(cctx, cfg, base)
		cancel()
		if err == nil {
			return s
		}
		if ctx.Err() != nil {
			return nil
		}
		logger.Warn("Spark Connect not ready; will retry", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// paths runs the raw and aggregate paths on one Spark Connect session at a time.
type paths struct {
	cfg    config.Config
	logger *slog.Logger // without a component; each part adds its own
	ref    trade.Reference
	db     *sql.DB       // MySQL, where the raw path's micro-batches stage the aggregate path's trades
	agg    *aggpath.Path // for the job's life; its Gate is the current session's raw path

	mu      sync.Mutex
	session string
	raw     *rawpath.Supervisor
}

// States are the raw queries' on the current session (for the metrics).
func (j *paths) States() []rawpath.State {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.raw == nil {
		return nil
	}
	return j.raw.States()
}

// LastProgress is the aggregate path's last batch (for the metrics).
func (j *paths) LastProgress() aggpath.Progress { return j.agg.LastProgress() }

// Committed is the aggregate path's gate: the current session's raw queries.
func (j *paths) Committed(topic string) (offsets.Offsets, bool) {
	j.mu.Lock()
	raw := j.raw
	j.mu.Unlock()
	if raw == nil {
		return nil, false
	}
	return raw.Committed(topic)
}

// sinksReady tells whether the raw path's sinks answer: Cassandra, and MySQL, where each
// micro-batch stages its trades for the aggregate path.
func (j *paths) sinksReady(ctx context.Context) error {
	cfg := j.cfg
	if err := (sinkcheck.Cassandra{Hosts: cfg.CassandraHosts, User: cfg.CassandraUser, Password: cfg.CassandraPassword}).Ready(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := j.db.PingContext(ctx); err != nil {
		return fmt.Errorf("mysql at %s: %w", cfg.MySQLAddr, err)
	}
	return nil
}

// startingOffsets is where the raw path's query starts when it has no checkpoint (its first run,
// or a checkpoint lost): where the aggregate path's log ends, at the start of a batch it has not
// committed, so that every copy the aggregate path has yet to settle is staged again, and no
// trade it has counted, and perhaps repaired in the raw tables, is written again. A partition the
// log has not read starts at the earliest offset; so does a topic without batches ("earliest").
func (j *paths) startingOffsets(ctx context.Context) (string, error) {
	last, err := j.agg.Log.Last(ctx, j.cfg.Topic)
	if err != nil || last == nil {
		return "earliest", err
	}
	read := last.End
	if last.CommittedAt == nil {
		read = last.Start
	}
	_, end, err := j.agg.Bounds.Bounds(ctx, j.cfg.Topic)
	if err != nil {
		return "", fmt.Errorf("where the raw path starts: %w", err)
	}
	from := make(offsets.Offsets, len(end))
	for part := range end {
		from[part] = -2 // Spark's earliest
		if o, ok := read[part]; ok {
			from[part] = o
		}
	}
	return offsets.SparkJSON(j.cfg.Topic, from), nil
}

func (j *paths) status() Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := Status{Topic: j.cfg.Topic, Session: j.session, Aggregate: j.agg.LastProgress()}
	if j.raw != nil {
		st.Raw = j.raw.States()
	}
	return st
}

// run runs both paths on session until ctx ends, a path fails for good, or the session is lost
// (errSessionLost).
func (j *paths) run(ctx context.Context, session *sc.Session) error {
	cfg := j.cfg
	starting, err := j.startingOffsets(ctx)
	if err != nil {
		return err
	}
	plans := rawpath.NewPlans(session, rawpath.Settings{
		Topic: cfg.Topic, Kafka: cfg.SparkKafka(), MaxOffsetsPerTrigger: cfg.MaxOffsetsPerTrigger, StartingOffsets: starting,
		Keyspace: cfg.Keyspace, Consistency: cfg.CassandraConsistency.String(), CheckpointRoot: cfg.CheckpointRoot,
		Trigger: cfg.RawTrigger, MarketTZ: cfg.MarketTZ, Reference: j.ref,
		MySQLURL: cfg.SparkMySQLURL, MySQLUser: cfg.MySQLUser, MySQLPassword: cfg.MySQLPassword,
	})
	specs := []rawpath.Spec{{Name: plans.QueryName(), Start: func(ctx context.Context) (rawpath.Query, error) {
		return plans.Start(ctx)
	}}}
	raw := &rawpath.Supervisor{Specs: specs, Poll: cfg.QueryPoll, Logger: j.logger.With("component", "raw-path"),
		Ready: j.sinksReady, StallAfter: max(30*cfg.RawTrigger, 10*time.Minute)}
	j.mu.Lock()
	j.session, j.raw = session.SessionID(), raw
	j.mu.Unlock()

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return wrap("raw path", raw.Run(ctx)) })
	g.Go(func() error { return wrap("aggregate path", j.agg.Run(ctx)) })
	g.Go(func() error {
		return watchSession(ctx, session, cfg.QueryPoll, j.logger.With("component", "sparkconnect"))
	})
	return g.Wait()
}

func wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// watchSession checks every poll that the server still has the session; it returns
// errSessionLost when it does not, nil when ctx ends.
func watchSession(ctx context.Context, s *sc.Session, poll time.Duration, logger *slog.Logger) error {
	t := time.NewTicker(poll)
	defer t.Stop()
	var down time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, max(2*poll, 10*time.Second))
		v, ok, err := s.Conf().GetOption(cctx, sessionMarker)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			if down.IsZero() {
				down = time.Now()
				logger.Warn("Spark Connect does not answer; the paths retry until it does", "err", err)
			}
		case !ok || v != s.SessionID():
			return errSessionLost
		default:
			if !down.IsZero() {
				logger.Info("Spark Connect answers again with the job's session", "after", time.Since(down).Round(time.Second))
				down = time.Time{}
			}
		}
	}
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
		WHERE table_schema = ? AND table_name IN ('agg_batches', 'aggregated_data', 'agg_stage', 'trade_ids')`, cfg.MySQLDatabase).Scan(&n)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("mysql at %s as %s: %w (is the stack up? `make up`)", cfg.MySQLAddr, cfg.MySQLUser, err)
	}
	if n != 4 {
		db.Close()
		return nil, fmt.Errorf("mysql database %s lacks agg_batches, aggregated_data, agg_stage or trade_ids (or %s may not see them): run `make up`, which applies schema/", cfg.MySQLDatabase, cfg.MySQLUser)
	}
	return db, nil
}

// loadReference reads the companies that may trade from MySQL's profile. The job checks trades
// against the profile as read at start: restart the job after editing profile.
func loadReference(ctx context.Context, db *sql.DB, cfg config.Config) (trade.Reference, error) {
	ref, err := trade.ReadReference(ctx, db, cfg.MaxSkew)
	if err != nil {
		return ref, fmt.Errorf("mysql %s: %w", cfg.MySQLDatabase, err)
	}
	if len(ref.Listings) == 0 {
		return ref, fmt.Errorf("mysql %s.profile is empty: every trade would be rejected; `make up` seeds it (schema/mysql/003_seed_profile.sql)", cfg.MySQLDatabase)
	}
	return ref, nil
}
