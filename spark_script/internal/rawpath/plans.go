package rawpath

import (
	"context"
	"fmt"
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
	Keyspace             string
	// Consistency is the consistency level of every write (spark.cassandra.output.consistency.level,
	// the job's CASSANDRA_CONSISTENCY: LOCAL_QUORUM...); empty leaves spark-defaults.conf's.
	Consistency    string
	CheckpointRoot string // empty: spark.sql.streaming.checkpointLocation/<query name>
	Trigger        time.Duration
	MarketTZ       string
	Reference      trade.Reference // what trades are checked against (profile, skew)
}

// Plans builds and starts the raw path's streaming queries on one Spark Connect session.
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

// Sink is one Cassandra table the raw path fills, a filter and a projection of the Shared rows.
type Sink struct {
	Table  string
	Trades bool // the table holds valid trades (not rejects)
	where  string
	cols   func(tz string) []string
	// write are connector options of this table's writes, over spark-defaults.conf.
	write map[string]string
}

// Sinks are the raw path's tables: every valid trade to real_time_data and to the dashboard's
// query-first table, every reject to rejects.
func Sinks() []Sink {
	return []Sink{
		{Table: "real_time_data", Trades: true, where: parse.IsValid, cols: func(string) []string { return parse.Trades() }},
		// A task's trades fall into a few (ticker, day) partitions: batching them per partition
		// makes each batch one mutation on the node instead of one per row.
		{Table: "trades_by_ticker", Trades: true, where: parse.IsValid, cols: parse.TradesByTicker,
			write: map[string]string{"spark.cassandra.output.batch.grouping.key": "partition"}},
		{Table: "rejects", where: parse.IsRejected, cols: parse.Rejects},
	}
}

// fanoutFormat is the Connect server's fan-out sink (stack/spark-ext): each micro-batch is
// computed once, held in memory, and written to every target by the Cassandra connector's batch
// writer. One streaming query per table, as before it, read and parsed every record once per table.
const fanoutFormat = "idxstream.fanout"

// QueryName is the raw path's streaming query for the topic. It also names the checkpoint, so a
// new run of the job resumes where the last run stopped.
func (p *Plans) QueryName() string {
	return sanitize(p.set.Topic) + "__raw"
}

// Start starts the streaming query that fills every sink. Its first run reads the topic from the
// earliest offset; later runs resume from the checkpoint.
func (p *Plans) Start(ctx context.Context) (*sc.StreamingQuery, error) {
	src := p.s.ReadStream().Format("kafka").
		Options(p.set.Kafka).
		Option("subscribe", p.set.Topic).
		Option("startingOffsets", "earliest").
		Option("maxOffsetsPerTrigger", strconv.FormatInt(p.set.MaxOffsetsPerTrigger, 10)).
		Load()
	name := p.QueryName()
	w := parse.Apply(src, p.set.Reference).SelectExpr(parse.Shared()...).WriteStream().
		Format(fanoutFormat).
		Option("format", "org.apache.spark.sql.cassandra").
		Option("option.keyspace", p.set.Keyspace).
		OutputMode(sc.OutputModeAppend).
		Trigger(sc.ProcessingTime(p.set.Trigger)).
		QueryName(name)
	// The connector caches one Cassandra session per distinct connection configuration and
	// reuses it across queries; a session whose driver lost its control connection can hang the
	// schema refresh of every query that uses it, for good. Giving each start its own keep-alive
	// value gives it its own, new session (the value itself only changes how long an unused
	// session lingers: 10 to 60 s).
	keepAlive := 10000 + p.starts.Add(1)%connectorVariants
	w = w.Option("option.spark.cassandra.connection.keepAliveMS", strconv.FormatInt(keepAlive, 10))
	if p.set.Consistency != "" {
		w = w.Option("option.spark.cassandra.output.consistency.level", p.set.Consistency)
	}
	sinks := Sinks()
	w = w.Option("targets", strconv.Itoa(len(sinks)))
	for i, sink := range sinks {
		pre := "target." + strconv.Itoa(i) + "."
		w = w.Option(pre+"name", sink.Table).Option(pre+"where", sink.where).Option(pre+"option.table", sink.Table)
		for j, c := range sink.cols(p.set.MarketTZ) {
			w = w.Option(pre+"select."+strconv.Itoa(j), c)
		}
		for k, v := range sink.write {
			w = w.Option(pre+"option."+k, v)
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
