package sqlsplit

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name    string
		dialect Dialect
		src     string
		want    []string
	}{
		{"empty", MySQL, "  \n -- only a comment\n", nil},
		{"two statements", MySQL, "CREATE TABLE a (x INT);\nDROP TABLE b;", []string{"CREATE TABLE a (x INT)", "DROP TABLE b"}},
		{"no final semicolon", MySQL, "SELECT 1", []string{"SELECT 1"}},
		{"leading comments dropped", MySQL, "-- head; with semicolon\n# hash; too\n/* block; */ SELECT 1;", []string{"SELECT 1"}},
		{"comment inside statement kept", MySQL, "SELECT 1 -- one; two\n, 2;", []string{"SELECT 1 -- one; two\n, 2"}},
		{"semicolon in single quotes", MySQL, "INSERT INTO t VALUES ('a;b');SELECT 2", []string{"INSERT INTO t VALUES ('a;b')", "SELECT 2"}},
		{"escaped quotes", MySQL, `INSERT INTO t VALUES ('it''s; ok', 'back\'; slash');`, []string{`INSERT INTO t VALUES ('it''s; ok', 'back\'; slash')`}},
		{"double quotes and backticks", MySQL, "SELECT \"x;y\", `we;ird` FROM t;", []string{"SELECT \"x;y\", `we;ird` FROM t"}},
		{"mysql dash needs space", MySQL, "SELECT 5--1;", []string{"SELECT 5--1"}},
		{"mysql date format with percent", MySQL, "SELECT DATE_FORMAT(x, '%Y-%m-%d %H:%i:00') FROM t;", []string{"SELECT DATE_FORMAT(x, '%Y-%m-%d %H:%i:00') FROM t"}},
		{"cql slash comment", CQL, "// header; x\nCREATE TABLE k.t (id int PRIMARY KEY); // tail", []string{"CREATE TABLE k.t (id int PRIMARY KEY)"}},
		{"cql dash comment without space", CQL, "--x;y\nSELECT 1;", []string{"SELECT 1"}},
		{"cql dollar string", CQL, "INSERT INTO k.t (s) VALUES ($$a;'b$$);", []string{"INSERT INTO k.t (s) VALUES ($$a;'b$$)"}},
		{"cql doubled quote", CQL, "INSERT INTO k.t (s) VALUES ('a'';b');", []string{"INSERT INTO k.t (s) VALUES ('a'';b')"}},
		{"cql backslash is literal", CQL, `INSERT INTO k.t (s) VALUES ('a\');SELECT 1;`, []string{`INSERT INTO k.t (s) VALUES ('a\')`, "SELECT 1"}},
		{"map literal", CQL, "CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};",
			[]string{"CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"}},
		{"unterminated quote runs to end", MySQL, "SELECT 'abc;", []string{"SELECT 'abc;"}},
		{"unterminated block comment", MySQL, "SELECT 1; /* open", []string{"SELECT 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Split(tt.src, tt.dialect)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Split(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
		})
	}
}

// TestSplitProjectSchema checks the project's schema files: each splits into statements that
// start with a keyword (the leading comments are gone) and hold no stray terminator.
func TestSplitProjectSchema(t *testing.T) {
	tests := []struct {
		file    string
		dialect Dialect
	}{
		{"../../../schema/mysql/001_core.sql", MySQL},
		{"../../../schema/mysql/002_views.sql", MySQL},
		{"../../../schema/mysql/003_seed_profile.sql", MySQL},
		{"../../../schema/mysql/004_one_id_space.sql", MySQL},
		{"../../../schema/mysql/005_profile_reference_price.sql", MySQL},
		{"../../../schema/mysql/006_job_lease.sql", MySQL},
		{"../../../schema/cassandra/001_core.cql", CQL},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			b, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatalf("read schema file: %v", err)
			}
			got := Split(string(b), tt.dialect)
			if len(got) == 0 {
				t.Fatal("no statements")
			}
			for _, s := range got {
				if s[0] < 'A' || s[0] > 'Z' {
					t.Errorf("statement does not start with a keyword: %q", s)
				}
			}
		})
	}
}
