package trade

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestContractStructMatchesDDL: the Go struct's JSON names and kinds are the DDL's columns, in order.
func TestContractStructMatchesDDL(t *testing.T) {
	fields := Fields()
	rt := reflect.TypeFor[Trade]()
	if rt.NumField() != len(fields) {
		t.Fatalf("Trade has %d fields, SparkDDL %d", rt.NumField(), len(fields))
	}
	for i, f := range fields {
		sf := rt.Field(i)
		name := strings.Split(sf.Tag.Get("json"), ",")[0]
		if name != f.Name {
			t.Errorf("field %d: Trade.%s has JSON name %q, SparkDDL says %q", i, sf.Name, name, f.Name)
		}
		var want reflect.Type
		switch f.Type {
		case "BIGINT":
			want = reflect.TypeFor[int64]()
		case "DOUBLE":
			want = reflect.TypeFor[float64]()
		case "STRING":
			want = reflect.TypeFor[string]()
			if f.Name == "created_at" {
				want = reflect.TypeFor[time.Time]()
			}
		default:
			t.Fatalf("unexpected Spark type %q", f.Type)
		}
		if sf.Type != want {
			t.Errorf("Trade.%s is %s, want %s for %s %s", sf.Name, sf.Type, want, f.Name, f.Type)
		}
	}
}

// TestContractEncodedBatchConformsToDDL: what AppendBatch writes has the DDL's shape, and the samples are valid.
func TestContractEncodedBatchConformsToDDL(t *testing.T) {
	b := AppendBatch(nil, sampleTrades())
	if err := ConformsToSchema(b); err != nil {
		t.Fatalf("encoded batch does not conform to SparkDDL:\n%v\n%s", err, b)
	}
	for _, tr := range sampleTrades() {
		if err := Validate(tr, tr.CreatedAt, sampleReference()); err != nil {
			t.Errorf("sample trade %d invalid: %v", tr.ID, err)
		}
	}
}

// TestContractGolden pins the exact bytes of a record value; the job's tests can read the same file.
func TestContractGolden(t *testing.T) {
	got := AppendBatch(nil, sampleTrades())
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file string
		data []byte
	}{
		{"batch.golden.json", append(got, '\n')},
		{"batch.pretty.golden.json", append(pretty.Bytes(), '\n')},
	}
	for _, c := range cases {
		path := filepath.Join("testdata", c.file)
		if *update {
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(c.data, want) {
			t.Errorf("%s differs (go test -update rewrites it):\n got %s\nwant %s", path, c.data, want)
		}
	}
}

func TestConformsToSchemaRejects(t *testing.T) {
	good := `{"id":1,"ticker":"BBCA","created_at":"2026-11-23T02:15:04.123456Z","price":9875,"market_cap":1.2e15,"volume":500,"sector":"Financials"}`
	tests := []struct {
		name, in, want string
	}{
		{"not an array", good, "not a JSON array"},
		{"missing field", `[{"id":1,"ticker":"BBCA","created_at":"2026-11-23T02:15:04.123456Z","price":1,"market_cap":1,"volume":100}]`, "sector missing"},
		{"extra field", `[` + strings.Replace(good, `"id":1`, `"id":1,"side":"buy"`, 1) + `]`, "side is not in the schema"},
		{"string id", `[` + strings.Replace(good, `"id":1`, `"id":"1"`, 1) + `]`, "want an integer"},
		{"fractional id", `[` + strings.Replace(good, `"id":1`, `"id":1.5`, 1) + `]`, "want an int64"},
		{"string price", `[` + strings.Replace(good, `"price":9875`, `"price":"9875"`, 1) + `]`, "want a number"},
		{"numeric sector", `[` + strings.Replace(good, `"Financials"`, `7`, 1) + `]`, "want a string"},
		{"no microseconds", `[` + strings.Replace(good, `.123456Z`, `Z`, 1) + `]`, "does not match"},
		{"offset not Z", `[` + strings.Replace(good, `.123456Z`, `.123456+07:00`, 1) + `]`, "does not match"},
		{"trailing data", `[` + good + `] []`, "trailing data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ConformsToSchema([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ConformsToSchema = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if err := ConformsToSchema([]byte(`[` + good + `,` + good + `]`)); err != nil {
		t.Errorf("valid input rejected: %v", err)
	}
}
