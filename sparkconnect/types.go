package sparkconnect

import (
	"fmt"
	"strings"

	"idxstream/sparkconnect/connectpb"
)

// StructType is the schema of a DataFrame (PySpark StructType).
type StructType struct {
	Fields []StructField
}

// StructField is one column of a schema.
type StructField struct {
	Name string
	// Type is Spark's simple type string: "int", "bigint", "decimal(10,2)", "array<string>",
	// "struct<a:int,b:string>", "map<string,int>", ...
	Type     string
	Nullable bool
	// DataType is the type as the server sent it.
	DataType *connectpb.DataType
}

// FieldNames returns the column names in order.
func (t StructType) FieldNames() []string {
	out := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		out[i] = f.Name
	}
	return out
}

// String renders the schema like Spark's simpleString: struct<a:int,b:string>.
func (t StructType) String() string {
	parts := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		parts[i] = f.Name + ":" + f.Type
	}
	return "struct<" + strings.Join(parts, ",") + ">"
}

// structTypeFromProto converts a struct DataType; other types become a single column "value".
func structTypeFromProto(dt *connectpb.DataType) StructType {
	st := dt.GetStruct()
	if st == nil {
		return StructType{Fields: []StructField{{Name: "value", Type: typeString(dt), Nullable: true, DataType: dt}}}
	}
	out := StructType{Fields: make([]StructField, len(st.GetFields()))}
	for i, f := range st.GetFields() {
		out.Fields[i] = StructField{Name: f.GetName(), Type: typeString(f.GetDataType()), Nullable: f.GetNullable(), DataType: f.GetDataType()}
	}
	return out
}

// typeString renders a DataType as Spark's simpleString.
func typeString(dt *connectpb.DataType) string {
	switch k := dt.GetKind().(type) {
	case *connectpb.DataType_Null:
		return "void"
	case *connectpb.DataType_Binary_:
		return "binary"
	case *connectpb.DataType_Boolean_:
		return "boolean"
	case *connectpb.DataType_Byte_:
		return "tinyint"
	case *connectpb.DataType_Short_:
		return "smallint"
	case *connectpb.DataType_Integer_:
		return "int"
	case *connectpb.DataType_Long_:
		return "bigint"
	case *connectpb.DataType_Float_:
		return "float"
	case *connectpb.DataType_Double_:
		return "double"
	case *connectpb.DataType_Decimal_:
		p, s := int32(10), int32(0)
		if k.Decimal.Precision != nil {
			p = k.Decimal.GetPrecision()
		}
		if k.Decimal.Scale != nil {
			s = k.Decimal.GetScale()
		}
		return fmt.Sprintf("decimal(%d,%d)", p, s)
	case *connectpb.DataType_String_:
		return "string"
	case *connectpb.DataType_Char_:
		return fmt.Sprintf("char(%d)", k.Char.GetLength())
	case *connectpb.DataType_VarChar_:
		return fmt.Sprintf("varchar(%d)", k.VarChar.GetLength())
	case *connectpb.DataType_Date_:
		return "date"
	case *connectpb.DataType_Timestamp_:
		return "timestamp"
	case *connectpb.DataType_TimestampNtz:
		return "timestamp_ntz"
	case *connectpb.DataType_CalendarInterval_:
		return "interval"
	case *connectpb.DataType_YearMonthInterval_:
		return "interval year to month"
	case *connectpb.DataType_DayTimeInterval_:
		return "interval day to second"
	case *connectpb.DataType_Array_:
		return "array<" + typeString(k.Array.GetElementType()) + ">"
	case *connectpb.DataType_Struct_:
		return structTypeFromProto(dt).String()
	case *connectpb.DataType_Map_:
		return "map<" + typeString(k.Map.GetKeyType()) + "," + typeString(k.Map.GetValueType()) + ">"
	case *connectpb.DataType_Udt:
		return typeString(k.Udt.GetSqlType())
	case *connectpb.DataType_Unparsed_:
		return k.Unparsed.GetDataTypeString()
	}
	return "unknown"
}
