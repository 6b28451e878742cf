package sparkconnect

import (
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"idxstream/sparkconnect/sparkconnecttest"
)

// allTypesRecord builds a batch with every type Spark sends for the common SQL types, in the
// Arrow form Spark uses (timestamps in microseconds with a UTC zone, NTZ without zone, dates as
// date32, decimals as decimal128), with a null row.
func allTypesRecord(t testing.TB) arrow.RecordBatch {
	mem := memory.NewGoAllocator()
	structType := arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true}, arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "bool", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "byte", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "short", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "int", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "long", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "float", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "double", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "string", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "binary", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "ts_ntz", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		{Name: "arr", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "st", Type: structType, Nullable: true},
		{Name: "map", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "dt_interval", Type: arrow.FixedWidthTypes.Duration_us, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	ts := time.Date(2026, 11, 23, 2, 15, 4, 123456000, time.UTC)
	b.Field(0).(*array.BooleanBuilder).Append(true)
	b.Field(1).(*array.Int8Builder).Append(-8)
	b.Field(2).(*array.Int16Builder).Append(1600)
	b.Field(3).(*array.Int32Builder).Append(320000)
	b.Field(4).(*array.Int64Builder).Append(9000000000)
	b.Field(5).(*array.Float32Builder).Append(1.5)
	b.Field(6).(*array.Float64Builder).Append(2.25)
	b.Field(7).(*array.StringBuilder).Append("héllo")
	b.Field(8).(*array.BinaryBuilder).Append([]byte{0, 1, 2})
	b.Field(9).(*array.Date32Builder).Append(arrow.Date32FromTime(ts))
	b.Field(10).(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixMicro()))
	b.Field(11).(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixMicro()))
	b.Field(12).(*array.Decimal128Builder).Append(decimal128.FromI64(-1250))
	lb := b.Field(13).(*array.ListBuilder)
	lb.Append(true)
	lb.ValueBuilder().(*array.Int32Builder).AppendValues([]int32{1, 2}, nil)
	lb.ValueBuilder().(*array.Int32Builder).AppendNull()
	sb := b.Field(14).(*array.StructBuilder)
	sb.Append(true)
	sb.FieldBuilder(0).(*array.Int32Builder).Append(1)
	sb.FieldBuilder(1).(*array.StringBuilder).AppendNull()
	mb := b.Field(15).(*array.MapBuilder)
	mb.Append(true)
	mb.KeyBuilder().(*array.StringBuilder).Append("k")
	mb.ItemBuilder().(*array.Int64Builder).Append(5)
	b.Field(16).(*array.DurationBuilder).Append(arrow.Duration(90 * time.Second / time.Microsecond))
	// second row: all null
	for i := range schema.Fields() {
		b.Field(i).AppendNull()
	}
	return b.NewRecordBatch()
}

func TestDecodeArrowAllTypes(t *testing.T) {
	rec := allTypesRecord(t)
	defer rec.Release()
	data, err := sparkconnecttest.ArrowStream(rec)
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := decodeArrowStream(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	ts := time.Date(2026, 11, 23, 2, 15, 4, 123456000, time.UTC)
	want := map[string]any{
		"bool": true, "byte": int8(-8), "short": int16(1600), "int": int32(320000), "long": int64(9000000000),
		"float": float32(1.5), "double": 2.25, "string": "héllo", "binary": []byte{0, 1, 2},
		"date": time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), "ts": ts, "ts_ntz": ts,
		"dec":         Decimal{Unscaled: big.NewInt(-1250), Scale: 2},
		"arr":         []any{int32(1), int32(2), nil},
		"st":          Row{names: []string{"a", "b"}, values: []any{int32(1), nil}},
		"map":         map[any]any{"k": int64(5)},
		"dt_interval": 90 * time.Second,
	}
	names := rows[0].FieldNames()
	if len(names) != len(want) {
		t.Fatalf("columns %v", names)
	}
	for _, n := range names {
		got, _ := rows[0].Get(n)
		if !reflect.DeepEqual(got, want[n]) {
			t.Errorf("%s = %#v (%T), want %#v", n, got, got, want[n])
		}
		if v, _ := rows[1].Get(n); v != nil {
			t.Errorf("null row: %s = %#v", n, v)
		}
	}
	if s := rows[0].At(12).(Decimal).String(); s != "-12.50" {
		t.Errorf("decimal string %q", s)
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		unscaled int64
		scale    int32
		want     string
		f        float64
	}{
		{1250, 2, "12.50", 12.5},
		{-5, 3, "-0.005", -0.005},
		{7, 0, "7", 7},
		{3, -2, "300", 300},
		{0, 2, "0.00", 0},
	}
	for _, tc := range tests {
		d := Decimal{Unscaled: big.NewInt(tc.unscaled), Scale: tc.scale}
		if d.String() != tc.want || d.Float64() != tc.f {
			t.Errorf("Decimal(%d, %d) = %q / %v, want %q / %v", tc.unscaled, tc.scale, d.String(), d.Float64(), tc.want, tc.f)
		}
	}
}

func TestRowString(t *testing.T) {
	r := NewRow([]string{"a", "b", "c"}, []any{int32(1), "x", nil})
	if got := r.String(); got != `Row(a=1, b="x", c=<nil>)` {
		t.Fatalf("got %s", got)
	}
}

// benchRecord is a batch shaped like the job's results: bigint, string, double, timestamp.
func benchRecord(n int) arrow.RecordBatch {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "ticker", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "created_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "volume", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	tickers := []string{"BBCA", "BBRI", "TLKM", "ASII", "BMRI"}
	for i := 0; i < n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(tickers[i%len(tickers)])
		b.Field(2).(*array.Float64Builder).Append(9875 + float64(i%100))
		b.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000 + int64(i)))
		b.Field(4).(*array.Int32Builder).Append(int32(100 * (i%50 + 1)))
	}
	return b.NewRecordBatch()
}

// BenchmarkDecodeArrow measures turning one Arrow IPC stream (as sent in ArrowBatch.data) into
// rows.
func BenchmarkDecodeArrow(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		rec := benchRecord(n)
		data, err := sparkconnecttest.ArrowStream(rec)
		rec.Release()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(itoa(n)+"rows", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				rows, _, err := decodeArrowStream(data, nil)
				if err != nil || len(rows) != n {
					b.Fatal(err, len(rows))
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }
