//go:build integration

package integration

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/joho/godotenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"idxstream/stack/internal/cassadmin"
	"idxstream/stack/internal/config"
	"idxstream/stack/internal/migrate"
	"idxstream/stack/internal/mysqladmin"
	"idxstream/stack/internal/sqlsplit"
	"idxstream/testkit"
)

const schemaDir = "../../schema"

// suite gives the package one namespace (keyspace, database, topics) made by `stackctl namespace
// create`, so that these tests check the product's schema and grants without touching the
// product's own data.
var suite = testkit.NewSuite("stack")

func TestMain(m *testing.M) { os.Exit(suite.Run(m)) }

// cfg is stackctl's configuration (the repository's .env loaded; variables already set win),
// pointed at the suite's namespace.
func cfg(t *testing.T) config.Config {
	t.Helper()
	ns := suite.Namespace(t)
	_ = godotenv.Load(filepath.Join("..", "..", ".env"))
	c, err := config.Load([]string{"migrate"}, os.Getenv, io.Discard)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	c.MySQLDatabase, c.CassandraKeyspace = ns.Database(), ns.Keyspace()
	return c
}

func unreachable(t *testing.T, what string, err error) { testkit.Require(t, what, err) }

func unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestKafkaProduceConsumeTradingData(t *testing.T) {
	c := cfg(t)
	ctx := ctxT(t, 60*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.KafkaBrokers...), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = cl.Ping(pctx)
	cancel()
	if err != nil {
		unreachable(t, "kafka "+fmt.Sprint(c.KafkaBrokers), err)
	}
	// The product's topics exist (created by `make up`); records go to a topic of the namespace.
	adm := kadm.NewClient(cl)
	td, err := adm.ListTopics(ctx, "trading_data", "test_topic")
	if err != nil {
		t.Fatalf("describe the product's topics: %v", err)
	}
	for _, name := range []string{"trading_data", "test_topic"} {
		if d, ok := td[name]; !ok || d.Err != nil || len(d.Partitions) != c.Partitions {
			t.Errorf("topic %s: %+v, want %d partitions (KAFKA_PARTITIONS)", name, d, c.Partitions)
		}
	}
	topic := suite.Namespace(t).Topic(t, 3)
	key := unique("stack-it-")
	rec := &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte("[]")}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	t.Logf("produced key %s at partition %d offset %d", key, rec.Partition, rec.Offset)

	cons, err := kgo.NewClient(kgo.SeedBrokers(c.KafkaBrokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			topic: {rec.Partition: kgo.NewOffset().At(rec.Offset)},
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	for {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("record %s not read back: %v", key, err)
		}
		for _, fe := range fs.Errors() {
			t.Fatalf("fetch %s/%d: %v", fe.Topic, fe.Partition, fe.Err)
		}
		var got *kgo.Record
		fs.EachRecord(func(r *kgo.Record) {
			if got == nil && r.Offset == rec.Offset {
				got = r
			}
		})
		if got != nil {
			if string(got.Key) != key || string(got.Value) != "[]" || got.Partition != rec.Partition {
				t.Fatalf("read back key %q value %q partition %d, want key %q value [] partition %d",
					got.Key, got.Value, got.Partition, key, rec.Partition)
			}
			return
		}
	}
}

func jobDB(t *testing.T, c config.Config) *sql.DB {
	t.Helper()
	return userDB(t, c, c.JobUser)
}

// userDB connects over TCP (MYSQL_ADDR) as u to the trading database.
func userDB(t *testing.T, c config.Config, u config.User) *sql.DB {
	t.Helper()
	addr := os.Getenv("MYSQL_ADDR")
	if addr == "" {
		addr = "127.0.0.1:3306"
	}
	mc := mysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName = u.Name, u.Password, "tcp", addr, c.MySQLDatabase
	mc.Timeout = 5 * time.Second
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(ctxT(t, 10*time.Second)); err != nil {
		unreachable(t, "mysql "+addr+" as "+u.Name, err)
	}
	return db
}

