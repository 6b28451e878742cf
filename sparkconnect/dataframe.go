package sparkconnect

import (
	"context"
	"fmt"
	"io"

	"idxstream/sparkconnect/connectpb"
)

// DataFrame is a lazily evaluated relation (PySpark DataFrame). Transformations return a new
// DataFrame and do no I/O; methods taking a context run on the server. A DataFrame is an
// immutable value and safe for concurrent use.
type DataFrame struct {
	s   *Session
	rel *connectpb.Relation
}

// Relation returns the logical plan of the DataFrame (for inspection and tests).
func (df *DataFrame) Relation() *connectpb.Relation { return df.rel }

// newDataFrame wraps a relation, giving it a plan id when it has none.
func (s *Session) newDataFrame(rel *connectpb.Relation) *DataFrame {
	if rel.Common == nil {
		rel.Common = &connectpb.RelationCommon{}
	}
	if rel.Common.PlanId == nil {
		id := s.nextPlanID()
		rel.Common.PlanId = &id
	}
	return &DataFrame{s: s, rel: rel}
}

func exprs(cols []Column) []*connectpb.Expression {
	out := make([]*connectpb.Expression, len(cols))
	for i, c := range cols {
		out[i] = c.expr
	}
	return out
}

// Select projects columns (PySpark select).
func (df *DataFrame) Select(cols ...Column) *DataFrame {
	return df.s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_Project{
		Project: &connectpb.Project{Input: df.rel, Expressions: exprs(cols)}}})
}

// SelectExpr projects SQL expressions (PySpark selectExpr).
func (df *DataFrame) SelectExpr(sql ...string) *DataFrame {
	cols := make([]Column, len(sql))
	for i, s := range sql {
		cols[i] = Expr(s)
	}
	return df.Select(cols...)
}

// Filter keeps the rows for which cond is true (PySpark filter).
func (df *DataFrame) Filter(cond Column) *DataFrame {
	return df.s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_Filter{
		Filter: &connectpb.Filter{Input: df.rel, Condition: cond.expr}}})
}

// Where keeps the rows for which the SQL condition is true (PySpark where with a string).
func (df *DataFrame) Where(condition string) *DataFrame { return df.Filter(Expr(condition)) }

// WithColumn adds or replaces the column name (PySpark withColumn).
func (df *DataFrame) WithColumn(name string, c Column) *DataFrame {
	return df.WithColumns(map[string]Column{name: c})
}

// WithColumns adds or replaces several columns at once (PySpark withColumns); they are added in
// name order.
func (df *DataFrame) WithColumns(cols map[string]Column) *DataFrame {
	aliases := make([]*connectpb.Expression_Alias, 0, len(cols))
	for _, name := range sortedKeys(cols) {
		aliases = append(aliases, &connectpb.Expression_Alias{Expr: cols[name].expr, Name: []string{name}})
	}
	return df.s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_WithColumns{
		WithColumns: &connectpb.WithColumns{Input: df.rel, Aliases: aliases}}})
}

// ToDF renames all columns (PySpark toDF).
func (df *DataFrame) ToDF(names ...string) *DataFrame {
	return df.s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_ToDf{
		ToDf: &connectpb.ToDF{Input: df.rel, ColumnNames: names}}})
}

// Alias names the DataFrame for qualified column references (PySpark alias).
func (df *DataFrame) Alias(name string) *DataFrame {
	return df.s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_SubqueryAlias{
		SubqueryAlias: &connectpb.SubqueryAlias{Input: df.rel, Alias: name}}})
}

// Limit keeps the first n rows (PySpark limit).
func (df *DataFrame) Limit(n int32) *DataFrame {
	return df.s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_Limit{
		Limit: &connectpb.Limit{Input: df.rel, Limit: n}}})
}

// OrderBy sorts globally (PySpark orderBy); columns sort ascending unless made with Desc.
func (df *DataFrame) OrderBy(cols ...Column) *DataFrame {
	order := make([]*connectpb.Expression_SortOrder, len(cols))
	for i, c := range cols {
		if c.expr.GetSortOrder() == nil {
			c = c.Asc()
		}
		order[i] = c.expr.GetSortOrder()
	}
	global := true
	return df.s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_Sort{
		Sort: &connectpb.Sort{Input: df.rel, Order: order, IsGlobal: &global}}})
}

// WithWatermark sets an event-time watermark (PySpark withWatermark), e.g. ("ts", "1 minute").
func (df *DataFrame) WithWatermark(eventTime, delay string) *DataFrame {
	return df.s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_WithWatermark{
		WithWatermark: &connectpb.WithWatermark{Input: df.rel, EventTime: eventTime, DelayThreshold: delay}}})
}

// GroupBy groups rows for aggregation (PySpark groupBy).
func (df *DataFrame) GroupBy(cols ...Column) *GroupedData {
	return &GroupedData{df: df, keys: cols}
}

// GroupedData is the result of GroupBy.
type GroupedData struct {
	df   *DataFrame
	keys []Column
}

// Agg computes aggregates per group (PySpark GroupedData.agg); the result has the grouping
// columns followed by the aggregates.
func (g *GroupedData) Agg(aggs ...Column) *DataFrame {
	return g.df.s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_Aggregate{
		Aggregate: &connectpb.Aggregate{
			Input:                g.df.rel,
			GroupType:            connectpb.Aggregate_GROUP_TYPE_GROUPBY,
			GroupingExpressions:  exprs(g.keys),
			AggregateExpressions: exprs(aggs),
		}}})
}

// Count counts the rows of each group into a column "count".
func (g *GroupedData) Count() *DataFrame { return g.Agg(Count(Lit(int32(1))).As("count")) }

