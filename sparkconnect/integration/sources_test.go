//go:build integration

package integration

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	_ "github.com/go-sql-driver/mysql"
	"github.com/twmb/franz-go/pkg/kgo"

	sc "idxstream/sparkconnect"
	"idxstream/testkit"
)

func randomName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// kafkaTopic creates a topic of the suite's namespace with the given partitions.
func kafkaTopic(t *testing.T, partitions int32) (*kgo.Client, string, string) {
	t.Helper()
	ns := suite.Namespace(t)
	cl := ns.Kafka(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	return cl, ns.Topic(t, partitions), strings.Join(ns.Servers.Kafka, ",")
}

// produce writes values to one partition and waits for the acks.
func produce(t *testing.T, cl *kgo.Client, topic string, partition int32, values ...string) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

func TestIntegrationKafkaBatchRead(t *testing.T) {
	s := connect(t)
	cl, topic, brokers := kafkaTopic(t, 2)
	produce(t, cl, topic, 0, "p0-0", "p0-1", "p0-2", "p0-3", "p0-4")
	produce(t, cl, topic, 1, "p1-0", "p1-1", "p1-2")
	ctx := testContext(t, 3*time.Minute)
	df := s.Read().Format("kafka").
		Option("kafka.bootstrap.servers", brokers).
		Option("subscribe", topic).
		Option("startingOffsets", fmt.Sprintf(`{"%s":{"0":1,"1":0}}`, topic)).
		Option("endingOffsets", fmt.Sprintf(`{"%s":{"0":4,"1":-1}}`, topic)).
		Load().
		SelectExpr("CAST(value AS STRING) AS v", "partition", "offset")
	rows, err := df.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%v@%v/%v", r.At(0), r.At(1), r.At(2)))
	}
	sort.Strings(got)
	want := []string{"p0-1@0/1", "p0-2@0/2", "p0-3@0/3", "p1-0@1/0", "p1-1@1/1", "p1-2@1/2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("rows %v, want %v", got, want)
	}
	schema, err := s.Read().Format("kafka").Option("kafka.bootstrap.servers", brokers).Option("subscribe", topic).Load().Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Join(schema.FieldNames(), ","); n != "key,value,topic,partition,offset,timestamp,timestampType" {
		t.Fatalf("kafka schema %s", n)
	}
}

