package aggpath

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"idxstream/spark_script/internal/batchlog"
	"idxstream/spark_script/internal/offsets"
	sc "idxstream/sparkconnect"
	"idxstream/sparkconnect/connectpb"
	"idxstream/sparkconnect/sparkconnecttest"
	"idxstream/trade"
)

var update = flag.Bool("update", false, "rewrite the golden plans under testdata")

func settings() StageSettings {
	return StageSettings{
		KafkaBootstrap: "kafka:9092", MarketTZ: "Asia/Jakarta",
		MySQLURL: "jdbc:mysql://mysql:3306/trading", MySQLUser: "trading_job", MySQLPassword: "secret",
		Reference: trade.Reference{MaxSkew: time.Hour, Listings: map[string]trade.Listing{
			"BBCA": {Sector: "Financials", Shares: 123275050000}, "TMAS.JK": {Sector: "Transportation & Logistic", Shares: 1141030000},
		}},
	}
}

// plans runs f on a session of the fake server and returns the plans it sent, as indented JSON.
func plans(t *testing.T, f func(ctx context.Context, s *sc.Session)) []byte {
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
	// Each start gets its own connector session (see StartRaw): the value is random.
	return keepAlive.ReplaceAll(out.Bytes(), []byte(`"spark.cassandra.connection.keepAliveMS": "<varies>"`))
}

var keepAlive = regexp.MustCompile(`"spark\.cassandra\.connection\.keepAliveMS": "[0-9]+"`)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./internal/aggpath -update` to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the plan sent differs from %s; if the change is intended, run `go test ./internal/aggpath -update` and review the diff", path)
	}
}

// TestStagePlan pins the aggregate path's batch: exactly the batch's range, staged in agg_stage.
func TestStagePlan(t *testing.T) {
	got := plans(t, func(ctx context.Context, s *sc.Session) {
		b := &batchlog.Batch{ID: 42, Topic: "trading_data", Start: offsets.Offsets{0: 10, 1: 0, 2: 7}, End: offsets.Offsets{0: 20, 1: 5, 2: 7}}
		if err := NewSparkStager(s, settings()).Stage(ctx, b); err != nil {
			t.Fatal(err)
		}
	})
	if !bytes.Contains(got, []byte(`"dbtable": "agg_stage"`)) || !bytes.Contains(got, []byte(`CAST(42 AS BIGINT) AS batch_id`)) {
		t.Fatalf("the stage plan does not write batch 42 to agg_stage:\n%s", got)
	}
	golden(t, "stage.json", got)
}
