package testkit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/joho/godotenv"

	"idxstream/envconf"
)

var dotEnv = sync.OnceValue(func() error { // idempotent: loading twice changes nothing
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	err = godotenv.Load(filepath.Join(root, ".env")) // variables already set win
	if errors.Is(err, os.ErrNotExist) {
		return nil // checked by the runner's preflight, which names the cause
	}
	return err
})

// RepoRoot is the directory holding go.work, found from the working directory upwards.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory: run the tests inside the repository")
		}
		dir = parent
	}
}

// Getenv returns the variable (from the environment, else the repository's .env), or def when
// it is unset or blank.
func Getenv(name, def string) string {
	_ = dotEnv()
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// Required reports whether a missing server fails the test (INTEGRATION_REQUIRED=1) instead of
// skipping it.
func Required() bool { return os.Getenv("INTEGRATION_REQUIRED") == "1" }

// Unavailable fails the test when INTEGRATION_REQUIRED=1 and skips it otherwise.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (INTEGRATION_REQUIRED=1)", msg)
	}
	t.Skipf("%s; start the stack with `make up` (INTEGRATION_REQUIRED=1 turns this into a failure)", msg)
}

// Require calls Unavailable when err is not nil.
func Require(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		Unavailable(t, "%s unreachable: %v", what, err)
	}
}

// Servers are the stack's addresses and the programs' MySQL users, from the environment.
type Servers struct {
	Kafka     []string // KAFKA_BOOTSTRAP_SERVERS
	Cassandra []string // CASSANDRA_HOSTS (host or host:port)
	MySQLAddr string   // MYSQL_ADDR
	Users     map[Role]User
	// CassandraUsers are the Cassandra roles of the same programs (CASSANDRA_JOB_*, ...), and
	// Admin (CASSANDRA_ADMIN_*) for tests that create tables of their own.
	CassandraUsers map[Role]User
	Zone           *time.Location // MARKET_TZ
	SparkSecret    string         // SPARK_CONNECT_SECRET, sent in the SparkSecretHeader header
}

// SparkSecretHeader is the header that carries the Spark Connect secret to the server's
// interceptor (stack/spark-ext; docs/contracts.md).
const SparkSecretHeader = "x-idxstream-secret"

// Role is one of the programs' MySQL users.
type Role string

// The MySQL users of docs/contracts.md.
const (
	Job       Role = "JOB"
	Producer  Role = "PRODUCER"
	Dashboard Role = "DASHBOARD"
	Admin     Role = "ADMIN" // Cassandra only: the stack's superuser
)

// User is a MySQL account.
type User struct{ Name, Password string }

// ServersFromEnv reads the servers and users; an unknown MARKET_TZ is an error.
func ServersFromEnv() (Servers, error) {
	s := Servers{
		Kafka:          envconf.List(Getenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")),
		Cassandra:      envconf.List(Getenv("CASSANDRA_HOSTS", "127.0.0.1")),
		MySQLAddr:      Getenv("MYSQL_ADDR", "127.0.0.1:3306"),
		Users:          map[Role]User{},
		CassandraUsers: map[Role]User{},
		SparkSecret:    Getenv("SPARK_CONNECT_SECRET", ""),
	}
	for r, def := range map[Role]string{Job: "trading_job", Dashboard: "trading_dashboard", Admin: "idxstream_admin"} {
		s.CassandraUsers[r] = User{Getenv("CASSANDRA_"+string(r)+"_USER", def), Getenv("CASSANDRA_"+string(r)+"_PASSWORD", "")}
	}
	for r, def := range map[Role]string{Job: "trading_job", Producer: "trading_producer", Dashboard: "trading_dashboard"} {
		s.Users[r] = User{Getenv("MYSQL_"+string(r)+"_USER", def), Getenv("MYSQL_"+string(r)+"_PASSWORD", "")}
	}
	zone, err := time.LoadLocation(Getenv("MARKET_TZ", "Asia/Jakarta"))
	if err != nil {
		return s, fmt.Errorf("MARKET_TZ: %w", err)
	}
	s.Zone = zone
	return s, nil
}
