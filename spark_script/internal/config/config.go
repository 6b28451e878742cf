// Package config holds the streaming job's settings: environment variables with local defaults,
// overridable by flags, checked once by Validate. Load does all three.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"idxstream/applog"
	"idxstream/envconf"
	"idxstream/storage"
)

// Config is everything the job needs. Addresses come in two flavours: as seen by this process
// (the Go driver) and as seen by the Spark cluster, which differ when Spark runs in containers or
// on other machines.
type Config struct {
	SparkRemote string // Spark Connect URL, sc://host:port (SPARK_REMOTE)
	// SparkSecret is the stack's Spark Connect secret (SPARK_CONNECT_SECRET), sent with every call
	// in the SparkSecretHeader header; the server's interceptor refuses calls without it. Never
	// logged.
	SparkSecret string

	Topic               string // Kafka topic with the trades (first argument or JOB_TOPIC)
	KafkaBootstrap      string // brokers as seen by this process (KAFKA_BOOTSTRAP_SERVERS)
	SparkKafkaBootstrap string // brokers as seen by Spark executors (SPARK_KAFKA_BOOTSTRAP_SERVERS)
	// KafkaAPITimeout bounds each call of Spark's Kafka clients (JOB_KAFKA_API_TIMEOUT, their
	// default.api.timeout.ms). When a broker dies, the offset lookup of a micro-batch waits this
	// long for the partitions it led before Spark retries with a new client that knows the new
	// leaders; at Kafka's own 60 s default a micro-batch waited a minute after each broker loss.
	KafkaAPITimeout      time.Duration
	MaxOffsetsPerTrigger int64 // cap of Kafka records per micro-batch and path (JOB_MAX_OFFSETS_PER_TRIGGER)

	Keyspace       string // Cassandra keyspace (CASSANDRA_KEYSPACE)
	CassandraHosts string // Cassandra as seen by this process, for readiness checks (CASSANDRA_HOSTS)
	// The job's Cassandra role (CASSANDRA_JOB_USER / CASSANDRA_JOB_PASSWORD): it may read the
	// keyspace and write the raw path's tables, nothing else. The password is never logged.
	CassandraUser     string
	CassandraPassword string
	// CassandraConsistency is the consistency level of the job's Cassandra writes
	// (CASSANDRA_CONSISTENCY, --cassandra-consistency; default LOCAL_QUORUM, which is ONE on a
	// single node at RF 1): the raw path's connector writes (spark.cassandra.output.consistency.level
	// of each query, over spark-defaults.conf) and rawrepair's. Any level but the serial ones, which
	// only the conditions of lightweight transactions take.
	CassandraConsistency gocql.Consistency
	CheckpointRoot       string // checkpoint root on the Spark side; empty = the server's spark.sql.streaming.checkpointLocation
	RawTrigger           time.Duration
	AggTrigger           time.Duration
	MarketTZ             string // IANA zone of the market date (MARKET_TZ)
	ShufflePartitions    int    // spark.sql.shuffle.partitions of the session

	// MaxSkew is the largest distance between a trade's created_at and its Kafka record's time
	// (JOB_MAX_SKEW, default 1h); a trade farther off is rejected. DedupHorizon is how long the ids
	// of counted trades are remembered (JOB_DEDUP_HORIZON, default 48h): a copy of a trade is
	// recognised if it arrives within the horizon, and the skew bound rejects any later copy.
	MaxSkew      time.Duration
	DedupHorizon time.Duration

	MySQLAddr     string // MySQL as seen by this process (MYSQL_ADDR)
	MySQLDatabase string
	MySQLUser     string // the job's own user (MYSQL_JOB_USER)
	MySQLPassword string // (MYSQL_JOB_PASSWORD); never logged
	// SparkMySQLAddr is MySQL's host:port as seen by Spark executors (SPARK_MYSQL_ADDR; default
	// MySQLAddr). The JDBC URL is built from it and MySQLDatabase, so the database follows the
	// configuration everywhere; SparkMySQLURL (SPARK_MYSQL_URL) replaces the whole URL.
	SparkMySQLAddr string
	SparkMySQLURL  string

	// TakeOver starts the job even while another job holds the lease of the topic (JOB_TAKE_OVER,
	// --take-over): the other one stops at its next renewal. LeaseTTL is how long a lease lasts
	// without renewal (JOB_LEASE_TTL, default 30s; renewed every third of it).
	TakeOver bool
	LeaseTTL time.Duration

	StatusAddr string        // HTTP status endpoint; empty disables it (JOB_STATUS_ADDR)
	QueryPoll  time.Duration // how often streaming queries are checked (and the session kept alive)
	// DiskMinFree: a Kafka volume with less than this share free is a warning in the status and
	// the log (DISK_MIN_FREE, default 10%, as in `make status`).
	DiskMinFree float64
	// DiskDirs are local directories whose volumes the job watches (JOB_DISK_DIRS, comma-separated;
	// default $STACK_HOME, the native stack's data): with less than DiskStopFree left on one
	// (JOB_DISK_STOP_FREE, default 256MiB, or a share such as 2%), the job stops cleanly before the
	// stores fill it. DiskCheck is how often (JOB_DISK_CHECK, default 15s).
	DiskDirs     []string
	DiskStopFree storage.Threshold
	DiskCheck    time.Duration
	// Log is LOG_LEVEL (--log-level; default info) and LOG_FORMAT (--log-format; default text;
	// --log-json is the same as --log-format json).
	Log applog.Settings
}

