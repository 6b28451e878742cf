// Package config builds the producer's Config from environment variables (defaults for the local
// stack, see docs/contracts.md) overridden by command-line flags, and validates it.
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

	"idxstream/applog"
	"idxstream/envconf"
	"idxstream/producer/internal/publish"
	"idxstream/producer/internal/session"
	"idxstream/producer/internal/store"
)

// DefaultTopic is used when no topic argument is given.
const DefaultTopic = "trading_data"

// Config is everything the producer needs. Build it with Load.
type Config struct {
	Topic   string   // positional argument; default trading_data
	Brokers []string // --brokers, KAFKA_BOOTSTRAP_SERVERS; default 127.0.0.1:9092

	Interval        time.Duration // --interval; default 1s
	Rate            float64       // --rate trades/s; default 0 = one trade per company per tick
	Count           int64         // --count trades, then stop; default 0 = no limit
	Duration        time.Duration // --duration, then stop; default 0 = no limit
	Seed            uint64        // --seed; 0 = derived from the clock (logged, to reproduce)
	Session         string        // --session, PRODUCER_SESSION: continuous (default) or idx (package session)
	KeyGroups       int           // --key-groups record keys; default 6
	MaxRecordTrades int           // --record-trades most trades per record; default 1000
	IDBlock         int64         // --id-block ids reserved per MySQL round trip; default 100000

	Compression     string        // --compression none|gzip|snappy|lz4|zstd; default lz4
	Linger          time.Duration // --linger; 0 = franz-go default (10ms)
	DeliveryTimeout time.Duration // --delivery-timeout; 0 = retry until shutdown
	FlushTimeout    time.Duration // --flush-timeout on shutdown; default 30s
	Progress        time.Duration // --progress period of the progress line; default 5s

	MySQL store.Config // MYSQL_ADDR, MYSQL_DATABASE, MYSQL_PRODUCER_USER, MYSQL_PRODUCER_PASSWORD

	// MetricsAddr is where GET /metrics answers in the Prometheus text format (--metrics-addr,
	// PRODUCER_METRICS_ADDR, host:port); empty (the default) runs no listener.
	MetricsAddr string

	Log applog.Settings // --log-level, LOG_LEVEL (default info); --log-format, LOG_FORMAT (default text)
}

