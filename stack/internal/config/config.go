// Package config holds the configuration of stackctl: environment variables of
// docs/contracts.md with local defaults, overridable by command-line flags, checked by Validate.
// Load does all three.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"idxstream/applog"
	"idxstream/envconf"
	"idxstream/stack/internal/cassadmin"
	"idxstream/stack/internal/namespace"
	"idxstream/stack/internal/retention"
	"idxstream/storage"
)

// Commands stackctl knows.
const (
	CmdMigrate = "migrate"
	CmdTopics  = "topics"
	CmdWait    = "wait"
	// CmdNamespace creates, drops or lists the test namespaces (see package namespace).
	CmdNamespace = "namespace"
	// CmdFingerprint prints a digest of the product namespace's data (tests are guests).
	CmdFingerprint = "fingerprint"
	// CmdPreflight checks, before a test run, that the stack answers and .env matches it.
	CmdPreflight = "preflight"
	// CmdDisk reports the disk each store uses and the free space left (make status).
	CmdDisk = "disk"
	// CmdStatus prints one line per service, up only when it answers a real request (make status).
	CmdStatus = "status"
	// CmdInit waits for MySQL, Cassandra and Kafka, then migrates and creates the topics: the
	// one-shot preparation of a started stack (Docker's stack-init service).
	CmdInit = "init"
)

// Services that wait knows: a real request each (see stackctl's doc).
const (
	SvcKafka        = "kafka"
	SvcCassandra    = "cassandra"
	SvcMySQL        = "mysql"
	SvcSpark        = "spark" // the Spark Connect server: SELECT 1 with the secret
	SvcSparkMaster  = "spark-master"
	SvcSparkWorker  = "spark-worker" // at least one worker ALIVE at the master
	waitServiceList = "kafka, cassandra, mysql, spark, spark-master or spark-worker"
)

const commandList = "migrate, topics, wait, init, status, namespace, fingerprint, preflight or disk"

// Namespace operations.
const (
	NsCreate = "create"
	NsDrop   = "drop"
	NsList   = "list"
)

// SparkSecretHeader is the gRPC metadata header that carries the Spark Connect secret to the
// stack's interceptor (stack/spark-ext; docs/contracts.md).
const SparkSecretHeader = "x-idxstream-secret"

// Migration targets.
const (
	TargetMySQL     = "mysql"
	TargetCassandra = "cassandra"
)

// User is one least-privilege MySQL account.
type User struct {
	Name     string
	Password string // never logged
}

