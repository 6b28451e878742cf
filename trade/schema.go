package trade

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// SparkDDL lists the fields of one element of the JSON array with the Spark type of its Cassandra
// column: the shape a conforming producer writes (ConformsToSchema). The job itself reads every
// field as text (from_json with STRING fields) and types them in ParsedColumns, so that an
// ill-typed field is a reject with its own reason instead of a NULL.
const SparkDDL = "id BIGINT, ticker STRING, created_at STRING, price DOUBLE, market_cap DOUBLE, volume BIGINT, sector STRING"

// Field is one column of SparkDDL.
type Field struct {
	Name string // JSON name, e.g. market_cap
	Type string // Spark SQL type: BIGINT, DOUBLE or STRING
}

// Fields parses SparkDDL into its columns, in order.
func Fields() []Field {
	parts := strings.Split(SparkDDL, ",")
	fs := make([]Field, 0, len(parts))
	for _, p := range parts {
		name, typ, _ := strings.Cut(strings.TrimSpace(p), " ")
		fs = append(fs, Field{Name: name, Type: strings.TrimSpace(typ)})
	}
	return fs
}

// ConformsToSchema checks that b is a JSON array whose every element is an object with exactly
// the fields of SparkDDL, in any order, each holding a JSON value that Spark's from_json reads
// into the column's type without turning it into NULL: BIGINT an integer that fits int64, DOUBLE
// a finite number, STRING a string; created_at must also match TimeLayout. It reports every
// problem found.
func ConformsToSchema(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var elems []map[string]any
	if err := dec.Decode(&elems); err != nil {
		return fmt.Errorf("not a JSON array of objects: %w", err)
	}
	if dec.More() {
		return errors.New("trailing data after the JSON array")
	}
	fields := Fields()
	var errs []error
	for i, e := range elems {
		for _, f := range fields {
			v, ok := e[f.Name]
			if !ok {
				errs = append(errs, fmt.Errorf("element %d: field %s missing", i, f.Name))
				continue
			}
			if err := checkType(f, v); err != nil {
				errs = append(errs, fmt.Errorf("element %d: field %s: %w", i, f.Name, err))
			}
		}
		if len(e) != len(fields) {
			for k := range e {
				if !hasField(fields, k) {
					errs = append(errs, fmt.Errorf("element %d: field %s is not in the schema", i, k))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func hasField(fs []Field, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}

func checkType(f Field, v any) error {
	switch f.Type {
	case "BIGINT":
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("want an integer for BIGINT, got %T", v)
		}
		if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
			return fmt.Errorf("want an int64 for BIGINT, got %s", n)
		}
	case "DOUBLE":
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("want a number for DOUBLE, got %T", v)
		}
		x, err := n.Float64()
		if err != nil || math.IsInf(x, 0) {
			return fmt.Errorf("want a finite double, got %s", n)
		}
	case "STRING":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string for STRING, got %T", v)
		}
		if f.Name == "created_at" {
			ts, err := time.Parse(TimeLayout, s)
			if err != nil {
				return fmt.Errorf("created_at %q does not match %s: %w", s, TimeLayout, err)
			}
			if ts.Location() != time.UTC {
				return fmt.Errorf("created_at %q is not UTC", s)
			}
		}
	default:
		return fmt.Errorf("unknown Spark type %s in SparkDDL", f.Type)
	}
	return nil
}
