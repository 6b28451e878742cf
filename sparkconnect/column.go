package sparkconnect

import (
	"fmt"
	"math/big"
	"time"

	"idxstream/sparkconnect/connectpb"
)

// Column is an expression over the columns of a DataFrame (PySpark Column). Build it with Col,
// Expr, Lit or the functions of this package; it is an immutable value.
type Column struct {
	expr *connectpb.Expression
}

// Expression returns the protocol expression.
func (c Column) Expression() *connectpb.Expression { return c.expr }

// Col names a column (PySpark F.col); "*" selects all columns and "t.*" those of t.
func Col(name string) Column {
	if name == "*" {
		return Column{&connectpb.Expression{ExprType: &connectpb.Expression_UnresolvedStar_{UnresolvedStar: &connectpb.Expression_UnresolvedStar{}}}}
	}
	if len(name) > 2 && name[len(name)-2:] == ".*" {
		target := name
		return Column{&connectpb.Expression{ExprType: &connectpb.Expression_UnresolvedStar_{UnresolvedStar: &connectpb.Expression_UnresolvedStar{UnparsedTarget: &target}}}}
	}
	return Column{&connectpb.Expression{ExprType: &connectpb.Expression_UnresolvedAttribute_{
		UnresolvedAttribute: &connectpb.Expression_UnresolvedAttribute{UnparsedIdentifier: name}}}}
}

// Expr is a SQL expression parsed by the server (PySpark F.expr), e.g. "CAST(value AS STRING)".
func Expr(sql string) Column {
	return Column{&connectpb.Expression{ExprType: &connectpb.Expression_ExpressionString_{
		ExpressionString: &connectpb.Expression_ExpressionString{Expression: sql}}}}
}

// Lit is a literal (PySpark F.lit). Supported Go types: nil, bool, int8, int16, int32, int and
// int64 (bigint), float32, float64, string, []byte, time.Time (timestamp), Decimal and *big.Int
// (decimal). Other types panic: they are programming errors.
func Lit(v any) Column {
	l, err := literal(v)
	if err != nil {
		panic(err)
	}
	return Column{&connectpb.Expression{ExprType: &connectpb.Expression_Literal_{Literal: l}}}
}

func literal(v any) (*connectpb.Expression_Literal, error) {
	l := &connectpb.Expression_Literal{}
	switch x := v.(type) {
	case nil:
		l.LiteralType = &connectpb.Expression_Literal_Null{Null: &connectpb.DataType{Kind: &connectpb.DataType_Null{Null: &connectpb.DataType_NULL{}}}}
	case bool:
		l.LiteralType = &connectpb.Expression_Literal_Boolean{Boolean: x}
	case int8:
		l.LiteralType = &connectpb.Expression_Literal_Byte{Byte: int32(x)}
	case int16:
		l.LiteralType = &connectpb.Expression_Literal_Short{Short: int32(x)}
	case int32:
		l.LiteralType = &connectpb.Expression_Literal_Integer{Integer: x}
	case int:
		l.LiteralType = &connectpb.Expression_Literal_Long{Long: int64(x)}
	case int64:
		l.LiteralType = &connectpb.Expression_Literal_Long{Long: x}
	case float32:
		l.LiteralType = &connectpb.Expression_Literal_Float{Float: x}
	case float64:
		l.LiteralType = &connectpb.Expression_Literal_Double{Double: x}
	case string:
		l.LiteralType = &connectpb.Expression_Literal_String_{String_: x}
	case []byte:
		l.LiteralType = &connectpb.Expression_Literal_Binary{Binary: x}
	case time.Time:
		l.LiteralType = &connectpb.Expression_Literal_Timestamp{Timestamp: x.UnixMicro()}
	case Decimal:
		l.LiteralType = &connectpb.Expression_Literal_Decimal_{Decimal: &connectpb.Expression_Literal_Decimal{Value: x.String()}}
	case *big.Int:
		l.LiteralType = &connectpb.Expression_Literal_Decimal_{Decimal: &connectpb.Expression_Literal_Decimal{Value: x.String()}}
	default:
		return nil, fmt.Errorf("sparkconnect: unsupported literal type %T", v)
	}
	return l, nil
}

