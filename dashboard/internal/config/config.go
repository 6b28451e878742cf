// Package config is the dashboard's one configuration: environment variables with local
// defaults (docs/contracts.md), overridable by command-line flags, checked by Validate. Load
// does all three.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"idxstream/applog"
	"idxstream/envconf"
)

// Secret is a password. Every way of printing it (any fmt verb, slog, encoding/json or
// encoding.TextMarshaler) gives "[redacted]" (or "" when empty), so a Config can be logged,
// printed with %+v or %#v, or marshalled without showing it. Convert with string(s) only where
// the password is handed to its client.
type Secret string

const redacted = "[redacted]"

func (s Secret) shown() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Format writes "[redacted]" whatever the verb; it also covers %#v and bad verbs, which would
// otherwise bypass String.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' || (verb == 'v' && f.Flag('#')) {
		fmt.Fprintf(f, "%q", s.shown())
		return
	}
	_, _ = f.Write([]byte(s.shown()))
}

// String returns "[redacted]", or "" when the secret is empty.
func (s Secret) String() string { return s.shown() }

// LogValue keeps the secret out of every slog handler.
func (s Secret) LogValue() slog.Value { return applog.Redacted(string(s)) }

// MarshalText keeps the secret out of encoding/json and other text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// Config is everything the dashboard needs to run.
type Config struct {
	// Addr is the HTTP listen address (DASHBOARD_ADDR, -addr; default 127.0.0.1:8501, localhost
	// only).
	Addr string
	// MarketTZ is the market time zone used for "today" (MARKET_TZ, -market-tz; default
	// Asia/Jakarta). Location is loaded from it by Validate.
	MarketTZ string
	Location *time.Location

	// MySQLAddr, MySQLDatabase, MySQLUser reach MySQL as the read-only dashboard user
	// (MYSQL_ADDR, MYSQL_DATABASE, MYSQL_DASHBOARD_USER).
	MySQLAddr, MySQLDatabase, MySQLUser string
	// MySQLPassword is that user's password (MYSQL_DASHBOARD_PASSWORD; required, `make up`
	// writes it into .env).
	MySQLPassword Secret

	// CassandraHosts and CassandraKeyspace reach Cassandra (CASSANDRA_HOSTS comma list,
	// CASSANDRA_KEYSPACE).
	CassandraHosts    []string
	CassandraKeyspace string
	// CassandraUser is the dashboard's Cassandra role (CASSANDRA_DASHBOARD_USER; default
	// trading_dashboard), used only when CassandraPassword is set.
	CassandraUser string
	// CassandraPassword is that role's password (CASSANDRA_DASHBOARD_PASSWORD; no default,
	// `make up` writes it into .env). Empty means connecting without credentials, which a
	// Cassandra running PasswordAuthenticator refuses: it is not required here so that the
	// dashboard still runs against a Cassandra without authentication.
	CassandraPassword Secret
	// CassandraConsistency is the consistency level of the dashboard's Cassandra reads
	// (CASSANDRA_CONSISTENCY, the setting of every program's Cassandra traffic,
	// -cassandra-consistency; default LOCAL_QUORUM, which is ONE on a single node at RF 1): with
	// the job's writes at LOCAL_QUORUM, a read sees every trade written before it. ANY (writes
	// only) and the serial levels (for lightweight transactions) are refused.
	CassandraConsistency gocql.Consistency

	// RawInterval is how often the Cassandra data sets (latest trades, movers) are polled
	// (DASHBOARD_RAW_INTERVAL, -raw-interval; default 5s; the raw path writes every 10 s).
	RawInterval time.Duration
	// AggInterval is how often the MySQL data sets (volume_today, volume_timeline_today,
	// last_batch) are polled (DASHBOARD_AGG_INTERVAL, -agg-interval; default 15s; the aggregate
	// path commits every 60 s).
	AggInterval time.Duration
	// AggTrigger is the job's aggregate trigger (JOB_AGG_TRIGGER, the job's own variable,
	// -agg-trigger; default 60s): the health panel flags the aggregate path as stalled when its
	// last batch is more than 3 triggers old while trades arrived since.
	AggTrigger time.Duration
	// QueryTimeout bounds each poll (DASHBOARD_QUERY_TIMEOUT, -query-timeout; default 3s).
	QueryTimeout time.Duration
	// LatestTrades is how many raw trades the table shows (DASHBOARD_LATEST_TRADES; default 25).
	LatestTrades int
	// SeriesPoints is how many recent trades per ticker feed the price lines
	// (DASHBOARD_SERIES_POINTS; default 120).
	SeriesPoints int

	// Log is LOG_LEVEL (-log-level; default info) and LOG_FORMAT (-log-format; default text).
	Log applog.Settings
}