func TestDashboardReadsVolumeTodayAndJobCannotWriteProfile(t *testing.T) {
	c := cfg(t)
	db := jobDB(t, c)
	ctx := ctxT(t, 30*time.Second)
	rows, err := userDB(t, c, c.DashboardUser).QueryContext(ctx, "SELECT sector, total_volume FROM volume_today")
	if err != nil {
		t.Fatalf("read volume_today as %s: %v", c.DashboardUser.Name, err)
	}
	n := 0
	for rows.Next() {
		var sector string
		var vol int64
		if err := rows.Scan(&sector, &vol); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	t.Logf("volume_today has %d sectors", n)

	var off string
	if err := db.QueryRowContext(ctx, "SELECT value FROM settings WHERE name = 'market_tz_offset'").Scan(&off); err != nil {
		t.Fatalf("read settings: %v", err)
	}
	if len(off) != 6 || (off[0] != '+' && off[0] != '-') {
		t.Errorf("market_tz_offset = %q, want ±hh:mm", off)
	}

	// Least privilege: the job may not change the reference data.
	_, err = db.ExecContext(ctx, "UPDATE profile SET shares = shares WHERE ticker = 'ZZZZ'")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1142 {
		t.Fatalf("UPDATE profile as %s: err = %v, want access denied (1142)", c.JobUser.Name, err)
	}
}

// TestMySQLMigrateTwiceChangesNothing applies the project's schema to a fresh database of its
// own, twice, then adds a new file to show that an older schema is brought up to date.
func TestMySQLMigrateTwiceChangesNothing(t *testing.T) {
	c := cfg(t)
	ctx := ctxT(t, 2*time.Minute)
	if err := mysqladmin.Wait(ctxT(t, 10*time.Second), c.MySQLAdminDSN); err != nil {
		unreachable(t, "mysql (admin)", err)
	}
	dbName := unique("itest_migrate_") // a namespace name: `stackctl namespace list` shows a leftover
	adm, err := mysqladmin.Open(ctx, c.MySQLAdminDSN, dbName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = adm.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+dbName+"`")
		adm.Close()
	})
	files, err := migrate.LoadDir(filepath.Join(schemaDir, "mysql"), ".sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("schema files: %v (%d)", err, len(files))
	}
	r := migrate.Runner{Exec: adm, Dialect: sqlsplit.MySQL, Logger: slog.New(slog.DiscardHandler)}
	first, err := r.Run(ctx, files)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	if len(first.Applied) != len(files) {
		t.Fatalf("first run applied %v, want all %d files", first.Applied, len(files))
	}
	var profiles int
	if err := adm.QueryRow(ctx, "SELECT COUNT(*) FROM profile", &profiles); err != nil || profiles == 0 {
		t.Fatalf("profile after migrate: %d rows, err %v", profiles, err)
	}
	second, err := r.Run(ctx, files)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if len(second.Applied) != 0 || len(second.Skipped) != len(files) || len(second.Changed) != 0 {
		t.Fatalf("second run = %+v, want every file skipped", second)
	}
	extra := migrate.File{Name: "999_it_extra.sql", Content: "CREATE TABLE it_extra (x INT PRIMARY KEY);"}
	third, err := r.Run(ctx, append(files, extra))
	if err != nil {
		t.Fatalf("third run: %v", err)
	}
	if len(third.Applied) != 1 || third.Applied[0] != extra.Name {
		t.Fatalf("third run applied %v, want only %s", third.Applied, extra.Name)
	}
	var recorded int
	if err := adm.QueryRow(ctx, "SELECT COUNT(*) FROM schema_migrations", &recorded); err != nil || recorded != len(files)+1 {
		t.Fatalf("schema_migrations has %d rows (err %v), want %d", recorded, err, len(files)+1)
	}
}