// Fn calls a Spark SQL function or operator by name (e.g. "upper", "date_format", "+", "==")
// with the given arguments.
func Fn(name string, args ...Column) Column {
	exprs := make([]*connectpb.Expression, len(args))
	for i, a := range args {
		exprs[i] = a.expr
	}
	return Column{&connectpb.Expression{ExprType: &connectpb.Expression_UnresolvedFunction_{
		UnresolvedFunction: &connectpb.Expression_UnresolvedFunction{FunctionName: name, Arguments: exprs}}}}
}

// As names the column (PySpark Column.alias).
func (c Column) As(name string) Column {
	return Column{&connectpb.Expression{ExprType: &connectpb.Expression_Alias_{
		Alias: &connectpb.Expression_Alias{Expr: c.expr, Name: []string{name}}}}}
}

// Cast converts the column to a type given as a Spark SQL type string ("int", "timestamp",
// "decimal(18,2)", ...).
func (c Column) Cast(typ string) Column {
	return Column{&connectpb.Expression{ExprType: &connectpb.Expression_Cast_{
		Cast: &connectpb.Expression_Cast{Expr: c.expr, CastToType: &connectpb.Expression_Cast_TypeStr{TypeStr: typ}}}}}
}

// Eq is c = other (other: a Column or a literal value).
func (c Column) Eq(other any) Column { return Fn("==", c, asColumn(other)) }

// Ne is c != other.
func (c Column) Ne(other any) Column { return Fn("!=", c, asColumn(other)) }

// Gt is c > other.
func (c Column) Gt(other any) Column { return Fn(">", c, asColumn(other)) }

// Ge is c >= other.
func (c Column) Ge(other any) Column { return Fn(">=", c, asColumn(other)) }

// Lt is c < other.
func (c Column) Lt(other any) Column { return Fn("<", c, asColumn(other)) }

// Le is c <= other.
func (c Column) Le(other any) Column { return Fn("<=", c, asColumn(other)) }

// And is c AND other.
func (c Column) And(other Column) Column { return Fn("and", c, other) }

// Or is c OR other.
func (c Column) Or(other Column) Column { return Fn("or", c, other) }

// Not is NOT c.
func Not(c Column) Column { return Fn("not", c) }

// Add is c + other.
func (c Column) Add(other any) Column { return Fn("+", c, asColumn(other)) }

// Sub is c - other.
func (c Column) Sub(other any) Column { return Fn("-", c, asColumn(other)) }

// Mul is c * other.
func (c Column) Mul(other any) Column { return Fn("*", c, asColumn(other)) }

// Div is c / other.
func (c Column) Div(other any) Column { return Fn("/", c, asColumn(other)) }

// IsNull is c IS NULL.
func (c Column) IsNull() Column { return Fn("isnull", c) }

// IsNotNull is c IS NOT NULL.
func (c Column) IsNotNull() Column { return Fn("isnotnull", c) }

// Asc sorts ascending, nulls first (Spark's default).
func (c Column) Asc() Column {
	return c.sortOrder(connectpb.Expression_SortOrder_SORT_DIRECTION_ASCENDING, connectpb.Expression_SortOrder_SORT_NULLS_FIRST)
}

// Desc sorts descending, nulls last.
func (c Column) Desc() Column {
	return c.sortOrder(connectpb.Expression_SortOrder_SORT_DIRECTION_DESCENDING, connectpb.Expression_SortOrder_SORT_NULLS_LAST)
}

func (c Column) sortOrder(d connectpb.Expression_SortOrder_SortDirection, n connectpb.Expression_SortOrder_NullOrdering) Column {
	if c.expr.GetSortOrder() != nil {
		c = Column{c.expr.GetSortOrder().GetChild()}
	}
	return Column{&connectpb.Expression{ExprType: &connectpb.Expression_SortOrder_{
		SortOrder: &connectpb.Expression_SortOrder{Child: c.expr, Direction: d, NullOrdering: n}}}}
}

// asColumn turns a literal value into a Column; a Column stays as it is.
func asColumn(v any) Column {
	if c, ok := v.(Column); ok {
		return c
	}
	return Lit(v)
}

// Count is count(c); Count(Lit(1)) counts rows.
func Count(c Column) Column { return Fn("count", c) }

// Sum is sum(c).
func Sum(c Column) Column { return Fn("sum", c) }

// Avg is avg(c).
func Avg(c Column) Column { return Fn("avg", c) }

// Min is min(c).
func Min(c Column) Column { return Fn("min", c) }

// Max is max(c).
func Max(c Column) Column { return Fn("max", c) }