// plan wraps the relation as the root of a plan.
func (df *DataFrame) plan() *connectpb.Plan {
	return &connectpb.Plan{OpType: &connectpb.Plan_Root{Root: df.rel}}
}

// Schema asks the server for the schema (PySpark schema). It also works on streaming
// DataFrames.
func (df *DataFrame) Schema(ctx context.Context) (StructType, error) {
	resp, err := df.s.analyze(ctx, &connectpb.AnalyzePlanRequest{Analyze: &connectpb.AnalyzePlanRequest_Schema_{
		Schema: &connectpb.AnalyzePlanRequest_Schema{Plan: df.plan()}}})
	if err != nil {
		return StructType{}, fmt.Errorf("schema: %w", err)
	}
	return structTypeFromProto(resp.GetSchema().GetSchema()), nil
}

// IsStreaming reports whether the DataFrame reads a streaming source (PySpark isStreaming).
func (df *DataFrame) IsStreaming(ctx context.Context) (bool, error) {
	resp, err := df.s.analyze(ctx, &connectpb.AnalyzePlanRequest{Analyze: &connectpb.AnalyzePlanRequest_IsStreaming_{
		IsStreaming: &connectpb.AnalyzePlanRequest_IsStreaming{Plan: df.plan()}}})
	if err != nil {
		return false, fmt.Errorf("is streaming: %w", err)
	}
	return resp.GetIsStreaming().GetIsStreaming(), nil
}

// Explain returns the plan text (PySpark explain(extended)).
func (df *DataFrame) Explain(ctx context.Context, extended bool) (string, error) {
	mode := connectpb.AnalyzePlanRequest_Explain_EXPLAIN_MODE_SIMPLE
	if extended {
		mode = connectpb.AnalyzePlanRequest_Explain_EXPLAIN_MODE_EXTENDED
	}
	resp, err := df.s.analyze(ctx, &connectpb.AnalyzePlanRequest{Analyze: &connectpb.AnalyzePlanRequest_Explain_{
		Explain: &connectpb.AnalyzePlanRequest_Explain{Plan: df.plan(), ExplainMode: mode}}})
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	return resp.GetExplain().GetExplainString(), nil
}

// Collect runs the query and returns all rows (PySpark collect). Rows are decoded from the
// Arrow batches the server streams; see Row for the Go types of the values.
func (df *DataFrame) Collect(ctx context.Context) ([]Row, error) {
	var rows []Row
	err := df.s.execute(ctx, df.plan(), func(r *connectpb.ExecutePlanResponse) error {
		b := r.GetArrowBatch()
		if b == nil {
			return nil
		}
		var err error
		rows, _, err = decodeArrowStream(b.GetData(), rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	return rows, nil
}

// First returns the first row, or false when there is none.
func (df *DataFrame) First(ctx context.Context) (Row, bool, error) {
	rows, err := df.Limit(1).Collect(ctx)
	if err != nil || len(rows) == 0 {
		return Row{}, false, err
	}
	return rows[0], true, nil
}

// Count returns the number of rows (PySpark count).
func (df *DataFrame) Count(ctx context.Context) (int64, error) {
	rows, err := df.GroupBy().Agg(Count(Lit(int32(1)))).Collect(ctx)
	if err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	if len(rows) != 1 || rows[0].Len() != 1 {
		return 0, fmt.Errorf("count: unexpected result %v", rows)
	}
	n, ok := rows[0].At(0).(int64)
	if !ok {
		return 0, fmt.Errorf("count: result is %T, not int64", rows[0].At(0))
	}
	return n, nil
}

// ShowString renders up to numRows rows as Spark's text table (PySpark show without printing);
// truncate cuts cells to that many characters (0: no cut, PySpark's default is 20).
func (df *DataFrame) ShowString(ctx context.Context, numRows, truncate int32) (string, error) {
	rel := df.s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_ShowString{
		ShowString: &connectpb.ShowString{Input: df.rel, NumRows: numRows, Truncate: truncate}}})
	rows, err := rel.Collect(ctx)
	if err != nil {
		return "", fmt.Errorf("show: %w", err)
	}
	if len(rows) != 1 || rows[0].Len() != 1 {
		return "", fmt.Errorf("show: unexpected result of %d rows", len(rows))
	}
	s, _ := rows[0].At(0).(string)
	return s, nil
}

// Show writes up to numRows rows as a text table to w (PySpark show(n, truncate=True)).
func (df *DataFrame) Show(ctx context.Context, w io.Writer, numRows int32) error {
	s, err := df.ShowString(ctx, numRows, 20)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, s)
	return err
}

// CreateOrReplaceTempView registers the DataFrame as a session-scoped temporary view (PySpark
// createOrReplaceTempView).
func (df *DataFrame) CreateOrReplaceTempView(ctx context.Context, name string) error {
	return df.createView(ctx, name, false, true)
}

// CreateTempView is like CreateOrReplaceTempView but fails when the view exists.
func (df *DataFrame) CreateTempView(ctx context.Context, name string) error {
	return df.createView(ctx, name, false, false)
}

// CreateOrReplaceGlobalTempView registers a global temporary view (read as global_temp.name).
func (df *DataFrame) CreateOrReplaceGlobalTempView(ctx context.Context, name string) error {
	return df.createView(ctx, name, true, true)
}

func (df *DataFrame) createView(ctx context.Context, name string, global, replace bool) error {
	_, err := df.s.executeCommand(ctx, &connectpb.Command{CommandType: &connectpb.Command_CreateDataframeView{
		CreateDataframeView: &connectpb.CreateDataFrameViewCommand{Input: df.rel, Name: name, IsGlobal: global, Replace: replace}}})
	if err != nil {
		return fmt.Errorf("create view %s: %w", name, err)
	}
	return nil
}