func cassSession(t *testing.T, c config.Config) *gocql.Session {
	t.Helper()
	// As stackctl migrates: the stack's superuser.
	cl := cassadmin.WithLogin(cassadmin.Cluster(c.CassandraHosts, c.CassandraPort),
		cassadmin.Login{Name: c.CassandraAdmin.Name, Password: c.CassandraAdmin.Password})
	cl.ConnectTimeout = 5 * time.Second
	s, err := cl.CreateSession()
	if err != nil {
		unreachable(t, fmt.Sprintf("cassandra %v", c.CassandraHosts), err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestCassandraMigrateTwiceAndWriteRead(t *testing.T) {
	c := cfg(t)
	s := cassSession(t, c)
	ctx := ctxT(t, 3*time.Minute)
	files, err := migrate.LoadDir(filepath.Join(schemaDir, "cassandra"), ".cql")
	if err != nil || len(files) == 0 {
		t.Fatalf("schema files: %v (%d)", err, len(files))
	}
	// The namespace's keyspace was migrated by stackctl with the same files: a second run applies
	// nothing.
	r := migrate.Runner{Exec: &cassadmin.Migrations{Session: s, Keyspace: c.CassandraKeyspace, Replication: c.CassandraReplication},
		Dialect: sqlsplit.CQL, Vars: map[string]string{"replication": c.CassandraReplication, "keyspace": c.CassandraKeyspace}}
	again, err := r.Run(ctx, files)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(again.Applied) != 0 || len(again.Skipped) != len(files) {
		t.Fatalf("second run = %+v, want every file skipped", again)
	}

	table := c.CassandraKeyspace + "." + unique("it_stack_")
	if err := s.Query("CREATE TABLE " + table + " (id text PRIMARY KEY, v bigint)").ExecContext(ctx); err != nil {
		t.Fatalf("create %s: %v", table, err)
	}
	t.Cleanup(func() { _ = s.Query("DROP TABLE IF EXISTS " + table).Exec() })
	id := unique("row-")
	if err := s.Query("INSERT INTO "+table+" (id, v) VALUES (?, ?)", id, int64(42)).ExecContext(ctx); err != nil {
		t.Fatalf("insert: %v", err)
	}
	var v int64
	if err := s.Query("SELECT v FROM "+table+" WHERE id = ?", id).ScanContext(ctx, &v); err != nil {
		t.Fatalf("read back: %v", err)
	}
	if v != 42 {
		t.Fatalf("read back v = %d, want 42", v)
	}
	var n int
	if err := s.Query("SELECT COUNT(*) FROM "+c.CassandraKeyspace+".schema_migrations").ScanContext(ctx, &n); err != nil || n < len(files) {
		t.Fatalf("schema_migrations has %d rows (err %v), want at least %d", n, err, len(files))
	}
	// Migration 003's table options (real_time_data is only ever read by id).
	var fp float64
	var compaction map[string]string
	if err := s.Query("SELECT bloom_filter_fp_chance, compaction FROM system_schema.tables WHERE keyspace_name = ? AND table_name = 'real_time_data'",
		c.CassandraKeyspace).ScanContext(ctx, &fp, &compaction); err != nil {
		t.Fatalf("real_time_data's options: %v", err)
	}
	if fp != 0.1 || compaction["min_threshold"] != "8" || !strings.HasSuffix(compaction["class"], "SizeTieredCompactionStrategy") {
		t.Errorf("real_time_data has bloom_filter_fp_chance %v and compaction %v, want 0.1 and size-tiered with min_threshold 8", fp, compaction)
	}
}

// TestUserGrants checks each application user against what docs/contracts.md allows it, in the
// suite's namespace (created with the product's grants): the statements it needs work, and one
// outside its role is refused (1142). The refused statements would change nothing even if a grant
// regressed (DROP of a table that does not exist, updates of no row).
func TestUserGrants(t *testing.T) {
	c := cfg(t)
	ctx := ctxT(t, time.Minute)
	if err := mysqladmin.Wait(ctxT(t, 10*time.Second), c.MySQLAdminDSN); err != nil {
		unreachable(t, "mysql (admin)", err)
	}
	adm, err := mysqladmin.Open(ctx, c.MySQLAdminDSN, c.MySQLDatabase)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adm.Close() })
	pid := unique("it-grants-")
	topic := unique("it_grants_")
	t.Cleanup(func() {
		_ = adm.Exec(context.Background(), "DELETE FROM aggregated_data WHERE processing_id = '"+pid+"'")
		_ = adm.Exec(context.Background(), "DELETE FROM id_blocks WHERE topic = '"+topic+"'")
	})
	tests := []struct {
		name    string
		user    config.User
		stmt    string
		allowed bool
	}{
		{"job writes aggregated_data", c.JobUser, "INSERT INTO aggregated_data (processing_id, batch_id, processed_at, sector, total_volume, `date`) VALUES ('" + pid + "', -1, UTC_TIMESTAMP(6), 'it', 100, '1999-01-01')", true},
		{"job replaces its rows", c.JobUser, "DELETE FROM aggregated_data WHERE processing_id = '" + pid + "'", true},
		{"job reads profile", c.JobUser, "SELECT COUNT(*) FROM profile", true},
		{"job cannot drop tables", c.JobUser, "DROP TABLE IF EXISTS it_no_such_table", false},
		{"producer reads profile", c.ProducerUser, "SELECT COUNT(*) FROM profile", true},
		{"producer reserves ids", c.ProducerUser, "INSERT INTO id_blocks (topic, next_id) VALUES ('" + topic + "', 1) ON DUPLICATE KEY UPDATE next_id = next_id + 1", true},
		{"producer cannot write aggregates", c.ProducerUser, "DELETE FROM aggregated_data WHERE processing_id = '" + pid + "'", false},
		{"dashboard reads views", c.DashboardUser, "SELECT * FROM volume_today", true},
		{"dashboard cannot read the raw aggregate table", c.DashboardUser, "SELECT COUNT(*) FROM aggregated_data", false},
		{"job cannot read the views", c.JobUser, "SELECT * FROM volume_today", false},
		{"dashboard cannot write", c.DashboardUser, "UPDATE settings SET value = value WHERE name = 'market_tz'", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := userDB(t, c, tt.user)
			_, err := db.ExecContext(ctx, tt.stmt)
			if tt.allowed {
				if err != nil {
					t.Fatalf("%s: %v", tt.user.Name, err)
				}
				return
			}
			var me *mysql.MySQLError
			if !errors.As(err, &me) || (me.Number != 1142 && me.Number != 1044) {
				t.Fatalf("%s: err = %v, want access denied", tt.user.Name, err)
			}
		})
	}
}