// DefaultStatusAddr is where GET /status answers unless JOB_STATUS_ADDR says otherwise; `spark_script
// status` asks there too.
const DefaultStatusAddr = "127.0.0.1:4050"

// SparkSecretHeader is the gRPC metadata header that carries the Spark Connect secret; the
// stack's interceptor (stack/spark-ext) checks it. docs/contracts.md names it too.
const SparkSecretHeader = "x-idxstream-secret"

// Load reads the environment (getenv), then flags from args, and validates the result. The
// first positional argument, if any, is the topic, so that `spark_script trading_data` reads
// like `producer trading_data`. -h writes the usage to stderr and returns flag.ErrHelp. Any
// other error lists every problem found (errors.Join), each naming its variable.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	e := envconf.New(getenv)
	env, dur := e.String, e.Duration
	c := Config{
		SparkRemote:          env("SPARK_REMOTE", "sc://127.0.0.1:15002"),
		SparkSecret:          env("SPARK_CONNECT_SECRET", ""),
		Topic:                env("JOB_TOPIC", "trading_data"),
		KafkaBootstrap:       env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
		MaxOffsetsPerTrigger: e.Int64("JOB_MAX_OFFSETS_PER_TRIGGER", 5000),
		Keyspace:             env("CASSANDRA_KEYSPACE", "trading"),
		CassandraHosts:       env("CASSANDRA_HOSTS", "127.0.0.1"),
		CassandraUser:        env("CASSANDRA_JOB_USER", "trading_job"),
		CassandraPassword:    env("CASSANDRA_JOB_PASSWORD", ""),
		CheckpointRoot:       env("JOB_CHECKPOINT_ROOT", ""),
		RawTrigger:           dur("JOB_RAW_TRIGGER", 10*time.Second),
		AggTrigger:           dur("JOB_AGG_TRIGGER", 60*time.Second),
		MarketTZ:             env("MARKET_TZ", "Asia/Jakarta"),
		ShufflePartitions:    e.Int("JOB_SHUFFLE_PARTITIONS", 4),
		MaxSkew:              dur("JOB_MAX_SKEW", time.Hour),
		DedupHorizon:         dur("JOB_DEDUP_HORIZON", 48*time.Hour),
		MySQLAddr:            env("MYSQL_ADDR", "127.0.0.1:3306"),
		MySQLDatabase:        env("MYSQL_DATABASE", "trading"),
		MySQLUser:            env("MYSQL_JOB_USER", "trading_job"),
		MySQLPassword:        env("MYSQL_JOB_PASSWORD", ""),
		SparkMySQLAddr:       env("SPARK_MYSQL_ADDR", ""),
		SparkMySQLURL:        env("SPARK_MYSQL_URL", ""),
		TakeOver:             e.Bool("JOB_TAKE_OVER", false),
		LeaseTTL:             dur("JOB_LEASE_TTL", 30*time.Second),
		StatusAddr:           env("JOB_STATUS_ADDR", DefaultStatusAddr),
		QueryPoll:            dur("JOB_QUERY_POLL", 5*time.Second),
		Log:                  applog.FromEnv(getenv),
	}
	c.SparkKafkaBootstrap = env("SPARK_KAFKA_BOOTSTRAP_SERVERS", c.KafkaBootstrap)
	c.KafkaAPITimeout = dur("JOB_KAFKA_API_TIMEOUT", 10*time.Second)
	minFree, err := storage.MinFreeFromEnv(getenv)
	e.Add(err)
	c.DiskMinFree = minFree
	c.DiskDirs = e.List("JOB_DISK_DIRS", e.Lookup("STACK_HOME"))
	if c.DiskStopFree, err = storage.ParseThreshold(env("JOB_DISK_STOP_FREE", "256MiB")); err != nil {
		e.Add(fmt.Errorf("JOB_DISK_STOP_FREE=%w", err))
	}
	c.DiskCheck = dur("JOB_DISK_CHECK", 15*time.Second)
	consistency := env("CASSANDRA_CONSISTENCY", "LOCAL_QUORUM")
	errs := []error{e.Err()}

	fs := flag.NewFlagSet("spark_script", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: spark_script [flags] [topic]
       spark_script status   (prints the running job's queries and last progress)

Starts the trading pipeline on a Spark Connect server and runs until SIGINT/SIGTERM:
raw trades from Kafka to Cassandra every raw trigger, volume per (market date, sector) of each
batch to MySQL every aggregate trigger, bad input to trading.rejects.
Every flag has an environment variable (in brackets); flags win.

`)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.SparkRemote, "remote", c.SparkRemote, "Spark Connect `url` [SPARK_REMOTE]")
	fs.StringVar(&c.KafkaBootstrap, "brokers", c.KafkaBootstrap, "Kafka bootstrap servers as seen by this process [KAFKA_BOOTSTRAP_SERVERS]")
	fs.StringVar(&c.SparkKafkaBootstrap, "spark-brokers", c.SparkKafkaBootstrap, "Kafka bootstrap servers as seen by Spark [SPARK_KAFKA_BOOTSTRAP_SERVERS]")
	fs.Int64Var(&c.MaxOffsetsPerTrigger, "max-offsets-per-trigger", c.MaxOffsetsPerTrigger, "most Kafka records per micro-batch and path [JOB_MAX_OFFSETS_PER_TRIGGER]")
	fs.StringVar(&c.Keyspace, "keyspace", c.Keyspace, "Cassandra keyspace [CASSANDRA_KEYSPACE]")
	fs.StringVar(&consistency, "cassandra-consistency", consistency, "consistency `level` of the Cassandra writes: "+writeLevels+" [CASSANDRA_CONSISTENCY]")
	fs.StringVar(&c.CheckpointRoot, "checkpoint-root", c.CheckpointRoot, "checkpoint root on the Spark side; empty = server's spark.sql.streaming.checkpointLocation [JOB_CHECKPOINT_ROOT]")
	fs.DurationVar(&c.RawTrigger, "raw-trigger", c.RawTrigger, "trigger interval of the raw path to Cassandra [JOB_RAW_TRIGGER]")
	fs.DurationVar(&c.AggTrigger, "agg-trigger", c.AggTrigger, "trigger interval of the aggregate path to MySQL; batches start half-way between raw triggers [JOB_AGG_TRIGGER]")
	fs.DurationVar(&c.MaxSkew, "max-skew", c.MaxSkew, "largest distance between a trade's created_at and its Kafka record's time [JOB_MAX_SKEW]")
	fs.DurationVar(&c.DedupHorizon, "dedup-horizon", c.DedupHorizon, "how long ids of counted trades are remembered, at least twice the skew [JOB_DEDUP_HORIZON]")
	fs.StringVar(&c.MarketTZ, "market-tz", c.MarketTZ, "IANA time zone of the market date [MARKET_TZ]")
	fs.StringVar(&c.MySQLAddr, "mysql-addr", c.MySQLAddr, "MySQL host:port as seen by this process [MYSQL_ADDR]")
	fs.StringVar(&c.SparkMySQLAddr, "spark-mysql-addr", c.SparkMySQLAddr, "MySQL host:port as seen by Spark; default -mysql-addr [SPARK_MYSQL_ADDR]")
	fs.StringVar(&c.SparkMySQLURL, "spark-mysql-url", c.SparkMySQLURL, "whole JDBC URL of MySQL as seen by Spark; default from -spark-mysql-addr and the database [SPARK_MYSQL_URL]")
	fs.BoolVar(&c.TakeOver, "take-over", c.TakeOver, "start even while another job holds the topic's lease; that job stops [JOB_TAKE_OVER=1]")
	fs.StringVar(&c.StatusAddr, "status-addr", c.StatusAddr, "HTTP status endpoint address, empty to disable [JOB_STATUS_ADDR]")
	c.Log.Flags(fs)
	fs.BoolFunc("log-json", "log as JSON, the same as --log-format json [LOG_FORMAT=json]", func(v string) error {
		on, err := strconv.ParseBool(v)
		if err == nil && on {
			c.Log.Format = applog.FormatJSON
		}
		return err
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, errors.Join(append(errs, err)...)
	}
	switch fs.NArg() {
	case 0:
	case 1:
		c.Topic = fs.Arg(0)
	default:
		errs = append(errs, fmt.Errorf("expected at most one topic argument, got %q", fs.Args()))
	}
	if c.CassandraConsistency, err = WriteConsistency(consistency); err != nil {
		errs = append(errs, fmt.Errorf("CASSANDRA_CONSISTENCY (--cassandra-consistency): %w", err))
	}
	if c.SparkMySQLAddr == "" {
		c.SparkMySQLAddr = c.MySQLAddr
	}
	if c.SparkMySQLURL == "" {
		// allowPublicKeyRetrieval: MySQL 8's caching_sha2_password over a connection without TLS
		// (Docker mode); MariaDB ignores it.
		c.SparkMySQLURL = fmt.Sprintf("jdbc:mysql://%s/%s?sslMode=DISABLED&allowPublicKeyRetrieval=true&rewriteBatchedStatements=true&connectionTimeZone=UTC",
			c.SparkMySQLAddr, c.MySQLDatabase)
	}
	errs = append(errs, c.Validate())
	return c, errors.Join(errs...)
}

// writeLevels are the consistency levels a write takes.
const writeLevels = "ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM, LOCAL_ONE or ANY"

// WriteConsistency parses the name of a write consistency level (any case): every level but
// SERIAL and LOCAL_SERIAL, which are for the conditions of lightweight transactions only.
func WriteConsistency(name string) (gocql.Consistency, error) {
	var c gocql.Consistency
	err := c.UnmarshalText([]byte(strings.ToUpper(strings.TrimSpace(name))))
	if err != nil || c == gocql.Serial || c == gocql.LocalSerial {
		return gocql.LocalQuorum, fmt.Errorf("%q is not a write consistency level: want %s", name, writeLevels)
	}
	return c, nil
}

// Validate reports every problem at once, each naming its variable and what would be accepted.
func (c Config) Validate() error {
	var errs []error
	if !strings.HasPrefix(c.SparkRemote, "sc://") {
		errs = append(errs, fmt.Errorf("SPARK_REMOTE %q (--remote) must start with sc://, e.g. sc://127.0.0.1:15002", c.SparkRemote))
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("the topic is empty: give it as the argument or in JOB_TOPIC (default trading_data)"))
	}
	if c.KafkaBootstrap == "" {
		errs = append(errs, errors.New("KAFKA_BOOTSTRAP_SERVERS (--brokers) is empty: set host:port[,host:port]"))
	}
	if c.SparkKafkaBootstrap == "" {
		errs = append(errs, errors.New("SPARK_KAFKA_BOOTSTRAP_SERVERS (--spark-brokers) is empty: set Kafka as Spark sees it, or leave it unset for KAFKA_BOOTSTRAP_SERVERS"))
	}
	if c.MaxOffsetsPerTrigger <= 0 {
		errs = append(errs, fmt.Errorf("JOB_MAX_OFFSETS_PER_TRIGGER (--max-offsets-per-trigger) must be positive (max offsets per trigger), got %d", c.MaxOffsetsPerTrigger))
	}
	if c.RawTrigger < time.Second {
		errs = append(errs, fmt.Errorf("JOB_RAW_TRIGGER (--raw-trigger) must be at least 1s, got %s", c.RawTrigger))
	}
	if c.AggTrigger < time.Second {
		errs = append(errs, fmt.Errorf("JOB_AGG_TRIGGER (--agg-trigger) must be at least 1s, got %s", c.AggTrigger))
	}
	if _, err := time.LoadLocation(c.MarketTZ); err != nil {
		errs = append(errs, fmt.Errorf("MARKET_TZ %q (--market-tz): want an IANA zone such as Asia/Jakarta: %w", c.MarketTZ, err))
	}
	if c.ShufflePartitions <= 0 {
		errs = append(errs, fmt.Errorf("JOB_SHUFFLE_PARTITIONS must be positive, got %d", c.ShufflePartitions))
	}
	if c.SparkSecret == "" {
		errs = append(errs, errors.New("SPARK_CONNECT_SECRET is empty: run `make up` (it writes .env) or set it; the Spark Connect server refuses calls without it"))
	}
	if c.CassandraConsistency == gocql.Serial || c.CassandraConsistency == gocql.LocalSerial {
		errs = append(errs, fmt.Errorf("CASSANDRA_CONSISTENCY %s is not a write consistency level: want %s", c.CassandraConsistency, writeLevels))
	}
	if c.CassandraPassword == "" {
		errs = append(errs, errors.New("CASSANDRA_JOB_PASSWORD is empty: run `make up` (it writes .env) or set it; Cassandra refuses logins without it"))
	}
	if c.MySQLPassword == "" {
		errs = append(errs, errors.New("MYSQL_JOB_PASSWORD is empty: run `make up` (it writes .env) or set it"))
	}
	if c.MaxSkew <= 0 {
		errs = append(errs, fmt.Errorf("JOB_MAX_SKEW must be positive, got %s", c.MaxSkew))
	}
	if c.DedupHorizon < 2*c.MaxSkew {
		errs = append(errs, fmt.Errorf("JOB_DEDUP_HORIZON (%s) must be at least twice JOB_MAX_SKEW (%s): a copy of a trade must not outlive the memory of its id", c.DedupHorizon, c.MaxSkew))
	}
	if c.LeaseTTL < 3*time.Second {
		errs = append(errs, fmt.Errorf("JOB_LEASE_TTL must be at least 3s, got %s", c.LeaseTTL))
	}
	if c.DiskCheck < time.Second {
		errs = append(errs, fmt.Errorf("JOB_DISK_CHECK must be at least 1s, got %s", c.DiskCheck))
	}
	if c.KafkaAPITimeout < time.Second {
		errs = append(errs, fmt.Errorf("JOB_KAFKA_API_TIMEOUT=%s: want at least 1s (each call of Spark's Kafka clients may take this long)", c.KafkaAPITimeout))
	}
	if c.QueryPoll <= 0 {
		errs = append(errs, fmt.Errorf("JOB_QUERY_POLL must be positive, got %s", c.QueryPoll))
	}
	errs = append(errs, c.Log.Validate())
	return errors.Join(errs...)
}

// LogValue is every setting as slog attributes, the secrets redacted, so that
// logger.Info("starting", "config", cfg) is safe with any handler.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("spark_remote", upTo(c.SparkRemote, ";")), // parameters may hold a token
		slog.Any("spark_secret", applog.Redacted(c.SparkSecret)),
		slog.String("topic", c.Topic),
		slog.String("kafka", c.KafkaBootstrap),
		slog.String("spark_kafka", c.SparkKafkaBootstrap),
		slog.Duration("kafka_api_timeout", c.KafkaAPITimeout),
		slog.Int64("max_offsets_per_trigger", c.MaxOffsetsPerTrigger),
		slog.String("cassandra", c.CassandraUser+"@"+c.CassandraHosts+"/"+c.Keyspace),
		slog.Any("cassandra_password", applog.Redacted(c.CassandraPassword)),
		slog.String("cassandra_consistency", c.CassandraConsistency.String()),
		slog.String("checkpoint_root", c.CheckpointRoot),
		slog.Duration("raw_trigger", c.RawTrigger),
		slog.Duration("agg_trigger", c.AggTrigger),
		slog.String("market_tz", c.MarketTZ),
		slog.Int("shuffle_partitions", c.ShufflePartitions),
		slog.Duration("max_skew", c.MaxSkew),
		slog.Duration("dedup_horizon", c.DedupHorizon),
		slog.String("mysql", c.MySQLUser+"@"+c.MySQLAddr+"/"+c.MySQLDatabase),
		slog.Any("mysql_password", applog.Redacted(c.MySQLPassword)),
		slog.String("spark_mysql_url", upTo(c.SparkMySQLURL, "?")), // a URL of SPARK_MYSQL_URL may carry password=
		slog.Bool("take_over", c.TakeOver),
		slog.Duration("lease_ttl", c.LeaseTTL),
		slog.String("status_addr", c.StatusAddr),
		slog.Duration("query_poll", c.QueryPoll),
		slog.Any("disk_dirs", c.DiskDirs),
		slog.String("disk_stop_free", c.DiskStopFree.String()),
		slog.Duration("disk_check", c.DiskCheck),
		slog.Any("log", c.Log),
	)
}

// upTo is s before sep, with "…" for what was left out.
func upTo(s, sep string) string {
	if before, _, found := strings.Cut(s, sep); found {
		return before + sep + "…"
	}
	return s
}

// SparkKafka is the options of Spark's Kafka source, the same for both paths: the brokers as Spark
// sees them and the bound of each call of its Kafka clients. Each request within a call times out
// at half of it, so that a call tries twice; Kafka's admin client refuses a request timeout above
// the call's.
func (c Config) SparkKafka() map[string]string {
	ms := c.KafkaAPITimeout.Milliseconds()
	return map[string]string{
		"kafka.bootstrap.servers":      c.SparkKafkaBootstrap,
		"kafka.default.api.timeout.ms": strconv.FormatInt(ms, 10),
		"kafka.request.timeout.ms":     strconv.FormatInt(ms/2, 10),
	}
}