// Load reads the environment through getenv, then parses args (without the program name) and
// validates the result. Flags may come before or after the topic. -h/--help writes the usage to
// out and returns flag.ErrHelp. Any other error lists every problem found (errors.Join), each
// naming its flag or variable; the program exits with code 2.
func Load(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	e := envconf.New(getenv)
	env := e.String
	c := Config{
		Topic: DefaultTopic,
		MySQL: store.Config{
			Addr:     env("MYSQL_ADDR", "127.0.0.1:3306"),
			Database: env("MYSQL_DATABASE", "trading"),
			User:     env("MYSQL_PRODUCER_USER", "trading_producer"),
			Password: getenv("MYSQL_PRODUCER_PASSWORD"),
		},
	}
	brokers := env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
	c.Log = applog.FromEnv(getenv)

	fs := flag.NewFlagSet("producer", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&brokers, "brokers", brokers, "Kafka bootstrap servers, comma-separated (env KAFKA_BOOTSTRAP_SERVERS)")
	fs.DurationVar(&c.Interval, "interval", e.Duration("PRODUCER_INTERVAL", time.Second), "time between ticks; each tick every company trades once, or as often as --rate needs (env PRODUCER_INTERVAL)")
	fs.Float64Var(&c.Rate, "rate", e.Float("PRODUCER_RATE", 0), "target trades per second over all companies; 0 = one trade per company per tick (env PRODUCER_RATE)")
	fs.Int64Var(&c.Count, "count", 0, "stop after this many trades; 0 = no limit")
	fs.DurationVar(&c.Duration, "duration", 0, "stop after this long, e.g. 30s; 0 = no limit")
	fs.Uint64Var(&c.Seed, "seed", e.Uint("PRODUCER_SEED", 0), "seed of the market simulation; 0 = from the clock (the seed used is logged so the run can be reproduced) (env PRODUCER_SEED)")
	fs.StringVar(&c.Session, "session", env("PRODUCER_SESSION", session.NameContinuous), "when the market trades: continuous (never closes) or idx (the IDX regular market's sessions in Jakarta time: Mon-Thu 09:00-12:00 and 13:30-15:50, Fri 09:00-11:30 and 14:00-15:50, no weekends; nothing is produced in between) (env PRODUCER_SESSION)")
	fs.IntVar(&c.KeyGroups, "key-groups", 6, "number of record keys; companies are dealt into this many groups, spread evenly over the partitions")
	fs.IntVar(&c.MaxRecordTrades, "record-trades", 1000, "most trades in one Kafka record (one JSON array)")
	fs.Int64Var(&c.IDBlock, "id-block", 100000, "ids reserved in MySQL id_blocks per reservation")
	fs.StringVar(&c.Compression, "compression", env("PRODUCER_COMPRESSION", "lz4"), "batch compression: none, gzip, snappy, lz4 or zstd (env PRODUCER_COMPRESSION)")
	fs.DurationVar(&c.Linger, "linger", 0, "how long a partition's batch waits for more records; 0 = franz-go default (10ms)")
	fs.DurationVar(&c.DeliveryTimeout, "delivery-timeout", 0, "fail a record not acknowledged within this; 0 = retry until shutdown")
	fs.DurationVar(&c.FlushTimeout, "flush-timeout", 30*time.Second, "on shutdown, how long to wait for the broker to acknowledge what was produced")
	fs.DurationVar(&c.Progress, "progress", 5*time.Second, "period of the progress log line; 0 = none")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("PRODUCER_METRICS_ADDR", ""), "serve Prometheus metrics on GET /metrics at this host:port, e.g. 127.0.0.1:9464; empty = no listener (env PRODUCER_METRICS_ADDR)")
	c.Log.Flags(fs)
	problems := []error{e.Err()}
	fs.Usage = func() {
		fmt.Fprintf(out, `Usage: producer [flags] [topic]

Simulates IDX trades for the companies in MySQL trading.profile and writes them to the Kafka
topic (default %s) as records holding JSON arrays of trades. Each company starts at its
profile.reference_price (Rp 1,000 when NULL) and moves on the IDX price grid, never outside the
day's auto-rejection limits around the previous close; volumes are whole lots, mostly a few, now
and then thousands (at most 50,000). With --session idx it trades only in the IDX sessions and
its progress line says when the market opens next. Ids come from blocks reserved in MySQL
trading.id_blocks, so they never repeat across runs. SIGINT/SIGTERM stops producing, waits for
the broker to acknowledge what was produced, prints a summary and exits 0.

MySQL comes from MYSQL_ADDR (127.0.0.1:3306), MYSQL_DATABASE (trading), MYSQL_PRODUCER_USER
(trading_producer) and MYSQL_PRODUCER_PASSWORD; ./.env is read first. Exit codes: 0 done,
1 runtime error (unreachable server, delivery error), 2 bad flags or settings.
With --metrics-addr (PRODUCER_METRICS_ADDR) it serves Prometheus metrics on GET /metrics:
trades, records and bytes produced, acknowledged and failed, and the produce latency.

Flags:
`, DefaultTopic)
		fs.PrintDefaults()
	}

	// Flags may follow the topic: parse, take one positional, parse the rest.
	var positional []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return Config{}, err
			}
			return Config{}, errors.Join(append(problems, err)...)
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		rest = rest[1:]
	}
	switch len(positional) {
	case 0:
	case 1:
		c.Topic = positional[0]
	default:
		problems = append(problems, fmt.Errorf("one topic expected, got %d arguments: %s", len(positional), strings.Join(positional, " ")))
	}
	for _, b := range strings.Split(brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.Brokers = append(c.Brokers, b)
		}
	}
	problems = append(problems, c.Validate())
	return c, errors.Join(problems...)
}