// Load reads the configuration from getenv, parses args (without the program name) as flags
// that override it, and validates the result (Validate), which also sets Location. -h writes
// the usage to out and returns flag.ErrHelp. Any other error lists every problem found
// (errors.Join), each naming its variable.
func Load(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	e := envconf.New(getenv)
	env, dur, num := e.String, e.Duration, e.Int
	c := Config{
		Addr:              env("DASHBOARD_ADDR", "127.0.0.1:8501"),
		MarketTZ:          env("MARKET_TZ", "Asia/Jakarta"),
		MySQLAddr:         env("MYSQL_ADDR", "127.0.0.1:3306"),
		MySQLDatabase:     env("MYSQL_DATABASE", "trading"),
		MySQLUser:         env("MYSQL_DASHBOARD_USER", "trading_dashboard"),
		MySQLPassword:     Secret(getenv("MYSQL_DASHBOARD_PASSWORD")),
		CassandraHosts:    e.List("CASSANDRA_HOSTS", "127.0.0.1"),
		CassandraKeyspace: env("CASSANDRA_KEYSPACE", "trading"),
		CassandraUser:     env("CASSANDRA_DASHBOARD_USER", "trading_dashboard"),
		CassandraPassword: Secret(getenv("CASSANDRA_DASHBOARD_PASSWORD")),
		RawInterval:       dur("DASHBOARD_RAW_INTERVAL", 5*time.Second),
		AggInterval:       dur("DASHBOARD_AGG_INTERVAL", 15*time.Second),
		AggTrigger:        dur("JOB_AGG_TRIGGER", 60*time.Second),
		QueryTimeout:      dur("DASHBOARD_QUERY_TIMEOUT", 3*time.Second),
		LatestTrades:      num("DASHBOARD_LATEST_TRADES", 25),
		SeriesPoints:      num("DASHBOARD_SERIES_POINTS", 120),
		Log:               applog.FromEnv(getenv),
	}
	consistency := env("CASSANDRA_CONSISTENCY", "LOCAL_QUORUM")
	errs := []error{e.Err()}
	fs := flag.NewFlagSet("dashboard", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (DASHBOARD_ADDR)")
	fs.StringVar(&c.MarketTZ, "market-tz", c.MarketTZ, "market time zone (MARKET_TZ)")
	fs.DurationVar(&c.RawInterval, "raw-interval", c.RawInterval, "poll interval of the Cassandra data sets (DASHBOARD_RAW_INTERVAL)")
	fs.DurationVar(&c.AggInterval, "agg-interval", c.AggInterval, "poll interval of the MySQL data sets (DASHBOARD_AGG_INTERVAL)")
	fs.DurationVar(&c.AggTrigger, "agg-trigger", c.AggTrigger, "the job's aggregate trigger; its path counts as stalled after 3 of them without a batch while trades arrive (JOB_AGG_TRIGGER)")
	fs.DurationVar(&c.QueryTimeout, "query-timeout", c.QueryTimeout, "timeout of one poll (DASHBOARD_QUERY_TIMEOUT)")
	fs.StringVar(&consistency, "cassandra-consistency", consistency, "consistency `level` of the Cassandra reads: "+readLevels+" (CASSANDRA_CONSISTENCY)")
	c.Log.Flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, errors.Join(append(errs, err)...)
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q: the dashboard takes flags only (-h lists them)", fs.Args()))
	}
	var err error
	if c.CassandraConsistency, err = ReadConsistency(consistency); err != nil {
		errs = append(errs, fmt.Errorf("CASSANDRA_CONSISTENCY (-cassandra-consistency): %w", err))
	}
	c.Location, _ = time.LoadLocation(c.MarketTZ) // an error is Validate's
	errs = append(errs, c.Validate())
	return c, errors.Join(errs...)
}

// readLevels are the consistency levels the dashboard reads at.
const readLevels = "ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM or LOCAL_ONE"

// ReadConsistency parses the name of a read consistency level (any case): every level but ANY,
// which only writes take, and SERIAL and LOCAL_SERIAL, which the job's writes cannot share.
func ReadConsistency(name string) (gocql.Consistency, error) {
	var c gocql.Consistency
	err := c.UnmarshalText([]byte(strings.ToUpper(strings.TrimSpace(name))))
	if err != nil || !readLevel(c) {
		return gocql.LocalQuorum, fmt.Errorf("%q is not a read consistency level: want %s", name, readLevels)
	}
	return c, nil
}

func readLevel(c gocql.Consistency) bool {
	return c != gocql.Any && c != gocql.Serial && c != gocql.LocalSerial
}

