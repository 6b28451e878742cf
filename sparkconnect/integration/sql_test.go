//go:build integration

package integration

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"idxstream/sparkconnect"
)

func TestIntegrationVersionAndConfig(t *testing.T) {
	s := connect(t)
	ctx := testContext(t, 2*time.Minute)
	v, err := s.SparkVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "3.5.") && !strings.HasPrefix(v, "4.") {
		t.Fatalf("version %q", v)
	}
	t.Logf("server version %s", v)
	if err := s.Conf().Set(ctx, "spark.sql.shuffle.partitions", "3"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Conf().Get(ctx, "spark.sql.shuffle.partitions")
	if err != nil || got != "3" {
		t.Fatalf("get = %q, %v", got, err)
	}
	if _, ok, err := s.Conf().GetOption(ctx, "spark.idxstream.never.set"); err != nil || ok {
		t.Fatalf("GetOption of unset key: ok=%v err=%v", ok, err)
	}
}

func TestIntegrationSQLTypedRoundTrip(t *testing.T) {
	s := connect(t)
	ctx := testContext(t, 2*time.Minute)
	df, err := s.Sql(ctx, `SELECT
		CAST(7 AS INT) AS i, CAST(9000000000 AS BIGINT) AS l, CAST(1.5 AS DOUBLE) AS d, 'héllo' AS s,
		TIMESTAMP '2026-11-23 02:15:04.123456 UTC' AS ts, DATE '2026-11-23' AS dt,
		CAST(12.50 AS DECIMAL(10,2)) AS dec, CAST(NULL AS STRING) AS n,
		array(1, 2, 3) AS arr, named_struct('a', 1, 'b', 'x') AS st, map('k', 1) AS m`)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := df.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	want := map[string]any{"i": int32(7), "l": int64(9000000000), "d": 1.5, "s": "héllo", "n": nil}
	for k, w := range want {
		if v, _ := r.Get(k); v != w {
			t.Errorf("%s = %#v, want %#v", k, v, w)
		}
	}
	if v, _ := r.Get("ts"); !v.(time.Time).Equal(time.Date(2026, 11, 23, 2, 15, 4, 123456000, time.UTC)) {
		t.Errorf("ts = %v", v)
	}
	if v, _ := r.Get("dt"); !v.(time.Time).Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("dt = %v", v)
	}
	if v, _ := r.Get("dec"); v.(sparkconnect.Decimal).String() != "12.50" || v.(sparkconnect.Decimal).Rat().Cmp(big.NewRat(25, 2)) != 0 {
		t.Errorf("dec = %v", v)
	}
	if v, _ := r.Get("arr"); len(v.([]any)) != 3 || v.([]any)[2] != int32(3) {
		t.Errorf("arr = %#v", v)
	}
	if v, _ := r.Get("st"); v.(sparkconnect.Row).At(1) != "x" {
		t.Errorf("st = %v", v)
	}
	if v, _ := r.Get("m"); v.(map[any]any)["k"] != int32(1) {
		t.Errorf("m = %v", v)
	}
	schema, err := df.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := schema.String(); got != "struct<i:int,l:bigint,d:double,s:string,ts:timestamp,dt:date,dec:decimal(10,2),n:string,arr:array<int>,st:struct<a:int,b:string>,m:map<string,int>>" {
		t.Errorf("schema = %s", got)
	}
}

func TestIntegrationDataFrameOps(t *testing.T) {
	s := connect(t)
	ctx := testContext(t, 2*time.Minute)
	base, err := s.Sql(ctx, "SELECT id, id % 3 AS g FROM range(10)")
	if err != nil {
		t.Fatal(err)
	}
	view := "sc_it_view"
	if err := base.CreateOrReplaceTempView(ctx, view); err != nil {
		t.Fatal(err)
	}
	df := s.Table(view).
		Filter(sparkconnect.Col("id").Ge(int64(1))).
		WithColumn("twice", sparkconnect.Col("id").Mul(int64(2))).
		Where("g IS NOT NULL").
		GroupBy(sparkconnect.Col("g")).
		Agg(sparkconnect.Sum(sparkconnect.Col("twice")).As("s"), sparkconnect.Count(sparkconnect.Lit(int32(1))).As("c")).
		OrderBy(sparkconnect.Col("g"))
	rows, err := df.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// ids 1..9: g=0 {3,6,9} sum*2=36; g=1 {1,4,7} 24; g=2 {2,5,8} 30
	want := [][]any{{int64(0), int64(36), int64(3)}, {int64(1), int64(24), int64(3)}, {int64(2), int64(30), int64(3)}}
	if len(rows) != 3 {
		t.Fatalf("rows = %v", rows)
	}
	for i, r := range rows {
		for j, w := range want[i] {
			if r.At(j) != w {
				t.Errorf("row %d col %d = %#v, want %#v", i, j, r.At(j), w)
			}
		}
	}
	n, err := s.Table(view).SelectExpr("id * 10 AS x").Where("x > 50").Count(ctx)
	if err != nil || n != 4 {
		t.Fatalf("count = %d, %v", n, err)
	}
	out, err := s.Table(view).Limit(2).ShowString(ctx, 20, 20)
	if err != nil || !strings.Contains(out, "| id|  g|") {
		t.Fatalf("show = %q, %v", out, err)
	}
}

func TestIntegrationInvalidSQLError(t *testing.T) {
	s := connect(t)
	ctx := testContext(t, time.Minute)
	_, err := s.Sql(ctx, "SELEC 1")
	var se *sparkconnect.SparkError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a SparkError", err, err)
	}
	if se.ErrorClass != "PARSE_SYNTAX_ERROR" {
		t.Errorf("class %q, message %q", se.ErrorClass, se.Message)
	}
	t.Logf("parse error: code=%v class=%q reason=%q classes=%q sqlstate=%q message=%q", se.Code, se.ErrorClass, se.Reason, se.Classes, se.SQLState, se.Message)
	_, err = s.Sql(ctx, "SELECT * FROM sc_no_such_table_xyz")
	if err == nil {
		// a query is lazy: analysis errors show on use
		_, err = s.Table("sc_no_such_table_xyz").Collect(ctx)
	}
	if c := sparkconnect.ErrorClass(err); c != "TABLE_OR_VIEW_NOT_FOUND" {
		t.Errorf("missing table: class %q, err %v", c, err)
	}
	if !errors.Is(err, &sparkconnect.SparkError{ErrorClass: "TABLE_OR_VIEW_NOT_FOUND"}) {
		t.Errorf("errors.Is by class failed")
	}
}
