package aggpath

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"idxstream/spark_script/internal/batchlog"
	"idxstream/spark_script/internal/offsets"
	"idxstream/spark_script/internal/parse"
	sc "idxstream/sparkconnect"
	"idxstream/trade"
)

// StageSettings are the parts of the job's configuration the aggregate path's plan uses.
type StageSettings struct {
	Kafka         map[string]string // the Kafka source's options (config.SparkKafka)
	MarketTZ      string
	MySQLURL      string // JDBC URL as seen by Spark
	MySQLUser     string
	MySQLPassword string
	Reference     trade.Reference
}

// SparkStager is the Stager of the job: a Spark batch on one Spark Connect session.
type SparkStager struct {
	s   *sc.Session
	set StageSettings
}

// NewSparkStager uses session s.
func NewSparkStager(s *sc.Session, set StageSettings) *SparkStager {
	return &SparkStager{s: s, set: set}
}

// Stage runs the Spark part of one batch of the aggregate path: exactly the batch's Kafka range,
// valid trades only, each copy appended to MySQL's agg_stage with the batch id (batchlog.Settle
// then counts them once per id).
func (p *SparkStager) Stage(ctx context.Context, b *batchlog.Batch) error {
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
		Options(p.set.Kafka).
		Option("assign", string(assign)).
		Option("startingOffsets", offsets.SparkJSON(b.Topic, b.Start)).
		Option("endingOffsets", offsets.SparkJSON(b.Topic, b.End)).
		Load()
	out := parse.Apply(src, p.set.Reference).Where(parse.IsValid).SelectExpr(parse.Stage(b.ID, p.set.MarketTZ)...)
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