// Validate checks every field and reports all problems at once, each naming its variable and
// what would be accepted.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("DASHBOARD_ADDR %q (-addr): want host:port, e.g. 127.0.0.1:8501: %w", c.Addr, err))
	}
	if _, err := time.LoadLocation(c.MarketTZ); err != nil {
		errs = append(errs, fmt.Errorf("MARKET_TZ %q (-market-tz): want an IANA zone such as Asia/Jakarta: %w", c.MarketTZ, err))
	}
	if _, _, err := net.SplitHostPort(c.MySQLAddr); err != nil {
		errs = append(errs, fmt.Errorf("MYSQL_ADDR %q: want host:port, e.g. 127.0.0.1:3306: %w", c.MySQLAddr, err))
	}
	if c.MySQLDatabase == "" {
		errs = append(errs, errors.New("MYSQL_DATABASE is empty: set the database (default trading)"))
	}
	if c.MySQLUser == "" {
		errs = append(errs, errors.New("MYSQL_DASHBOARD_USER is empty: set the dashboard's MySQL user (default trading_dashboard)"))
	}
	if c.MySQLPassword == "" {
		errs = append(errs, errors.New("MYSQL_DASHBOARD_PASSWORD is empty (set it in .env; `make up` writes one)"))
	}
	if len(c.CassandraHosts) == 0 {
		errs = append(errs, errors.New("CASSANDRA_HOSTS is empty: set a comma list of host or host:port (default 127.0.0.1)"))
	}
	if c.CassandraKeyspace == "" {
		errs = append(errs, errors.New("CASSANDRA_KEYSPACE is empty: set the keyspace (default trading)"))
	}
	if !readLevel(c.CassandraConsistency) {
		errs = append(errs, fmt.Errorf("CASSANDRA_CONSISTENCY %s is not a read consistency level: want %s", c.CassandraConsistency, readLevels))
	}
	if c.CassandraPassword != "" && c.CassandraUser == "" {
		errs = append(errs, errors.New("CASSANDRA_DASHBOARD_USER is empty while CASSANDRA_DASHBOARD_PASSWORD is set"))
	}
	// a slice, not a map: the problems come out in the same order every time
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"DASHBOARD_RAW_INTERVAL", c.RawInterval}, {"DASHBOARD_AGG_INTERVAL", c.AggInterval}, {"DASHBOARD_QUERY_TIMEOUT", c.QueryTimeout}} {
		if d.d < 100*time.Millisecond {
			errs = append(errs, fmt.Errorf("%s %v is below 100ms: set 100ms or more", d.name, d.d))
		}
	}
	if c.AggTrigger < time.Second {
		errs = append(errs, fmt.Errorf("JOB_AGG_TRIGGER %v (-agg-trigger) is below 1s: set the job's aggregate trigger (default 60s)", c.AggTrigger))
	}
	if c.LatestTrades < 1 || c.LatestTrades > 1000 {
		errs = append(errs, fmt.Errorf("DASHBOARD_LATEST_TRADES %d is outside 1..1000", c.LatestTrades))
	}
	if c.SeriesPoints < 2 || c.SeriesPoints > 5000 {
		errs = append(errs, fmt.Errorf("DASHBOARD_SERIES_POINTS %d is outside 2..5000", c.SeriesPoints))
	}
	errs = append(errs, c.Log.Validate())
	return errors.Join(errs...)
}

// String describes the configuration without the passwords; for Cassandra it says whether
// the dashboard will authenticate (user@hosts) or not (hosts alone).
func (c Config) String() string {
	return fmt.Sprintf("addr=%s market_tz=%s mysql=%s@%s/%s cassandra=%s/%s cassandra_consistency=%s raw_interval=%v agg_interval=%v",
		c.Addr, c.MarketTZ, c.MySQLUser, c.MySQLAddr, c.MySQLDatabase, c.cassandraWho(),
		c.CassandraKeyspace, c.CassandraConsistency, c.RawInterval, c.AggInterval)
}

// LogValue is the configuration as slog attributes, without the passwords, so that
// logger.Info("starting", "config", cfg) is safe with any handler (the JSON handler would
// otherwise marshal every field).
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("market_tz", c.MarketTZ),
		slog.String("mysql", c.MySQLUser+"@"+c.MySQLAddr+"/"+c.MySQLDatabase),
		slog.String("cassandra", c.cassandraWho()+"/"+c.CassandraKeyspace),
		slog.Bool("cassandra_auth", c.CassandraPassword != ""),
		slog.String("cassandra_consistency", c.CassandraConsistency.String()),
		slog.Any("mysql_password", c.MySQLPassword),
		slog.Any("cassandra_password", c.CassandraPassword),
		slog.String("raw_interval", c.RawInterval.String()),
		slog.String("agg_interval", c.AggInterval.String()),
		slog.String("agg_trigger", c.AggTrigger.String()),
		slog.String("query_timeout", c.QueryTimeout.String()),
		slog.Int("latest_trades", c.LatestTrades),
		slog.Int("series_points", c.SeriesPoints),
		slog.Any("log", c.Log),
	)
}

// cassandraWho is "user@host,host" when the dashboard authenticates, "host,host" otherwise.
func (c Config) cassandraWho() string {
	hosts := strings.Join(c.CassandraHosts, ",")
	if c.CassandraPassword == "" {
		return hosts
	}
	return c.CassandraUser + "@" + hosts
}
