package sparkconnect_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	sc "idxstream/sparkconnect"
	"idxstream/sparkconnect/connectpb"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// checkGolden compares msg with testdata/plans/name.txtpb, parsed and compared with proto.Equal
// (protobuf text output is not byte-stable).
func checkGolden(t *testing.T, name string, msg proto.Message) {
	t.Helper()
	path := filepath.Join("testdata", "plans", name+".txtpb")
	if *update {
		b, err := prototext.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	want := msg.ProtoReflect().New().Interface()
	if err := prototext.Unmarshal(b, want); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if !proto.Equal(msg, want) {
		got, _ := prototext.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(msg)
		t.Errorf("plan differs from %s; got:\n%s", path, got)
	}
}

func TestRelationGolden(t *testing.T) {
	kafka := func(s *sc.Session) *sc.DataFrame {
		return s.ReadStream().Format("kafka").
			Option("kafka.bootstrap.servers", "127.0.0.1:9092").
			Option("subscribe", "trading_data").
			Option("startingOffsets", "earliest").
			Load()
	}
	tests := []struct {
		name string
		df   func(s *sc.Session) *sc.DataFrame
	}{
		{"table_select", func(s *sc.Session) *sc.DataFrame {
			return s.Table("trades").Select(sc.Col("ticker"), sc.Col("volume").Cast("bigint").As("v"), sc.Col("*"))
		}},
		{"select_expr_filter_where", func(s *sc.Session) *sc.DataFrame {
			return s.Table("t").SelectExpr("CAST(value AS STRING) AS json", "offset").
				Filter(sc.Col("offset").Gt(int64(10)).And(sc.Col("json").IsNotNull())).
				Where("length(json) > 2")
		}},
		{"with_column_group_agg", func(s *sc.Session) *sc.DataFrame {
			return s.Table("t").WithColumn("day", sc.Fn("to_date", sc.Col("created_at"))).
				GroupBy(sc.Col("day"), sc.Col("sector")).
				Agg(sc.Sum(sc.Col("volume")).As("total_volume"), sc.Count(sc.Lit(int32(1))).As("n"))
		}},
		{"order_limit_alias_todf", func(s *sc.Session) *sc.DataFrame {
			return s.Table("t").OrderBy(sc.Col("a").Desc(), sc.Col("b")).Limit(5).Alias("x").ToDF("p", "q")
		}},
		{"batch_read_jdbc", func(s *sc.Session) *sc.DataFrame {
			return s.Read().Format("jdbc").Options(map[string]string{"url": "jdbc:mysql://h/db", "dbtable": "profile"}).Load()
		}},
		{"batch_read_paths_schema", func(s *sc.Session) *sc.DataFrame {
			return s.Read().Format("json").Schema("a INT, b STRING").Load("/data/a.json", "/data/b.json")
		}},
		{"stream_read_kafka", kafka},
		{"watermark", func(s *sc.Session) *sc.DataFrame {
			return kafka(s).SelectExpr("timestamp").WithWatermark("timestamp", "1 minute")
		}},
		{"literals", func(s *sc.Session) *sc.DataFrame {
			return s.Table("t").Select(sc.Lit(nil), sc.Lit(true), sc.Lit(int8(1)), sc.Lit(int16(2)), sc.Lit(int32(3)), sc.Lit(4),
				sc.Lit(float32(1.5)), sc.Lit(2.5), sc.Lit("s"), sc.Lit([]byte("b")),
				sc.Lit(time.Date(2026, 11, 23, 2, 15, 4, 123456000, time.UTC)))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, s := newFake(t) // a new session per case: plan ids start at 0
			checkGolden(t, "relation_"+tc.name, tc.df(s).Relation())
		})
	}
}

// lastExecute returns the plan of the last ExecutePlan request the fake received.
func lastExecute(t *testing.T, reqs []proto.Message) *connectpb.ExecutePlanRequest {
	t.Helper()
	for i := len(reqs) - 1; i >= 0; i-- {
		if r, ok := reqs[i].(*connectpb.ExecutePlanRequest); ok {
			return r
		}
	}
	t.Fatal("no ExecutePlan request")
	return nil
}

func TestCommandGolden(t *testing.T) {
	ctx := ctxT(t)
	tests := []struct {
		name string
		run  func(s *sc.Session) error
	}{
		{"write_jdbc_append", func(s *sc.Session) error {
			return s.Table("agg").Write().Format("jdbc").Mode(sc.SaveModeAppend).
				Option("url", "jdbc:mysql://127.0.0.1:3306/trading").Option("dbtable", "aggregated_data").
				Options(map[string]string{"user": "u", "password": "p"}).Save(ctx)
		}},
		{"write_parquet_overwrite_path", func(s *sc.Session) error {
			return s.Table("t").Write().Format("parquet").Mode(sc.SaveModeOverwrite).PartitionBy("day").Save(ctx, "/tmp/out")
		}},
		{"write_save_as_table_ignore", func(s *sc.Session) error {
			return s.Table("t").Write().Mode(sc.SaveModeIgnore).SaveAsTable(ctx, "db.t2")
		}},
		{"write_insert_into", func(s *sc.Session) error { return s.Table("t").Write().InsertInto(ctx, "db.t3") }},
		{"temp_view", func(s *sc.Session) error { return s.Table("t").CreateOrReplaceTempView(ctx, "v") }},
		{"sql_with_args", func(s *sc.Session) error {
			_, err := s.Sql(ctx, "SELECT * FROM t WHERE a = ? AND b = ?", int64(7), "x")
			return err
		}},
		{"write_stream_processing_time", func(s *sc.Session) error {
			_, err := s.ReadStream().Format("kafka").Option("subscribe", "trading_data").Load().
				SelectExpr("CAST(value AS STRING) AS json").
				WriteStream().Format("org.apache.spark.sql.cassandra").
				Options(map[string]string{"keyspace": "trading", "table": "real_time_data"}).
				Option("checkpointLocation", "/tmp/ckpt").
				OutputMode(sc.OutputModeAppend).Trigger(sc.ProcessingTime(10 * time.Second)).
				QueryName("raw").Start(ctx)
			return err
		}},
		{"write_stream_available_now_path", func(s *sc.Session) error {
			_, err := s.ReadStream().Format("rate").Load().WriteStream().Format("parquet").
				Trigger(sc.AvailableNow()).Start(ctx, "/tmp/rate")
			return err
		}},
		{"write_stream_once_to_table", func(s *sc.Session) error {
			_, err := s.ReadStream().Table("src").WriteStream().Trigger(sc.Once()).OutputMode(sc.OutputModeUpdate).ToTable(ctx, "dst")
			return err
		}},
		{"write_stream_continuous_ms", func(s *sc.Session) error {
			_, err := s.ReadStream().Format("rate").Load().WriteStream().Format("console").
				Trigger(sc.Continuous(1500 * time.Millisecond)).Start(ctx)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, s := newFake(t)
			if err := tc.run(s); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "command_"+tc.name, lastExecute(t, srv.Requests()).GetPlan())
		})
	}
}

func TestTriggerIntervalStrings(t *testing.T) {
	srv, s := newFake(t)
	ctx := ctxT(t)
	tests := []struct {
		trigger sc.Trigger
		want    string
	}{
		{sc.ProcessingTime(10 * time.Second), "10 seconds"},
		{sc.ProcessingTime(time.Minute), "60 seconds"},
		{sc.ProcessingTime(0), "0 seconds"},
		{sc.ProcessingTime(250 * time.Millisecond), "250 milliseconds"},
	}
	for _, tc := range tests {
		if _, err := s.ReadStream().Format("rate").Load().WriteStream().Trigger(tc.trigger).Start(ctx); err != nil {
			t.Fatal(err)
		}
		got := lastExecute(t, srv.Requests()).GetPlan().GetCommand().GetWriteStreamOperationStart().GetProcessingTimeInterval()
		if got != tc.want {
			t.Errorf("trigger %v: interval %q, want %q", tc.trigger, got, tc.want)
		}
	}
}
