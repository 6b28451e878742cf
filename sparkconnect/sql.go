package sparkconnect

import (
	"context"
	"fmt"

	"idxstream/sparkconnect/connectpb"
)

// Sql runs a SQL statement (PySpark spark.sql). Commands (DDL, DML, SET, SHOW, ...) are
// executed now, before Sql returns, and the DataFrame holds their output; a query is returned
// as a lazy DataFrame. args are positional parameters bound to '?' markers (see Lit for the
// supported Go types).
func (s *Session) Sql(ctx context.Context, query string, args ...any) (*DataFrame, error) {
	cmd := &connectpb.SqlCommand{Sql: query}
	for i, a := range args {
		l, err := literal(a)
		if err != nil {
			return nil, fmt.Errorf("sql: argument %d: %w", i, err)
		}
		cmd.PosArgs = append(cmd.PosArgs, l)
	}
	resps, err := s.executeCommand(ctx, &connectpb.Command{CommandType: &connectpb.Command_SqlCommand{SqlCommand: cmd}})
	if err != nil {
		return nil, fmt.Errorf("sql: %w", err)
	}
	res, err := firstResult(resps, (*connectpb.ExecutePlanResponse).GetSqlCommandResult)
	if err != nil {
		return nil, fmt.Errorf("sql: %w", err)
	}
	return s.newDataFrame(res.GetRelation()), nil
}

// Table reads a table or view (PySpark spark.table).
func (s *Session) Table(name string) *DataFrame {
	return s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_Read{Read: &connectpb.Read{
		ReadType: &connectpb.Read_NamedTable_{NamedTable: &connectpb.Read_NamedTable{UnparsedIdentifier: name}}}}})
}

// Read returns a reader for a batch data source (PySpark spark.read).
func (s *Session) Read() *DataFrameReader { return &DataFrameReader{s: s} }

// ReadStream returns a reader for a streaming data source (PySpark spark.readStream).
func (s *Session) ReadStream() *DataStreamReader {
	return &DataStreamReader{r: DataFrameReader{s: s, streaming: true}}
}

// DataFrameReader builds a batch read (PySpark DataFrameReader). Its methods change and return
// the same reader; it is not safe for concurrent use.
type DataFrameReader struct {
	s         *Session
	format    string
	schema    string
	options   map[string]string
	streaming bool
}

// Format sets the source format, e.g. "kafka", "jdbc", "parquet", "org.apache.spark.sql.cassandra".
func (r *DataFrameReader) Format(f string) *DataFrameReader { r.format = f; return r }

// Schema sets the schema as DDL ("a INT, b STRING"); leave it unset for sources with a fixed
// schema such as Kafka.
func (r *DataFrameReader) Schema(ddl string) *DataFrameReader { r.schema = ddl; return r }

// Option sets one source option.
func (r *DataFrameReader) Option(key, value string) *DataFrameReader {
	if r.options == nil {
		r.options = map[string]string{}
	}
	r.options[key] = value
	return r
}

// Options sets several source options.
func (r *DataFrameReader) Options(opts map[string]string) *DataFrameReader {
	for k, v := range opts {
		r.Option(k, v)
	}
	return r
}

// Load reads the source, from paths if given.
func (r *DataFrameReader) Load(paths ...string) *DataFrame {
	ds := &connectpb.Read_DataSource{Options: r.options, Paths: paths}
	if r.format != "" {
		ds.Format = &r.format
	}
	if r.schema != "" {
		ds.Schema = &r.schema
	}
	return r.s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_Read{Read: &connectpb.Read{
		ReadType: &connectpb.Read_DataSource_{DataSource: ds}, IsStreaming: r.streaming}}})
}

// Table reads a table with the reader's options.
func (r *DataFrameReader) Table(name string) *DataFrame {
	return r.s.newDataFrame(&connectpb.Relation{RelType: &connectpb.Relation_Read{Read: &connectpb.Read{
		ReadType:    &connectpb.Read_NamedTable_{NamedTable: &connectpb.Read_NamedTable{UnparsedIdentifier: name, Options: r.options}},
		IsStreaming: r.streaming}}})
}

// DataStreamReader builds a streaming read (PySpark DataStreamReader). Nothing is sent until
// the DataFrame is started with WriteStream.
type DataStreamReader struct{ r DataFrameReader }

// Format sets the source format, e.g. "kafka".
func (r *DataStreamReader) Format(f string) *DataStreamReader { r.r.Format(f); return r }

// Schema sets the schema as DDL (not for Kafka).
func (r *DataStreamReader) Schema(ddl string) *DataStreamReader { r.r.Schema(ddl); return r }