// Validate reports every problem with c at once, each naming its flag and variable and what
// would be accepted.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Topic == "" || len(c.Topic) > 249 || strings.ContainsFunc(c.Topic, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	}) || c.Topic == "." || c.Topic == ".." {
		bad("topic %q: want 1-249 characters of [a-zA-Z0-9._-]", c.Topic)
	}
	if len(c.Brokers) == 0 {
		bad("no Kafka bootstrap servers (--brokers / KAFKA_BOOTSTRAP_SERVERS)")
	}
	if c.Interval <= 0 {
		bad("--interval %s (PRODUCER_INTERVAL): must be > 0", c.Interval)
	}
	if c.Rate < 0 || c.Rate > 1e8 {
		bad("--rate %g (PRODUCER_RATE): must be between 0 and 1e8 trades/s", c.Rate)
	}
	if c.Count < 0 {
		bad("--count %d: must be >= 0", c.Count)
	}
	if c.Duration < 0 {
		bad("--duration %s: must be >= 0", c.Duration)
	}
	if _, err := session.Parse(c.Session); err != nil {
		bad("--session %q (PRODUCER_SESSION): want %s or %s", c.Session, session.NameContinuous, session.NameIDX)
	}
	if c.KeyGroups < 1 || c.KeyGroups > 10000 {
		bad("--key-groups %d: must be between 1 and 10000", c.KeyGroups)
	}
	if c.MaxRecordTrades < 1 || c.MaxRecordTrades > 5000 {
		bad("--record-trades %d: must be between 1 and 5000 (a record must stay under the broker's 1 MB limit)", c.MaxRecordTrades)
	}
	if c.IDBlock < 1 {
		bad("--id-block %d: must be >= 1", c.IDBlock)
	}
	if !publish.ValidCompression(c.Compression) {
		bad("--compression %q (PRODUCER_COMPRESSION): want none, gzip, snappy, lz4 or zstd", c.Compression)
	}
	if c.Linger < 0 || c.Linger > time.Minute {
		bad("--linger %s: must be between 0 and 1m", c.Linger)
	}
	if c.DeliveryTimeout != 0 && c.DeliveryTimeout < time.Second {
		bad("--delivery-timeout %s: must be 0 or >= 1s", c.DeliveryTimeout)
	}
	if c.FlushTimeout <= 0 {
		bad("--flush-timeout %s: must be > 0", c.FlushTimeout)
	}
	if c.Progress < 0 {
		bad("--progress %s: must be >= 0", c.Progress)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("--metrics-addr %q (PRODUCER_METRICS_ADDR): want host:port (or empty for no listener)", c.MetricsAddr)
		}
	}
	if err := c.Log.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MySQL.Addr == "" {
		bad("MYSQL_ADDR is empty: set host:port (default 127.0.0.1:3306)")
	}
	if c.MySQL.Database == "" {
		bad("MYSQL_DATABASE is empty: set the database (default trading)")
	}
	if c.MySQL.User == "" {
		bad("MYSQL_PRODUCER_USER is empty: set the producer's MySQL user (default trading_producer)")
	}
	if c.MySQL.Password == "" {
		bad("MYSQL_PRODUCER_PASSWORD is empty (set it in .env; `make up` writes one)")
	}
	return errors.Join(errs...)
}

// LogValue is every setting as slog attributes, the password redacted, so that
// logger.Info("starting", "config", cfg) is safe with any handler.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("topic", c.Topic),
		slog.String("brokers", strings.Join(c.Brokers, ",")),
		slog.Duration("interval", c.Interval),
		slog.Float64("rate", c.Rate),
		slog.Int64("count", c.Count),
		slog.String("session", c.Session),
		slog.Duration("duration", c.Duration),
		slog.Int("key_groups", c.KeyGroups),
		slog.Int("record_trades", c.MaxRecordTrades),
		slog.String("compression", c.Compression),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.Int64("id_block", c.IDBlock),
		slog.Duration("linger", c.Linger),
		slog.Duration("delivery_timeout", c.DeliveryTimeout),
		slog.Duration("flush_timeout", c.FlushTimeout),
		slog.Duration("progress", c.Progress),
		slog.String("mysql", c.MySQL.User+"@"+c.MySQL.Addr+"/"+c.MySQL.Database),
		slog.Any("mysql_password", applog.Redacted(c.MySQL.Password)),
		slog.Any("log", c.Log),
	)
}
