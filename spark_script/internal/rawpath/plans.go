package rawpath

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"idxstream/spark_script/internal/parse"
	sc "idxstream/sparkconnect"
	"idxstream/trade"
)

// Settings are the parts of the job's configuration the raw path's plans use.
type Settings struct {
	Topic                string
	Kafka                map[string]string // the Kafka source's options (config.SparkKafka)
	MaxOffsetsPerTrigger int64
	// StartingOffsets is where a query without a checkpoint starts: "earliest" (also when
	// empty), or Spark's JSON of offsets per partition. A query with a checkpoint resumes from it.
	StartingOffsets string
	Keyspace        string
	// Consistency is the consistency level of every write (spark.cassandra.output.consistency.level,
	// the job's CASSANDRA_CONSISTENCY: LOCAL_QUORUM...); empty leaves spark-defaults.conf's.
	Consistency    string
	CheckpointRoot string // empty: spark.sql.streaming.checkpointLocation/<query name>
	Trigger        time.Duration
	MarketTZ       string
	Reference      trade.Reference // what trades are checked against (profile, skew)
	// MySQL, as Spark's JDBC writer reaches it: where the aggregate path's stage is written.
	MySQLURL, MySQLUser, MySQLPassword string
}

// Plans builds and starts the raw path's streaming query on one Spark Connect session.
type Plans struct {
	s      *sc.Session
	set    Settings
	starts atomic.Int64 // numbers each query start; see Start
}

// NewPlans uses session s.
func NewPlans(s *sc.Session, set Settings) *Plans {
	p := &Plans{s: s, set: set}
	p.starts.Store(rand.Int64N(connectorVariants)) // differ from the starts of earlier job runs
	return p
}

// connectorVariants is how many distinct Cassandra connector sessions Start cycles through.
const connectorVariants = 50000

// Sink is one table a raw micro-batch is written to: a filter and a projection of its Shared rows.
type Sink struct {
	Table string
	where string
	cols  func(tz string) []string
	// write gives the format and options of the table's writer.
	write writer
}

// writer gives the batch writer of a table: its format and options.
type writer func(p *Plans, table string, keepAlive int64) (format string, opts map[string]string)

// sinks are the tables of a raw micro-batch: every valid trade to real_time_data and to the
// dashboard's query-first table, every reject to rejects, and every valid trade, each copy, to
// MySQL's agg_stage, where the aggregate path counts it once (batchlog.Settle).
func sinks() []Sink {
	return []Sink{
		{Table: "real_time_data", where: parse.IsValid, cols: func(string) []string { return parse.Trades() }, write: cassandra(nil)},
		// A task's trades fall into a few (ticker, day) partitions: batching them per partition
		// makes each batch one mutation on the node instead of one per row.
		{Table: "trades_by_ticker", where: parse.IsValid, cols: parse.TradesByTicker,
			write: cassandra(map[string]string{"spark.cassandra.output.batch.grouping.key": "partition"})},
		{Table: "rejects", where: parse.IsRejected, cols: parse.Rejects, write: cassandra(nil)},
		{Table: "agg_stage", where: parse.IsValid, cols: parse.Stage, write: mysql},
	}
}

// mysql appends to a table of the job's MySQL database with Spark's JDBC writer.
func mysql(p *Plans, table string, _ int64) (string, map[string]string) {
	return "jdbc", map[string]string{
		"url": p.set.MySQLURL, "dbtable": table, "user": p.set.MySQLUser, "password": p.set.MySQLPassword,
		"driver": "com.mysql.cj.jdbc.Driver", "batchsize": "5000",
	}
}

// cassandra writes a table of the job's keyspace with the connector, with extra options.
func cassandra(extra map[string]string) writer {
	return func(p *Plans, table string, keepAlive int64) (string, map[string]string) {
		opts := map[string]string{
			"keyspace": p.set.Keyspace, "table": table,
			// The connector caches one Cassandra session per distinct connection configuration
			// and reuses it across queries; a session whose driver lost its control connection can
			// hang the schema refresh of every query that uses it, for good. Giving each start its
			// own keep-alive value gives it its own, new session (the value itself only changes
			// how long an unused session lingers: 10 to 60 s).
			"spark.cassandra.connection.keepAliveMS": strconv.FormatInt(keepAlive, 10),
		}
		if p.set.Consistency != "" {
			opts["spark.cassandra.output.consistency.level"] = p.set.Consistency
		}
		maps.Copy(opts, extra)
		return "org.apache.spark.sql.cassandra", opts
	}
}

// fanoutFormat is the Connect server's fan-out sink (stack/spark-ext): each micro-batch is
// computed once, held in memory, and written to every Sink side by side. With one streaming
// query per table instead, every record was read and parsed once per table.
const fanoutFormat = "idxstream.fanout"

// QueryName is the raw path's streaming query for the topic. It also names the checkpoint, so a
// new run of the job resumes where the last run stopped.
func (p *Plans) QueryName() string {
	return sanitize(p.set.Topic) + "__raw"
}

// Start starts the streaming query that fills every sink. Its first run starts at
// Settings.StartingOffsets; later runs resume from the checkpoint.
func (p *Plans) Start(ctx context.Context) (*sc.StreamingQuery, error) {
	starting := p.set.StartingOffsets
	if starting == "" {
		starting = "earliest"
	}
	src := p.s.ReadStream().Format("kafka").
		Options(p.set.Kafka).
		Option("subscribe", p.set.Topic).
		Option("startingOffsets", starting).
		Option("maxOffsetsPerTrigger", strconv.FormatInt(p.set.MaxOffsetsPerTrigger, 10)).
		Load()
	name := p.QueryName()
	w := parse.Apply(src, p.set.Reference).SelectExpr(parse.Shared()...).WriteStream().
		Format(fanoutFormat).
		OutputMode(sc.OutputModeAppend).
		Trigger(sc.ProcessingTime(p.set.Trigger)).
		QueryName(name)
	keepAlive := 10000 + p.starts.Add(1)%connectorVariants
	all := sinks()
	w = w.Option("targets", strconv.Itoa(len(all)))
	for i, sink := range all {
		pre := "target." + strconv.Itoa(i) + "."
		format, opts := sink.write(p, sink.Table, keepAlive)
		w = w.Option(pre+"name", sink.Table).Option(pre+"format", format).Option(pre+"where", sink.where)
		for k, v := range opts {
			w = w.Option(pre+"option."+k, v)
		}
		for j, c := range sink.cols(p.set.MarketTZ) {
			w = w.Option(pre+"select."+strconv.Itoa(j), c)
		}
	}
	if p.set.CheckpointRoot != "" {
		w = w.Option("checkpointLocation", path.Join(p.set.CheckpointRoot, name))
	}
	q, err := w.Start(ctx)
	if err != nil {
		return nil, fmt.Errorf("start query %s: %w", name, err)
	}
	return q, nil
}

// sanitize keeps query names to characters safe in a checkpoint path.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, s)
}