// Config is everything stackctl needs. Zero values are not meaningful: use Load.
type Config struct {
	Command string // one of the Cmd constants
	Service string // wait: one of the Svc constants
	// Pid (wait -pid): stop waiting, with ErrProcessExited, when this process is gone: the
	// launcher passes the server it just started, so that a crash during start-up ends the wait.
	Pid int
	// Table (status -table -): read the launcher's rows ("NAME STATE ADDRESS...", the processes
	// it started) from stdin and probe those that run; without it, probe every service.
	Table  string
	NsOp   string // namespace: create | drop | list
	NsName string // namespace create|drop: the namespace (itest_…)

	StackHome string // STACK_HOME; default ~/.local/share/idxstream
	SchemaDir string // -schema; default ./schema (stackctl runs from the repository root)
	Targets   []string

	MySQLAdminDSN string // MYSQL_ADMIN_DSN; default root over the native launcher's unix socket
	MySQLDatabase string // MYSQL_DATABASE; default trading
	AnyHost       bool   // -any-host: also create the users for host '%' (Docker: clients come from the bridge)
	JobUser       User   // MYSQL_JOB_USER / MYSQL_JOB_PASSWORD
	ProducerUser  User   // MYSQL_PRODUCER_USER / MYSQL_PRODUCER_PASSWORD
	DashboardUser User   // MYSQL_DASHBOARD_USER / MYSQL_DASHBOARD_PASSWORD
	MarketTZ      string // MARKET_TZ; default Asia/Jakarta

	KafkaBrokers      []string // KAFKA_BOOTSTRAP_SERVERS; default 127.0.0.1:9092
	Partitions        int      // KAFKA_PARTITIONS; default 3
	ReplicationFactor int      // KAFKA_REPLICATION_FACTOR; default 1
	// MinInsyncReplicas is each topic's min.insync.replicas (KAFKA_MIN_INSYNC_REPLICAS, 1 up to
	// the replication factor): how many replicas must have a record before a producer's acks=all
	// write succeeds. 0 (unset, the default) leaves it to the broker's min.insync.replicas.
	MinInsyncReplicas int
	Topics            []string // trading_data, test_topic

	CassandraHosts       []string // CASSANDRA_HOSTS; default 127.0.0.1 (host or host:port)
	CassandraPort        int      // CASSANDRA_PORT; default 9042, for hosts given without a port
	CassandraKeyspace    string   // CASSANDRA_KEYSPACE; default trading
	CassandraReplication string   // CASSANDRA_REPLICATION; substituted for {{replication}}
	// The Cassandra roles: the stack's superuser (migrations, namespaces, fingerprint only), the
	// job's and the dashboard's (docs/contracts.md lists their grants).
	CassandraAdmin     User // CASSANDRA_ADMIN_USER / CASSANDRA_ADMIN_PASSWORD
	CassandraJob       User // CASSANDRA_JOB_USER / CASSANDRA_JOB_PASSWORD
	CassandraDashboard User // CASSANDRA_DASHBOARD_USER / CASSANDRA_DASHBOARD_PASSWORD

	SparkRemote string // SPARK_REMOTE; default sc://127.0.0.1:15002 (wait spark, preflight)
	// SparkMasterUI is the standalone master's web UI, whose /json/ lists the workers
	// (SPARK_MASTER_UI_URL; default http://127.0.0.1:$SPARK_MASTER_UI_PORT, port 8080).
	SparkMasterUI string
	// SparkWorkerUI makes wait spark-worker wait for the one worker whose web UI is there
	// (SPARK_WORKER_UI_URL, host:port; empty: any ALIVE worker), as the launcher does for each
	// worker of a cluster.
	SparkWorkerUI string
	SparkSecret   string // SPARK_CONNECT_SECRET, sent in SparkSecretHeader; never logged
	MySQLAddr     string // MYSQL_ADDR; default 127.0.0.1:3306: where the programs reach MySQL (preflight)

	// Retention is the storage policy that topics and migrate apply (package retention).
	Retention retention.Policy
	// MinFree is the free share of a volume below which disk warns (DISK_MIN_FREE, default 10%).
	MinFree float64

	Timeout time.Duration // -timeout: the whole command; default 60s (migrate: 5m)
	// Log is LOG_LEVEL (-log-level; default info) and LOG_FORMAT (-log-format; default text).
	Log applog.Settings
}

