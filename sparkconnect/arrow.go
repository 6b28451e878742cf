package sparkconnect

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Row is one result row (PySpark Row). Values use these Go types:
//
//	boolean bool · tinyint int8 · smallint int16 · int int32 · bigint int64 · float float32 ·
//	double float64 · string string · binary []byte · decimal Decimal · date and timestamp
//	time.Time (UTC; dates at midnight) · array []any · struct Row · map map[any]any (binary keys
//	become strings) · null nil. Other Arrow types use arrow-go's JSON-ready value.
type Row struct {
	names  []string // shared by all rows of a result
	values []any
}

// NewRow builds a row from column names and values (for tests and fakes).
func NewRow(names []string, values []any) Row { return Row{names: names, values: values} }

// Len is the number of columns.
func (r Row) Len() int { return len(r.values) }

// Values returns the column values in order. The slice is the row's own; do not modify it.
func (r Row) Values() []any { return r.values }

// At returns the value of column i.
func (r Row) At(i int) any { return r.values[i] }

// FieldNames returns the column names.
func (r Row) FieldNames() []string { return r.names }

// Get returns the value of the first column called name.
func (r Row) Get(name string) (any, bool) {
	for i, n := range r.names {
		if n == name {
			return r.values[i], true
		}
	}
	return nil, false
}

// String renders the row like PySpark: Row(a=1, b='x').
func (r Row) String() string {
	var b strings.Builder
	b.WriteString("Row(")
	for i, v := range r.values {
		if i > 0 {
			b.WriteString(", ")
		}
		if i < len(r.names) {
			b.WriteString(r.names[i])
			b.WriteByte('=')
		}
		if s, ok := v.(string); ok {
			fmt.Fprintf(&b, "%q", s)
		} else {
			fmt.Fprint(&b, v)
		}
	}
	b.WriteByte(')')
	return b.String()
}

// Decimal is an exact decimal value: Unscaled × 10^-Scale.
type Decimal struct {
	Unscaled *big.Int
	Scale    int32
}

// String renders the decimal with Scale fraction digits, e.g. "12.50".
func (d Decimal) String() string {
	if d.Unscaled == nil {
		return "0"
	}
	s := new(big.Int).Abs(d.Unscaled).String()
	neg := d.Unscaled.Sign() < 0
	if d.Scale > 0 {
		if len(s) <= int(d.Scale) {
			s = strings.Repeat("0", int(d.Scale)-len(s)+1) + s
		}
		s = s[:len(s)-int(d.Scale)] + "." + s[len(s)-int(d.Scale):]
	} else if d.Scale < 0 {
		s += strings.Repeat("0", int(-d.Scale))
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Rat returns the decimal as an exact rational number.
func (d Decimal) Rat() *big.Rat {
	r := new(big.Rat).SetInt(d.Unscaled)
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(d.Scale))), nil)
	if d.Scale >= 0 {
		return r.Quo(r, new(big.Rat).SetInt(scale))
	}
	return r.Mul(r, new(big.Rat).SetInt(scale))
}

// Float64 returns the nearest float64.
func (d Decimal) Float64() float64 {
	f, _ := d.Rat().Float64()
	return f
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// decodeArrowStream decodes one Arrow IPC stream (ArrowBatch.data or LocalRelation.data) and
// appends its rows to rows. It returns the Arrow schema of the stream.
func decodeArrowStream(data []byte, rows []Row) ([]Row, *arrow.Schema, error) {
	rd, err := ipc.NewReader(bytes.NewReader(data), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return rows, nil, fmt.Errorf("decode arrow stream: %w", err)
	}
	defer rd.Release()
	schema := rd.Schema()
	names := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		names[i] = f.Name
	}
	for rd.Next() {
		rows = appendRecordRows(rows, rd.RecordBatch(), names)
	}
	if err := rd.Err(); err != nil {
		return rows, schema, fmt.Errorf("decode arrow stream: %w", err)
	}
	return rows, schema, nil
}

// appendRecordRows converts a record batch column by column into rows.
func appendRecordRows(rows []Row, rec arrow.RecordBatch, names []string) []Row {
	n := int(rec.NumRows())
	ncol := int(rec.NumCols())
	start := len(rows)
	// one backing array for all values of the batch: one allocation instead of one per row
	vals := make([]any, n*ncol)
	for i := 0; i < n; i++ {
		rows = append(rows, Row{names: names, values: vals[i*ncol : (i+1)*ncol : (i+1)*ncol]})
	}
	for c := 0; c < ncol; c++ {
		fillColumn(rec.Column(c), func(i int, v any) { rows[start+i].values[c] = v })
	}
	return rows
}

