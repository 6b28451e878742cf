package migrate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"idxstream/stack/internal/sqlsplit"
)

// fakeExec records what the runner sends; a statement equal to failOn fails.
type fakeExec struct {
	applied map[string]string
	stmts   []string
	failOn  string
}

func (f *fakeExec) EnsureTable(context.Context) error { return nil }
func (f *fakeExec) Applied(context.Context) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range f.applied {
		out[k] = v
	}
	return out, nil
}
func (f *fakeExec) Exec(_ context.Context, s string) error {
	if s == f.failOn {
		return errors.New("boom")
	}
	f.stmts = append(f.stmts, s)
	return nil
}
func (f *fakeExec) Record(_ context.Context, name, sum string, _ time.Time) error {
	f.applied[name] = sum
	return nil
}

func TestRunner(t *testing.T) {
	a := File{Name: "001_a.sql", Content: "CREATE TABLE a (x INT); INSERT INTO a VALUES (1);"}
	b := File{Name: "002_b.sql", Content: "-- b\nCREATE TABLE b (y INT);"}
	bEdited := File{Name: "002_b.sql", Content: "CREATE TABLE b (y BIGINT);"}
	tests := []struct {
		name      string
		recorded  map[string]string
		files     []File
		failOn    string
		wantStmts []string
		want      Result
		wantErr   bool
	}{
		{name: "fresh database applies all in order", files: []File{a, b},
			wantStmts: []string{"CREATE TABLE a (x INT)", "INSERT INTO a VALUES (1)", "CREATE TABLE b (y INT)"},
			want:      Result{Applied: []string{"001_a.sql", "002_b.sql"}}},
		{name: "second run changes nothing", recorded: map[string]string{a.Name: a.Checksum(), b.Name: b.Checksum()},
			files: []File{a, b}, want: Result{Skipped: []string{"001_a.sql", "002_b.sql"}}},
		{name: "new file migrates an older schema", recorded: map[string]string{a.Name: a.Checksum()},
			files: []File{a, b}, wantStmts: []string{"CREATE TABLE b (y INT)"},
			want: Result{Applied: []string{"002_b.sql"}, Skipped: []string{"001_a.sql"}}},
		{name: "changed file is reported, not re-applied", recorded: map[string]string{a.Name: a.Checksum(), b.Name: b.Checksum()},
			files: []File{a, bEdited}, want: Result{Skipped: []string{"001_a.sql"}, Changed: []string{"002_b.sql"}}},
		{name: "failure stops and leaves the failed file unrecorded", files: []File{a, b}, failOn: "CREATE TABLE b (y INT)",
			wantStmts: []string{"CREATE TABLE a (x INT)", "INSERT INTO a VALUES (1)"},
			want:      Result{Applied: []string{"001_a.sql"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := map[string]string{}
			for k, v := range tt.recorded {
				rec[k] = v
			}
			fe := &fakeExec{applied: rec, failOn: tt.failOn}
			r := Runner{Exec: fe, Dialect: sqlsplit.MySQL}
			got, err := r.Run(context.Background(), tt.files)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("result = %+v, want %+v", got, tt.want)
			}
			if !reflect.DeepEqual(fe.stmts, tt.wantStmts) {
				t.Errorf("statements = %q, want %q", fe.stmts, tt.wantStmts)
			}
			for _, name := range got.Applied {
				if _, ok := fe.applied[name]; !ok {
					t.Errorf("%s applied but not recorded", name)
				}
			}
			if tt.wantErr {
				if _, ok := fe.applied["002_b.sql"]; ok {
					t.Error("failed file was recorded")
				}
			}
		})
	}
}

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"replication": "{'class': 'SimpleStrategy', 'replication_factor': 1}"}
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"none", "SELECT 1", "SELECT 1", false},
		{"replication", "WITH replication = {{replication}};", "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};", false},
		{"spaces inside braces", "x {{ replication }} y", "x {'class': 'SimpleStrategy', 'replication_factor': 1} y", false},
		{"unknown", "{{nope}}", "", true},
		{"unclosed", "{{replication", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Substitute(tt.in, vars)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadDirSortsAndFilters(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"010_c.sql": "c", "002_b.sql": "b", "001_a.sql": "a", "notes.md": "x", "001_a.cql": "q"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := LoadDir(dir, ".sql")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	if want := []string{"001_a.sql", "002_b.sql", "010_c.sql"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %v, want %v", names, want)
	}
}

func TestChecksumDependsOnContent(t *testing.T) {
	a := File{Name: "x", Content: "SELECT 1"}
	b := File{Name: "y", Content: "SELECT 1"}
	c := File{Name: "x", Content: "SELECT 2"}
	if a.Checksum() != b.Checksum() {
		t.Error("same content, different checksums")
	}
	if a.Checksum() == c.Checksum() {
		t.Error("different content, same checksum")
	}
	if len(a.Checksum()) != 64 {
		t.Errorf("checksum %q is not hex SHA-256", a.Checksum())
	}
}

// The Cassandra files became keyspace-relative ({{keyspace}} instead of `trading`); stacks that
// applied them before recorded these checksums, which must still match so that an upgraded stack
// reports nothing as changed.
func TestCassandraChecksumsKeptAcrossKeyspacePlaceholder(t *testing.T) {
	recorded := map[string]string{
		"001_core.cql":                      "4084c4b3fb2cb820c2b3ccd77b2035f1404f1118dcebbfc307362dd02c257e83",
		"002_drop_trades_by_minute.cql":     "8af171d37d4646dd67e5b3fd00a46043c6ef9606addcbd0eb13de7b69f2e0b85",
		"003_real_time_data_compaction.cql": "7949d68e5169406e3e9244a916a42530a58de56fed8e235007788cfecb38582e",
	}
	files, err := LoadDir(filepath.Join("..", "..", "..", "schema", "cassandra"), ".cql")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		want, ok := recorded[f.Name]
		if !ok {
			continue // added after the change: nothing recorded to keep
		}
		if got := f.Checksum(); got != want {
			t.Errorf("%s: checksum %s, stacks recorded %s", f.Name, got, want)
		}
	}
}