func TestIntegrationJDBCWriteMySQL(t *testing.T) {
	s := connect(t)
	addr := envOr("MYSQL_ADDR", "127.0.0.1:3306")
	requireServer(t, "MySQL", addr)
	ns := suite.Namespace(t)
	user, pass, dbName := envOr("MYSQL_JOB_USER", "trading_job"), envOr("MYSQL_JOB_PASSWORD", ""), ns.Database()
	if pass == "" {
		testkit.Unavailable(t, "MYSQL_JOB_PASSWORD is not set (run `make up`, which writes .env)")
	}
	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/%s?parseTime=true", user, pass, addr, dbName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	id := randomName("sc-it-")
	t.Cleanup(func() {
		if _, err := db.Exec("DELETE FROM aggregated_data WHERE processing_id = ?", id); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	ctx := testContext(t, 3*time.Minute)
	df, err := s.Sql(ctx, `SELECT ? AS processing_id, CAST(-424242 AS BIGINT) AS batch_id, current_timestamp() AS processed_at,
		'IntegrationTest' AS sector, CAST(1234 AS BIGINT) AS total_volume, CAST(2 AS BIGINT) AS trades, DATE '2026-11-23' AS date`, id)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(addr, ":")
	err = df.Write().Format("jdbc").Mode(sc.SaveModeAppend).
		Option("url", fmt.Sprintf("jdbc:mysql://%s:%s/%s", host, port, dbName)).
		Option("driver", "com.mysql.cj.jdbc.Driver").
		Option("dbtable", "aggregated_data").
		Options(map[string]string{"user": user, "password": pass}).
		Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sector string
	var vol, trades int64
	var date time.Time
	if err := db.QueryRow("SELECT sector, total_volume, trades, `date` FROM aggregated_data WHERE processing_id = ?", id).Scan(&sector, &vol, &trades, &date); err != nil {
		t.Fatalf("row not written: %v", err)
	}
	if sector != "IntegrationTest" || vol != 1234 || trades != 2 || date.Format(time.DateOnly) != "2026-11-23" {
		t.Fatalf("row %s %d %d %s", sector, vol, trades, date)
	}
}

// cassandraTable creates <namespace keyspace>.<random>(id bigint PRIMARY KEY, name text, amount
// double) and drops it in cleanup.
func cassandraTable(t *testing.T) (*gocql.Session, string, string) {
	t.Helper()
	ns := suite.Namespace(t)
	sess := ns.CassandraAs(t, testkit.Admin) // creates a table: the stack's superuser
	ks := ns.Keyspace()
	table := randomName("sc_it_")
	if err := sess.Query(fmt.Sprintf("CREATE TABLE %s.%s (id bigint PRIMARY KEY, name text, amount double)", ks, table)).Exec(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sess.Query(fmt.Sprintf("DROP TABLE IF EXISTS %s.%s", ks, table)).Exec(); err != nil {
			t.Errorf("drop table: %v", err)
		}
	})
	return sess, ks, table
}

// freshCassandraConnector gives the session its own Cassandra connector: the connector caches
// one driver session per connection config in the (long-running) Spark Connect JVM, and a
// cached session that lived through a Cassandra restart was seen with stale schema metadata
// (it missed tables created afterwards). A session-scoped config value makes the config, and so
// the driver session, this test's own.
func freshCassandraConnector(t *testing.T, s *sc.Session) {
	t.Helper()
	var b [1]byte
	_, _ = rand.Read(b[:])
	if err := s.Conf().Set(testContext(t, time.Minute), "spark.cassandra.connection.keepAliveMS", fmt.Sprint(5000+int(b[0]))); err != nil {
		t.Fatal(err)
	}
	// The test's own tables are the superuser's: the connector logs in as it (a session setting,
	// as the job does, so that the password stays out of query plans).
	admin := suite.Namespace(t).Servers.CassandraUsers[testkit.Admin]
	for k, v := range map[string]string{"spark.cassandra.auth.username": admin.Name, "spark.cassandra.auth.password": admin.Password} {
		if err := s.Conf().Set(testContext(t, time.Minute), k, v); err != nil {
			t.Fatal(err)
		}
	}
}

func cassandraRows(t *testing.T, sess *gocql.Session, ks, table string) map[int64]string {
	t.Helper()
	it := sess.Query(fmt.Sprintf("SELECT id, name FROM %s.%s", ks, table)).Iter()
	out := map[int64]string{}
	var id int64
	var name string
	for it.Scan(&id, &name) {
		out[id] = name
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIntegrationCassandraWrite(t *testing.T) {
	s := connect(t)
	sess, ks, table := cassandraTable(t)
	ctx := testContext(t, 3*time.Minute)
	freshCassandraConnector(t, s)
	df, err := s.Sql(ctx, "SELECT id, concat('n', CAST(id AS STRING)) AS name, id * 1.5 AS amount FROM range(5)")
	if err != nil {
		t.Fatal(err)
	}
	err = df.Write().Format("org.apache.spark.sql.cassandra").Mode(sc.SaveModeAppend).
		Options(map[string]string{"keyspace": ks, "table": table}).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := cassandraRows(t, sess, ks, table)
	if len(got) != 5 || got[4] != "n4" {
		t.Fatalf("rows %v", got)
	}
	// and read back through the connector
	n, err := s.Read().Format("org.apache.spark.sql.cassandra").Options(map[string]string{"keyspace": ks, "table": table}).Load().
		Where("amount > 2").Count(ctx)
	if err != nil || n != 3 {
		t.Fatalf("count %d, %v", n, err)
	}
}

func TestIntegrationStreamingKafkaToCassandra(t *testing.T) {
	s := connect(t)
	cl, topic, brokers := kafkaTopic(t, 1)
	sess, ks, table := cassandraTable(t)
	produce(t, cl, topic, 0, "a", "b", "c", "d")
	freshCassandraConnector(t, s)
	ctx := testContext(t, 3*time.Minute)
	name := randomName("sc_it_q_")
	q, err := s.ReadStream().Format("kafka").
		Option("kafka.bootstrap.servers", brokers).
		Option("subscribe", topic).
		Option("startingOffsets", "earliest").
		Load().
		SelectExpr("offset AS id", "CAST(value AS STRING) AS name", "CAST(1.0 AS DOUBLE) AS amount").
		WriteStream().
		Format("org.apache.spark.sql.cassandra").
		Options(map[string]string{"keyspace": ks, "table": table}).
		Option("checkpointLocation", filepath.Join(os.TempDir(), name)).
		OutputMode(sc.OutputModeAppend).
		Trigger(sc.ProcessingTime(time.Second)).
		QueryName(name).
		Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = q.Stop(context.Background())
		_ = os.RemoveAll(filepath.Join(os.TempDir(), name))
	})
	if q.Name() != name || q.ID() == "" || q.RunID() == "" {
		t.Fatalf("query %q %q %q", q.Name(), q.ID(), q.RunID())
	}
	if !isActive(t, s, q) {
		t.Fatal("running query not listed as active")
	}
	// wait until the progress reports the 4 records (bounded by ctx)
	var total int64
	var last *sc.Progress
	for total < 4 {
		if ex, err := q.Exception(ctx); err != nil || ex != nil {
			t.Fatalf("query failed: %v %v", ex, err)
		}
		ps, err := q.RecentProgress(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total = 0
		for _, p := range ps {
			total += p.NumInputRows
		}
		if len(ps) > 0 {
			last = &ps[len(ps)-1]
		}
		if ctx.Err() != nil {
			t.Fatalf("progress never reached 4 input rows (last %+v)", last)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if total != 4 {
		t.Fatalf("input rows %d, want 4", total)
	}
	lp, err := q.LastProgress(ctx)
	if err != nil || lp == nil || lp.ID != q.ID() || lp.RunID != q.RunID() || lp.Name != name {
		t.Fatalf("last progress %+v, %v", lp, err)
	}
	var end map[string]map[string]int64
	if len(lp.Sources) != 1 || json.Unmarshal(lp.Sources[0].EndOffset, &end) != nil || end[topic]["0"] != 4 {
		t.Fatalf("source progress %+v", lp.Sources)
	}
	st, err := q.Status(ctx)
	if err != nil || !st.IsActive {
		t.Fatalf("status %+v %v", st, err)
	}
	if got := cassandraRows(t, sess, ks, table); len(got) != 4 || got[0] != "a" || got[3] != "d" {
		t.Fatalf("cassandra rows %v", got)
	}
	if err := q.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if done, err := q.AwaitTermination(ctx, 30*time.Second); err != nil || !done {
		t.Fatalf("await termination: %v %v", done, err)
	}
	if isActive(t, s, q) {
		t.Fatal("stopped query still listed as active")
	}
	if on, err := q.IsActive(ctx); err != nil || on {
		t.Fatalf("IsActive after stop: %v %v", on, err)
	}
}

func isActive(t *testing.T, s *sc.Session, q *sc.StreamingQuery) bool {
	t.Helper()
	qs, err := s.Streams().Active(testContext(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range qs {
		if a.ID() == q.ID() && a.RunID() == q.RunID() {
			return true
		}
	}
	return false
}