// fillColumn calls set for every element of arr with its Go value; the type switch runs once
// per column, not once per value.
func fillColumn(arr arrow.Array, set func(int, any)) {
	n := arr.Len()
	switch a := arr.(type) {
	case *array.Int32:
		for i := 0; i < n; i++ {
			if a.IsNull(i) {
				continue
			}
			set(i, a.Value(i))
		}
	case *array.Int64:
		for i := 0; i < n; i++ {
			if a.IsNull(i) {
				continue
			}
			set(i, a.Value(i))
		}
	case *array.Float64:
		for i := 0; i < n; i++ {
			if a.IsNull(i) {
				continue
			}
			set(i, a.Value(i))
		}
	case *array.String:
		for i := 0; i < n; i++ {
			if a.IsNull(i) {
				continue
			}
			set(i, a.Value(i))
		}
	default:
		get := valueGetter(arr)
		for i := 0; i < n; i++ {
			if arr.IsNull(i) {
				continue
			}
			set(i, get(i))
		}
	}
}

// valueGetter returns a function giving the Go value of a non-null element of arr.
func valueGetter(arr arrow.Array) func(int) any {
	switch a := arr.(type) {
	case *array.Null:
		return func(int) any { return nil }
	case *array.Boolean:
		return func(i int) any { return a.Value(i) }
	case *array.Int8:
		return func(i int) any { return a.Value(i) }
	case *array.Int16:
		return func(i int) any { return a.Value(i) }
	case *array.Int32:
		return func(i int) any { return a.Value(i) }
	case *array.Int64:
		return func(i int) any { return a.Value(i) }
	case *array.Float32:
		return func(i int) any { return a.Value(i) }
	case *array.Float64:
		return func(i int) any { return a.Value(i) }
	case *array.String:
		return func(i int) any { return a.Value(i) }
	case *array.LargeString:
		return func(i int) any { return a.Value(i) }
	case *array.Binary:
		return func(i int) any { return bytes.Clone(a.Value(i)) }
	case *array.LargeBinary:
		return func(i int) any { return bytes.Clone(a.Value(i)) }
	case *array.Date32:
		return func(i int) any { return a.Value(i).ToTime().UTC() }
	case *array.Date64:
		return func(i int) any { return a.Value(i).ToTime().UTC() }
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return func(i int) any { return a.Value(i).ToTime(unit).UTC() }
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return func(i int) any { return Decimal{Unscaled: a.Value(i).BigInt(), Scale: scale} }
	case *array.Decimal256:
		scale := a.DataType().(*arrow.Decimal256Type).Scale
		return func(i int) any { return Decimal{Unscaled: a.Value(i).BigInt(), Scale: scale} }
	case *array.Map: // before *array.List: a Map is a List
		keys, items := valueGetter(a.Keys()), valueGetter(a.Items())
		kArr, iArr := a.Keys(), a.Items()
		return func(i int) any {
			start, end := a.ValueOffsets(i)
			m := make(map[any]any, end-start)
			for j := int(start); j < int(end); j++ {
				k := keys(j)
				if b, ok := k.([]byte); ok {
					k = string(b)
				}
				if kArr.IsNull(j) {
					k = nil
				}
				var v any
				if !iArr.IsNull(j) {
					v = items(j)
				}
				m[k] = v
			}
			return m
		}
	case array.ListLike:
		values := a.ListValues()
		get := valueGetter(values)
		return func(i int) any {
			start, end := a.ValueOffsets(i)
			out := make([]any, end-start)
			for j := int(start); j < int(end); j++ {
				if !values.IsNull(j) {
					out[j-int(start)] = get(j)
				}
			}
			return out
		}
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		names := make([]string, st.NumFields())
		getters := make([]func(int) any, st.NumFields())
		for f := range names {
			names[f] = st.Field(f).Name
			getters[f] = valueGetter(a.Field(f))
		}
		return func(i int) any {
			vals := make([]any, len(names))
			for f := range vals {
				if !a.Field(f).IsNull(i) {
					vals[f] = getters[f](i)
				}
			}
			return Row{names: names, values: vals}
		}
	case *array.DayTimeInterval:
		return func(i int) any {
			v := a.Value(i)
			return time.Duration(v.Days)*24*time.Hour + time.Duration(v.Milliseconds)*time.Millisecond
		}
	case *array.Duration:
		unit := a.DataType().(*arrow.DurationType).Unit
		return func(i int) any { return time.Duration(a.Value(i)) * unit.Multiplier() }
	}
	return arr.GetOneForMarshal
}
