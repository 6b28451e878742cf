package sparkconnect

import (
	"context"
	"fmt"

	"idxstream/sparkconnect/connectpb"
)

// SaveMode says what a batch write does when the target exists (PySpark mode()).
type SaveMode int

// Save modes. The zero value SaveModeDefault leaves the choice to the server, which fails when
// the target exists (like SaveModeErrorIfExists).
const (
	SaveModeDefault SaveMode = iota
	SaveModeAppend
	SaveModeOverwrite
	SaveModeErrorIfExists
	SaveModeIgnore
)

func (m SaveMode) proto() connectpb.WriteOperation_SaveMode {
	switch m {
	case SaveModeAppend:
		return connectpb.WriteOperation_SAVE_MODE_APPEND
	case SaveModeOverwrite:
		return connectpb.WriteOperation_SAVE_MODE_OVERWRITE
	case SaveModeErrorIfExists:
		return connectpb.WriteOperation_SAVE_MODE_ERROR_IF_EXISTS
	case SaveModeIgnore:
		return connectpb.WriteOperation_SAVE_MODE_IGNORE
	}
	return connectpb.WriteOperation_SAVE_MODE_UNSPECIFIED
}

// String is the PySpark mode name.
func (m SaveMode) String() string {
	switch m {
	case SaveModeAppend:
		return "append"
	case SaveModeOverwrite:
		return "overwrite"
	case SaveModeErrorIfExists:
		return "error"
	case SaveModeIgnore:
		return "ignore"
	}
	return "default"
}

// Write returns a batch writer for the DataFrame (PySpark df.write).
func (df *DataFrame) Write() *DataFrameWriter { return &DataFrameWriter{df: df} }

// DataFrameWriter builds a batch write (PySpark DataFrameWriter). Its methods change and return
// the same writer; it is not safe for concurrent use. The write runs synchronously in Save,
// SaveAsTable or InsertInto.
type DataFrameWriter struct {
	df          *DataFrame
	format      string
	mode        SaveMode
	options     map[string]string
	partitionBy []string
}

// Format sets the sink format, e.g. "jdbc", "parquet", "org.apache.spark.sql.cassandra".
func (w *DataFrameWriter) Format(f string) *DataFrameWriter { w.format = f; return w }

// Mode sets the save mode.
func (w *DataFrameWriter) Mode(m SaveMode) *DataFrameWriter { w.mode = m; return w }

// Option sets one writer option (JDBC: url, dbtable, user, password, driver, ...).
func (w *DataFrameWriter) Option(key, value string) *DataFrameWriter {
	if w.options == nil {
		w.options = map[string]string{}
	}
	w.options[key] = value
	return w
}

// Options sets several writer options.
func (w *DataFrameWriter) Options(opts map[string]string) *DataFrameWriter {
	for k, v := range opts {
		w.Option(k, v)
	}
	return w
}

// PartitionBy sets the partition columns of file sinks.
func (w *DataFrameWriter) PartitionBy(cols ...string) *DataFrameWriter {
	w.partitionBy = cols
	return w
}

func (w *DataFrameWriter) operation() *connectpb.WriteOperation {
	op := &connectpb.WriteOperation{Input: w.df.rel, Mode: w.mode.proto(), Options: w.options, PartitioningColumns: w.partitionBy}
	if w.format != "" {
		op.Source = &w.format
	}
	return op
}

func (w *DataFrameWriter) run(ctx context.Context, what string, op *connectpb.WriteOperation) error {
	_, err := w.df.s.executeCommand(ctx, &connectpb.Command{CommandType: &connectpb.Command_WriteOperation{WriteOperation: op}})
	if err != nil {
		return fmt.Errorf("write %s (%s, mode %s): %w", what, w.format, w.mode, err)
	}
	return nil
}

// Save writes the DataFrame, to path if given (PySpark save).
func (w *DataFrameWriter) Save(ctx context.Context, path ...string) error {
	op := w.operation()
	switch len(path) {
	case 0:
	case 1:
		op.SaveType = &connectpb.WriteOperation_Path{Path: path[0]}
	default:
		return fmt.Errorf("write: Save takes at most one path, got %d", len(path))
	}
	return w.run(ctx, "save", op)
}

// SaveAsTable writes the DataFrame as table name (PySpark saveAsTable).
func (w *DataFrameWriter) SaveAsTable(ctx context.Context, name string) error {
	op := w.operation()
	op.SaveType = &connectpb.WriteOperation_Table{Table: &connectpb.WriteOperation_SaveTable{
		TableName: name, SaveMethod: connectpb.WriteOperation_SaveTable_TABLE_SAVE_METHOD_SAVE_AS_TABLE}}
	return w.run(ctx, "table "+name, op)
}

// InsertInto inserts the DataFrame into the existing table name (PySpark insertInto).
func (w *DataFrameWriter) InsertInto(ctx context.Context, name string) error {
	op := w.operation()
	op.SaveType = &connectpb.WriteOperation_Table{Table: &connectpb.WriteOperation_SaveTable{
		TableName: name, SaveMethod: connectpb.WriteOperation_SaveTable_TABLE_SAVE_METHOD_INSERT_INTO}}
	return w.run(ctx, "into "+name, op)
}
