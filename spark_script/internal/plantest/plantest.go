// Package plantest pins the Spark plans the job sends, for the paths' golden tests: it runs
// plan-building code against the project's in-process Spark Connect server and renders every plan
// received in one stable JSON form.
package plantest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	sc "idxstream/sparkconnect"
	"idxstream/sparkconnect/connectpb"
	"idxstream/sparkconnect/sparkconnecttest"
	"idxstream/trade"
)

// Reference is a small profile for the plans (one ticker of another shape among them).
func Reference() trade.Reference {
	return trade.Reference{MaxSkew: time.Hour, Listings: map[string]trade.Listing{
		"BBCA": {Sector: "Financials", Shares: 123275050000}, "TMAS.JK": {Sector: "Transportation & Logistic", Shares: 1141030000},
	}}
}

// Plans runs f on a session of the fake server and returns the plans it sent, as indented JSON.
func Plans(t *testing.T, f func(ctx context.Context, s *sc.Session)) []byte {
	t.Helper()
	srv := sparkconnecttest.NewServer()
	defer srv.Close()
	s, err := sc.Connect("sc://fake", sc.WithDialOptions(srv.DialOptions()...))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f(context.Background(), s)
	var out bytes.Buffer
	for _, r := range srv.Requests() {
		req, ok := r.(*connectpb.ExecutePlanRequest)
		if !ok {
			continue
		}
		b, err := protojson.Marshal(req.GetPlan())
		if err != nil {
			t.Fatal(err)
		}
		// protojson varies its whitespace on purpose; json.Indent makes it one stable form.
		if err := json.Indent(&out, b, "", "  "); err != nil {
			t.Fatal(err)
		}
		out.WriteByte('\n')
	}
	// Each raw query start gets its own connector session (rawpath.Plans.Start): the value is random.
	return keepAlive.ReplaceAll(out.Bytes(), []byte(`"${1}spark.cassandra.connection.keepAliveMS": "<varies>"`))
}

var keepAlive = regexp.MustCompile(`"((?:target\.[0-9]+\.option\.)?)spark\.cassandra\.connection\.keepAliveMS": "[0-9]+"`)

// Golden compares got with testdata/name, or rewrites it when update is set.
func Golden(t *testing.T, name string, got []byte, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the plan sent differs from %s; if the change is intended, run the test with -update and review the diff", path)
	}
}