// Option sets one source option, e.g. ("subscribe", "topic").
func (r *DataStreamReader) Option(key, value string) *DataStreamReader {
	r.r.Option(key, value)
	return r
}

// Options sets several source options.
func (r *DataStreamReader) Options(opts map[string]string) *DataStreamReader {
	r.r.Options(opts)
	return r
}

// Load reads the source; streaming sources accept at most one path (the server rejects more).
func (r *DataStreamReader) Load(path ...string) *DataFrame { return r.r.Load(path...) }

// Table reads a table as a stream.
func (r *DataStreamReader) Table(name string) *DataFrame { return r.r.Table(name) }

// RuntimeConfig reads and changes the session's SQL configuration (PySpark spark.conf).
type RuntimeConfig struct{ s *Session }

// Conf returns the session's configuration.
func (s *Session) Conf() RuntimeConfig { return RuntimeConfig{s} }

func (c RuntimeConfig) call(ctx context.Context, op *connectpb.ConfigRequest_Operation) (*connectpb.ConfigResponse, error) {
	s := c.s
	req := &connectpb.ConfigRequest{SessionId: s.sessionID, UserContext: s.user, ClientType: &s.clientType, Operation: op}
	resp, err := retryUnary(s.outgoing(ctx), s.retry, func(ctx context.Context) (*connectpb.ConfigResponse, error) {
		return s.client.Config(ctx, req)
	})
	for _, w := range resp.GetWarnings() {
		s.logger.WarnContext(ctx, "config warning", "warning", w)
	}
	return resp, errorFromStatus(err)
}

// Get returns the value of key; an unset key without default is an error from the server.
func (c RuntimeConfig) Get(ctx context.Context, key string) (string, error) {
	resp, err := c.call(ctx, &connectpb.ConfigRequest_Operation{OpType: &connectpb.ConfigRequest_Operation_Get{
		Get: &connectpb.ConfigRequest_Get{Keys: []string{key}}}})
	if err != nil {
		return "", fmt.Errorf("get config %s: %w", key, err)
	}
	if len(resp.GetPairs()) != 1 {
		return "", fmt.Errorf("get config %s: %d values in answer", key, len(resp.GetPairs()))
	}
	return resp.GetPairs()[0].GetValue(), nil
}

// GetOption returns the value of key and whether it is set.
func (c RuntimeConfig) GetOption(ctx context.Context, key string) (string, bool, error) {
	resp, err := c.call(ctx, &connectpb.ConfigRequest_Operation{OpType: &connectpb.ConfigRequest_Operation_GetOption{
		GetOption: &connectpb.ConfigRequest_GetOption{Keys: []string{key}}}})
	if err != nil {
		return "", false, fmt.Errorf("get config %s: %w", key, err)
	}
	if len(resp.GetPairs()) != 1 {
		return "", false, fmt.Errorf("get config %s: %d values in answer", key, len(resp.GetPairs()))
	}
	p := resp.GetPairs()[0]
	return p.GetValue(), p.Value != nil, nil
}

// Set sets key to value for this session (static configs are rejected by the server).
func (c RuntimeConfig) Set(ctx context.Context, key, value string) error {
	_, err := c.call(ctx, &connectpb.ConfigRequest_Operation{OpType: &connectpb.ConfigRequest_Operation_Set{
		Set: &connectpb.ConfigRequest_Set{Pairs: []*connectpb.KeyValue{{Key: key, Value: &value}}}}})
	if err != nil {
		return fmt.Errorf("set config %s: %w", key, err)
	}
	return nil
}

// Unset restores the default of key.
func (c RuntimeConfig) Unset(ctx context.Context, key string) error {
	_, err := c.call(ctx, &connectpb.ConfigRequest_Operation{OpType: &connectpb.ConfigRequest_Operation_Unset{
		Unset: &connectpb.ConfigRequest_Unset{Keys: []string{key}}}})
	if err != nil {
		return fmt.Errorf("unset config %s: %w", key, err)
	}
	return nil
}

// GetAll returns the set configs whose key starts with prefix, with the prefix removed from
// the keys (the server strips it).
func (c RuntimeConfig) GetAll(ctx context.Context, prefix string) (map[string]string, error) {
	ga := &connectpb.ConfigRequest_GetAll{}
	if prefix != "" {
		ga.Prefix = &prefix
	}
	resp, err := c.call(ctx, &connectpb.ConfigRequest_Operation{OpType: &connectpb.ConfigRequest_Operation_GetAll{GetAll: ga}})
	if err != nil {
		return nil, fmt.Errorf("get all config %s: %w", prefix, err)
	}
	out := make(map[string]string, len(resp.GetPairs()))
	for _, p := range resp.GetPairs() {
		out[p.GetKey()] = p.GetValue()
	}
	return out, nil
}
