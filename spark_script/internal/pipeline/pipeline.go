// Package pipeline builds the job's Spark plans with the project's Spark Connect client: the
// Kafka sources, the parse-and-validate stages (package parse), the raw path's streaming sinks to
// Cassandra and the aggregate path's batch write to MySQL. It knows the tables; it does not
// decide when anything runs (rawpath and aggpath do).
package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"idxstream/spark_script/internal/batchlog"
	"idxstream/spark_script/internal/offsets"
	"idxstream/spark_script/internal/parse"
	sc "idxstream/sparkconnect"
	"idxstream/trade"
)

// Settings are the parts of the job's configuration the plans use.
type Settings struct {
	Topic                string
	KafkaBootstrap       string // as seen by Spark
	MaxOffsetsPerTrigger int64
	Keyspace             string
	CheckpointRoot       string // empty: spark.sql.streaming.checkpointLocation/<query name>
	RawTrigger           time.Duration
	MarketTZ             string
	MySQLURL             string // JDBC URL as seen by Spark
	MySQLUser            string
	MySQLPassword        string
	Reference            trade.Reference // what trades are checked against (profile, skew)
}

// Pipeline builds and starts the plans on one Spark Connect session.
type Pipeline struct {
	s      *sc.Session
	set    Settings
	starts atomic.Int64 // numbers each query start; see StartRaw
}

// New uses session s.
func New(s *sc.Session, set Settings) *Pipeline {
	p := &Pipeline{s: s, set: set}
	p.starts.Store(rand.Int64N(connectorVariants)) // differ from the starts of earlier job runs
	return p
}

// connectorVariants is how many distinct Cassandra connector sessions StartRaw cycles through.
const connectorVariants = 50000

// Sink is one Cassandra table the raw path fills.
type Sink struct {
	Table  string
	Trades bool // the table holds valid trades (not rejects)
	rows   func(checked *sc.DataFrame, tz string) *sc.DataFrame
	// write are connector options of this table's writes, over spark-defaults.conf.
	write map[string]string
}

// Sinks are the raw path's tables, each fed by its own streaming query: every valid trade to
// real_time_data and to the dashboard's query-first table, every reject to rejects.
func Sinks() []Sink {
	valid := func(cols func(string) []string) func(*sc.DataFrame, string) *sc.DataFrame {
		return func(df *sc.DataFrame, tz string) *sc.DataFrame {
			return df.Where(parse.IsValid).SelectExpr(cols(tz)...)
		}
	}
	return []Sink{
		{Table: "real_time_data", Trades: true, rows: valid(func(string) []string { return parse.Trades() })},
		// A task's trades fall into a few (ticker, day) partitions: batching them per partition
		// makes each batch one mutation on the node instead of one per row.
		{Table: "trades_by_ticker", Trades: true, rows: valid(parse.TradesByTicker),
			write: map[string]string{"spark.cassandra.output.batch.grouping.key": "partition"}},
		{Table: "rejects", rows: func(df *sc.DataFrame, tz string) *sc.DataFrame {
			return df.Where(parse.IsRejected).SelectExpr(parse.Rejects(tz)...)
		}},
	}
}

// QueryName is the streaming query of a sink for the topic. It also names the checkpoint, so a
// new run of the job resumes where the last run of the same query stopped.
func (p *Pipeline) QueryName(sink Sink) string {
	return sanitize(p.set.Topic) + "__" + sink.Table
}

// Checked applies the parse stages to a DataFrame of Kafka rows.
func Checked(kafka *sc.DataFrame, ref trade.Reference) *sc.DataFrame {
	return kafka.SelectExpr(parse.Records()...).
		SelectExpr(parse.Elements()...).
		Where(parse.NotEmpty).
		SelectExpr(parse.Parsed()...).
		SelectExpr(parse.Typed(ref)...).
		SelectExpr(parse.Checked(ref)...)
}

// StartRaw starts the streaming query that fills sink. The first run of a query reads the topic
// from the earliest offset; later runs resume from the checkpoint.
func (p *Pipeline) StartRaw(ctx context.Context, sink Sink) (*sc.StreamingQuery, error) {
	src := p.s.ReadStream().Format("kafka").
		Option("kafka.bootstrap.servers", p.set.KafkaBootstrap).
		Option("subscribe", p.set.Topic).
		Option("startingOffsets", "earliest").
		Option("maxOffsetsPerTrigger", strconv.FormatInt(p.set.MaxOffsetsPerTrigger, 10)).
		Load()
	name := p.QueryName(sink)
	w := sink.rows(Checked(src, p.set.Reference), p.set.MarketTZ).WriteStream().
		Format("org.apache.spark.sql.cassandra").
		Option("keyspace", p.set.Keyspace).
		Option("table", sink.Table).
		OutputMode(sc.OutputModeAppend).
		Trigger(sc.ProcessingTime(p.set.RawTrigger)).
		QueryName(name)
	// The connector caches one Cassandra session per distinct connection configuration and
	// reuses it across queries; a session whose driver lost its control connection can hang the
	// schema refresh of every query that uses it, for good. Giving each start its own keep-alive
	// value gives it its own, new session (the value itself only changes how long an unused
	// session lingers: 10 to 60 s).
	keepAlive := 10000 + p.starts.Add(1)%connectorVariants
	w = w.Option("spark.cassandra.connection.keepAliveMS", strconv.FormatInt(keepAlive, 10))
	for k, v := range sink.write {
		w = w.Option(k, v)
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

// Stage runs the Spark part of one batch of the aggregate path: exactly the batch's Kafka range,
// valid trades only, each copy appended to MySQL's agg_stage with the batch id (batchlog.Settle
// then counts them once per id).
func (p *Pipeline) Stage(ctx context.Context, b *batchlog.Batch) error {
	parts := make([]int, 0, len(b.End))
	for part := range b.End {
		parts = append(parts, int(part))
	}
	sort.Ints(parts)
	// assign, not subscribe: the range names its partitions, and partitions added to the topic
	// after the batch was planned belong to later batches.
	assign, err := json.Marshal(map[string][]int{b.Topic: parts})
	if err != nil {
		return fmt.Errorf("batch %d: %w", b.ID, err)
	}
	src := p.s.Read().Format("kafka").
		Option("kafka.bootstrap.servers", p.set.KafkaBootstrap).
		Option("assign", string(assign)).
		Option("startingOffsets", offsets.SparkJSON(b.Topic, b.Start)).
		Option("endingOffsets", offsets.SparkJSON(b.Topic, b.End)).
		Load()
	out := Checked(src, p.set.Reference).Where(parse.IsValid).SelectExpr(parse.Stage(b.ID, p.set.MarketTZ)...)
	err = out.Write().Format("jdbc").Mode(sc.SaveModeAppend).Options(map[string]string{
		"url":       p.set.MySQLURL,
		"dbtable":   "agg_stage",
		"user":      p.set.MySQLUser,
		"password":  p.set.MySQLPassword,
		"driver":    "com.mysql.cj.jdbc.Driver",
		"batchsize": "5000",
	}).Save(ctx)
	if err != nil {
		return fmt.Errorf("stage batch %d in MySQL: %w", b.ID, err)
	}
	return nil
}

func exprs(sql []string) []sc.Column {
	cols := make([]sc.Column, len(sql))
	for i, s := range sql {
		cols[i] = sc.Expr(s)
	}
	return cols
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
