package rawpath

import (
	"context"
	"flag"
	"testing"
	"time"

	"idxstream/spark_script/internal/plantest"
	sc "idxstream/sparkconnect"
)

var update = flag.Bool("update", false, "rewrite the golden plans under testdata")

// TestRawPlans pins the streaming query the raw path starts: a change of a plan shows as a diff
// of its golden file in review.
func TestRawPlans(t *testing.T) {
	set := Settings{
		Topic: "trading_data", Kafka: map[string]string{"kafka.bootstrap.servers": "kafka:9092", "kafka.default.api.timeout.ms": "10000", "kafka.request.timeout.ms": "5000"}, MaxOffsetsPerTrigger: 200000, Keyspace: "trading", Consistency: "LOCAL_QUORUM",
		CheckpointRoot: "/checkpoints", Trigger: 10 * time.Second, MarketTZ: "Asia/Jakarta", Reference: plantest.Reference(),
		StartingOffsets: `{"trading_data":{"0":120,"1":-2}}`, MySQLURL: "jdbc:mysql://mysql:3306/trading", MySQLUser: "trading_job", MySQLPassword: "pw",
	}
	got := plantest.Plans(t, func(ctx context.Context, s *sc.Session) {
		if _, err := NewPlans(s, set).Start(ctx); err != nil {
			t.Fatal(err)
		}
	})
	plantest.Golden(t, "raw.json", got, *update)
}