// Load builds the configuration from getenv (os.Getenv in production), applies the flags in
// args (the subcommand, its operands, then its flags; without the program name) and validates
// the result for the command. -h writes the usage to out and returns flag.ErrHelp. Any other
// error lists every problem found (errors.Join), each naming its variable or flag.
func Load(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	e := envconf.New(getenv)
	env, atoi := e.String, e.Int
	home := getenv("HOME")
	c := Config{
		StackHome:            env("STACK_HOME", filepath.Join(env("XDG_DATA_HOME", filepath.Join(home, ".local", "share")), "idxstream")),
		SchemaDir:            "schema",
		Targets:              []string{TargetMySQL, TargetCassandra},
		MySQLDatabase:        env("MYSQL_DATABASE", "trading"),
		JobUser:              User{env("MYSQL_JOB_USER", "trading_job"), getenv("MYSQL_JOB_PASSWORD")},
		ProducerUser:         User{env("MYSQL_PRODUCER_USER", "trading_producer"), getenv("MYSQL_PRODUCER_PASSWORD")},
		DashboardUser:        User{env("MYSQL_DASHBOARD_USER", "trading_dashboard"), getenv("MYSQL_DASHBOARD_PASSWORD")},
		MarketTZ:             env("MARKET_TZ", "Asia/Jakarta"),
		KafkaBrokers:         envconf.List(env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:"+env("KAFKA_PORT", "9092"))),
		Partitions:           atoi("KAFKA_PARTITIONS", 3),
		ReplicationFactor:    atoi("KAFKA_REPLICATION_FACTOR", 1),
		MinInsyncReplicas:    atoi("KAFKA_MIN_INSYNC_REPLICAS", 0),
		Topics:               []string{"trading_data", "test_topic"},
		CassandraHosts:       envconf.List(env("CASSANDRA_HOSTS", "127.0.0.1")),
		CassandraPort:        atoi("CASSANDRA_PORT", 9042),
		CassandraKeyspace:    env("CASSANDRA_KEYSPACE", "trading"),
		CassandraReplication: env("CASSANDRA_REPLICATION", "{'class': 'SimpleStrategy', 'replication_factor': 1}"),
		CassandraAdmin:       User{env("CASSANDRA_ADMIN_USER", "idxstream_admin"), getenv("CASSANDRA_ADMIN_PASSWORD")},
		CassandraJob:         User{env("CASSANDRA_JOB_USER", "trading_job"), getenv("CASSANDRA_JOB_PASSWORD")},
		CassandraDashboard:   User{env("CASSANDRA_DASHBOARD_USER", "trading_dashboard"), getenv("CASSANDRA_DASHBOARD_PASSWORD")},
		SparkRemote:          env("SPARK_REMOTE", "sc://127.0.0.1:"+env("SPARK_CONNECT_PORT", "15002")),
		SparkSecret:          getenv("SPARK_CONNECT_SECRET"),
		SparkMasterUI:        env("SPARK_MASTER_UI_URL", "http://127.0.0.1:"+env("SPARK_MASTER_UI_PORT", "8080")),
		SparkWorkerUI:        env("SPARK_WORKER_UI_URL", ""),
		MySQLAddr:            env("MYSQL_ADDR", "127.0.0.1:"+env("MYSQL_PORT", "3306")),
		Timeout:              60 * time.Second,
		Log:                  applog.FromEnv(getenv),
	}
	errs := []error{e.Err()}
	if n, err := strconv.Atoi(e.Lookup("KAFKA_MIN_INSYNC_REPLICAS")); err == nil && n == 0 { // unset is the broker's, not 0
		errs = append(errs, errors.New("KAFKA_MIN_INSYNC_REPLICAS=0: set 1 up to KAFKA_REPLICATION_FACTOR, or leave it unset for the broker's setting"))
	}
	// The native MariaDB's superuser is the operating-system user, through the socket
	// (unix_socket authentication; stack/native/mariadb.sh).
	osUser := "root"
	if u, err := user.Current(); err == nil && u.Username != "" {
		osUser = u.Username
	}
	policy, err := retention.FromEnv(getenv)
	errs = append(errs, err)
	c.Retention = policy
	minFree, err := storage.MinFreeFromEnv(getenv)
	errs = append(errs, err)
	c.MinFree = minFree
	c.MySQLAdminDSN = env("MYSQL_ADMIN_DSN", osUser+"@unix("+filepath.Join(c.StackHome, "mariadb", "run", "mysqld.sock")+")/")
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c.Command, args = args[0], args[1:]
	}
	if c.Command == CmdWait && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c.Service, args = args[0], args[1:]
	}
	if c.Command == CmdNamespace && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c.NsOp, args = args[0], args[1:]
		if c.NsOp != NsList && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			c.NsName, args = args[0], args[1:]
		}
	}
	switch c.Command {
	case CmdMigrate, CmdNamespace, CmdFingerprint:
		c.Timeout = 5 * time.Minute // DDL and schema agreement on a busy 2-core machine
	case CmdInit:
		c.Timeout = 10 * time.Minute // the servers' start-up, then migrate
	}
	fs := flag.NewFlagSet("stackctl "+c.Command, flag.ContinueOnError)
	fs.SetOutput(out)
	targets := fs.String("targets", strings.Join(c.Targets, ","), "migrate: comma list of mysql, cassandra")
	fs.StringVar(&c.SchemaDir, "schema", c.SchemaDir, "migrate: directory holding mysql/*.sql and cassandra/*.cql")
	fs.BoolVar(&c.AnyHost, "any-host", false, "migrate, init: also create the MySQL users for host '%' (Docker)")
	fs.IntVar(&c.Partitions, "partitions", c.Partitions, "topics: partitions of each topic (KAFKA_PARTITIONS)")
	fs.IntVar(&c.ReplicationFactor, "rf", c.ReplicationFactor, "topics: replication factor (KAFKA_REPLICATION_FACTOR)")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "wait: how long to wait for the service; others: for the whole command")
	fs.IntVar(&c.Pid, "pid", 0, "wait: give up as soon as this process exits (the server being started)")
	fs.StringVar(&c.Table, "table", "", "status: '-' reads the launcher's rows (NAME STATE ADDRESS) from stdin")
	c.Log.Flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, errors.Join(append(errs, err)...)
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	c.Targets = envconf.List(*targets)
	errs = append(errs, c.Validate())
	return c, errors.Join(errs...)
}

