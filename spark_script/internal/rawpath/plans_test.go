package rawpath

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

	sc "idxstream/sparkconnect"
	"idxstream/sparkconnect/connectpb"
	"idxstream/sparkconnect/sparkconnecttest"
	"idxstream/trade"
)

var update = flag.Bool("update", false, "rewrite the golden plans under testdata")

func settings() Settings {
	return Settings{
		Topic: "trading_data", KafkaBootstrap: "kafka:9092", MaxOffsetsPerTrigger: 200000, Keyspace: "trading",
		CheckpointRoot: "/checkpoints", Trigger: 10 * time.Second, MarketTZ: "Asia/Jakarta",
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
		t.Fatalf("%v (run `go test ./internal/rawpath -update` to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the plan sent differs from %s; if the change is intended, run `go test ./internal/rawpath -update` and review the diff", path)
	}
}

// TestRawPlans pins every streaming query the raw path starts: a change of a plan shows as a diff
// of its golden file in review.
func TestRawPlans(t *testing.T) {
	for _, sink := range Sinks() {
		t.Run(sink.Table, func(t *testing.T) {
			got := plans(t, func(ctx context.Context, s *sc.Session) {
				if _, err := NewPlans(s, settings()).Start(ctx, sink); err != nil {
					t.Fatal(err)
				}
			})
			golden(t, "raw_"+sink.Table+".json", got)
		})
	}
}
