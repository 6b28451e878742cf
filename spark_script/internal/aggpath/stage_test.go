package aggpath

import (
	"bytes"
	"context"
	"flag"
	"testing"

	"idxstream/spark_script/internal/batchlog"
	"idxstream/spark_script/internal/offsets"
	"idxstream/spark_script/internal/plantest"
	sc "idxstream/sparkconnect"
)

var update = flag.Bool("update", false, "rewrite the golden plans under testdata")

// TestStagePlan pins the aggregate path's batch: exactly the batch's range, staged in agg_stage.
func TestStagePlan(t *testing.T) {
	set := StageSettings{Kafka: map[string]string{"kafka.bootstrap.servers": "kafka:9092", "kafka.default.api.timeout.ms": "10000", "kafka.request.timeout.ms": "5000"}, MarketTZ: "Asia/Jakarta", MySQLURL: "jdbc:mysql://mysql:3306/trading",
		MySQLUser: "trading_job", MySQLPassword: "secret", Reference: plantest.Reference()}
	got := plantest.Plans(t, func(ctx context.Context, s *sc.Session) {
		b := &batchlog.Batch{ID: 42, Topic: "trading_data", Start: offsets.Offsets{0: 10, 1: 0, 2: 7}, End: offsets.Offsets{0: 20, 1: 5, 2: 7}}
		if err := NewSparkStager(s, set).Stage(ctx, b); err != nil {
			t.Fatal(err)
		}
	})
	if !bytes.Contains(got, []byte(`"dbtable": "agg_stage"`)) || !bytes.Contains(got, []byte(`CAST(42 AS BIGINT) AS batch_id`)) {
		t.Fatalf("the stage plan does not write batch 42 to agg_stage:\n%s", got)
	}
	plantest.Golden(t, "stage.json", got, *update)
}