// Validate reports every problem of c for its command at once.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch c.Command {
	case CmdMigrate, CmdTopics, CmdFingerprint, CmdPreflight, CmdDisk, CmdInit:
	case CmdStatus:
		if c.Table != "" && c.Table != "-" {
			add("status: -table takes only '-' (stdin), got %q", c.Table)
		}
	case CmdNamespace:
		switch c.NsOp {
		case NsList:
		case NsCreate, NsDrop:
			if !namespace.Valid(c.NsName) {
				add("namespace %s needs a test namespace name like %sname (got %q): "+
					"only test namespaces can be created or dropped here", c.NsOp, namespace.Prefix, c.NsName)
			}
		default:
			add("namespace: unknown operation %q (create NAME, drop NAME or list)", c.NsOp)
		}
	case CmdWait:
		switch c.Service {
		case SvcKafka, SvcCassandra, SvcMySQL, SvcSparkMaster, SvcSparkWorker:
		case SvcSpark:
			if c.SparkSecret == "" {
				add("SPARK_CONNECT_SECRET is empty (set it in .env; `make up` creates one)")
			}
		case "":
			add("wait needs a service: %s", waitServiceList)
		default:
			add("wait: unknown service %q (%s)", c.Service, waitServiceList)
		}
		if c.Pid < 0 {
			add("-pid must be a process id (got %d)", c.Pid)
		}
	case "":
		add("missing command: %s", commandList)
	default:
		add("unknown command %q (%s)", c.Command, commandList)
	}
	if c.Timeout <= 0 {
		add("-timeout must be positive (got %s)", c.Timeout)
	}
	if c.Command == CmdMigrate || c.Command == CmdInit {
		if len(c.Targets) == 0 {
			add("-targets is empty")
		}
		for _, t := range c.Targets {
			if t != TargetMySQL && t != TargetCassandra {
				add("-targets: unknown target %q (mysql, cassandra)", t)
			}
		}
	}
	everything := c.Command == CmdNamespace || c.Command == CmdFingerprint || c.Command == CmdInit
	needMySQL := everything || (c.Command == CmdMigrate && c.Has(TargetMySQL)) || (c.Command == CmdWait && c.Service == "mysql")
	needCass := everything || (c.Command == CmdMigrate && c.Has(TargetCassandra)) || (c.Command == CmdWait && c.Service == "cassandra")
	needKafka := everything || c.Command == CmdTopics || (c.Command == CmdWait && c.Service == "kafka")
	if needMySQL {
		if _, err := mysql.ParseDSN(c.MySQLAdminDSN); err != nil {
			add("MYSQL_ADMIN_DSN is not a valid DSN: %v", err)
		}
		if !validIdent(c.MySQLDatabase) {
			add("MYSQL_DATABASE=%q is not a plain identifier", c.MySQLDatabase)
		}
	}
	if ((c.Command == CmdMigrate || c.Command == CmdInit) && c.Has(TargetMySQL)) || (c.Command == CmdNamespace && c.NsOp == NsCreate) {
		for _, u := range []struct {
			v string
			u User
		}{{"MYSQL_JOB", c.JobUser}, {"MYSQL_PRODUCER", c.ProducerUser}, {"MYSQL_DASHBOARD", c.DashboardUser}} {
			if !validIdent(u.u.Name) {
				add("%s_USER=%q is not a plain identifier", u.v, u.u.Name)
			}
			if u.u.Password == "" {
				add("%s_PASSWORD is empty (set it in .env; `make up` creates one)", u.v)
			}
		}
		if _, err := time.LoadLocation(c.MarketTZ); err != nil {
			add("MARKET_TZ=%q is not a known time zone: %v", c.MarketTZ, err)
		}
	}
	if needCass {
		if len(c.CassandraHosts) == 0 {
			add("CASSANDRA_HOSTS is empty")
		}
		if c.CassandraPort <= 0 || c.CassandraPort > 65535 {
			add("CASSANDRA_PORT=%d is not a port", c.CassandraPort)
		}
		for _, u := range []struct {
			v string
			u User
		}{{"CASSANDRA_ADMIN", c.CassandraAdmin}, {"CASSANDRA_JOB", c.CassandraJob}, {"CASSANDRA_DASHBOARD", c.CassandraDashboard}} {
			if !validIdent(u.u.Name) || u.u.Name != strings.ToLower(u.u.Name) {
				add("%s_USER=%q is not a plain lower-case identifier", u.v, u.u.Name)
			}
			if u.u.Password == "" && c.Command != CmdWait {
				add("%s_PASSWORD is empty (set it in .env; `make up` creates one)", u.v)
			}
		}
		if !validIdent(c.CassandraKeyspace) {
			add("CASSANDRA_KEYSPACE=%q is not a plain identifier", c.CassandraKeyspace)
		}
		if _, err := cassadmin.ParseReplication(c.CassandraReplication); err != nil {
			add("CASSANDRA_REPLICATION=%v", err)
		}
	}
	if needKafka {
		if len(c.KafkaBrokers) == 0 {
			add("KAFKA_BOOTSTRAP_SERVERS is empty")
		}
		if c.Partitions < 1 || c.Partitions > 10000 {
			add("KAFKA_PARTITIONS=%d must be between 1 and 10000", c.Partitions)
		}
		if c.ReplicationFactor < 1 || c.ReplicationFactor > 32767 {
			add("KAFKA_REPLICATION_FACTOR=%d must be at least 1", c.ReplicationFactor)
		}
		if c.MinInsyncReplicas < 0 || c.MinInsyncReplicas > c.ReplicationFactor {
			add("KAFKA_MIN_INSYNC_REPLICAS=%d must be between 1 and the replication factor (%d), or unset", c.MinInsyncReplicas, c.ReplicationFactor)
		}
	}
	errs = append(errs, c.Log.Validate())
	return errors.Join(errs...)
}

// LogValue is the settings as slog attributes, every password and secret redacted and the
// admin DSN without its password, so that logger.Info("config", "config", cfg) is safe with any
// handler.
func (c Config) LogValue() slog.Value {
	user := func(u User) slog.Value {
		return slog.GroupValue(slog.String("name", u.Name), slog.Any("password", applog.Redacted(u.Password)))
	}
	dsn := "(invalid)"
	if d, err := mysql.ParseDSN(c.MySQLAdminDSN); err == nil {
		if d.Passwd != "" {
			d.Passwd = "redacted"
		}
		dsn = d.FormatDSN()
	}
	return slog.GroupValue(
		slog.String("command", c.Command), slog.String("service", c.Service),
		slog.String("ns_op", c.NsOp), slog.String("ns_name", c.NsName),
		slog.String("stack_home", c.StackHome), slog.String("schema_dir", c.SchemaDir),
		slog.String("targets", strings.Join(c.Targets, ",")),
		slog.String("mysql_admin_dsn", dsn), slog.String("mysql_database", c.MySQLDatabase),
		slog.Bool("any_host", c.AnyHost), slog.String("mysql_addr", c.MySQLAddr),
		slog.Any("job_user", user(c.JobUser)), slog.Any("producer_user", user(c.ProducerUser)),
		slog.Any("dashboard_user", user(c.DashboardUser)), slog.String("market_tz", c.MarketTZ),
		slog.String("kafka", strings.Join(c.KafkaBrokers, ",")), slog.Int("partitions", c.Partitions),
		slog.Int("replication_factor", c.ReplicationFactor), slog.Int("min_insync_replicas", c.MinInsyncReplicas),
		slog.String("topics", strings.Join(c.Topics, ",")),
		slog.String("cassandra", strings.Join(c.CassandraHosts, ",")), slog.Int("cassandra_port", c.CassandraPort),
		slog.String("cassandra_keyspace", c.CassandraKeyspace), slog.String("cassandra_replication", c.CassandraReplication),
		slog.Any("cassandra_admin", user(c.CassandraAdmin)), slog.Any("cassandra_job", user(c.CassandraJob)),
		slog.Any("cassandra_dashboard", user(c.CassandraDashboard)),
		slog.String("spark_remote", c.SparkRemote), slog.String("spark_master_ui", c.SparkMasterUI),
		slog.Int("pid", c.Pid), slog.String("table", c.Table), slog.Any("spark_secret", applog.Redacted(c.SparkSecret)),
		slog.Duration("timeout", c.Timeout), slog.Any("log", c.Log),
	)
}

// TopicConfigs are the topic-level configs `topics` gives each topic (kafkaadmin.EnsureTopic):
// the retention policy's and min.insync.replicas, which is nil while KAFKA_MIN_INSYNC_REPLICAS is
// unset, so that the topics follow the broker's setting.
func (c Config) TopicConfigs() map[string]*string {
	out := map[string]*string{}
	for k, v := range c.Retention.TopicConfigs() {
		out[k] = &v
	}
	out["min.insync.replicas"] = nil
	if c.MinInsyncReplicas > 0 {
		v := strconv.Itoa(c.MinInsyncReplicas)
		out["min.insync.replicas"] = &v
	}
	return out
}

// Has reports whether migrate should touch target.
func (c Config) Has(target string) bool {
	for _, t := range c.Targets {
		if t == target {
			return true
		}
	}
	return false
}

// validIdent accepts names safe to splice into SQL/CQL as identifiers: letters, digits, '_'.
func validIdent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
