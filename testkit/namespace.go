package testkit

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Namespace is a keyspace, a database and a topic prefix of a test's own (see Suite). The
// keyspace and the database are both called Name; its topics are Name_*.
type Namespace struct {
	Name    string
	Servers Servers
	topics  atomic.Int64
}

// Keyspace is the namespace's Cassandra keyspace.
func (n *Namespace) Keyspace() string { return n.Name }

// Database is the namespace's MySQL database.
func (n *Namespace) Database() string { return n.Name }

// Env is what a program of the product needs in its environment to work in the namespace (it
// goes after os.Environ(), so it wins).
func (n *Namespace) Env() []string {
	env := []string{"CASSANDRA_KEYSPACE=" + n.Name, "MYSQL_DATABASE=" + n.Name}
	// A JDBC URL given whole (SPARK_MYSQL_URL) names the product's database: point it here.
	if u := Getenv("SPARK_MYSQL_URL", ""); u != "" {
		env = append(env, "SPARK_MYSQL_URL="+withDatabase(u, n.Name))
	}
	return env
}

// withDatabase replaces the database path of a jdbc:mysql:// URL.
func withDatabase(jdbc, db string) string {
	u, err := url.Parse(strings.TrimPrefix(jdbc, "jdbc:"))
	if err != nil {
		return jdbc
	}
	u.Path = "/" + db
	return "jdbc:" + u.String()
}

// Topic creates a topic of the namespace with the given partitions and returns its name. It is
// deleted with the namespace. It is replicated like the product's topics (`stackctl topics`):
// replication factor KAFKA_REPLICATION_FACTOR (default 1) and min.insync.replicas
// KAFKA_MIN_INSYNC_REPLICAS (unset: the broker's).
func (n *Namespace) Topic(t testing.TB, partitions int32) string {
	t.Helper()
	topic := fmt.Sprintf("%s_t%d", n.Name, n.topics.Add(1))
	rf, configs, err := topicSettings(Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := n.Admin(t).CreateTopic(ctx, partitions, rf, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	return topic
}

// topicSettings reads the replication factor (KAFKA_REPLICATION_FACTOR; a bad value keeps 1, as
// stackctl validates it for the product) and the topic configs of a test topic:
// min.insync.replicas when KAFKA_MIN_INSYNC_REPLICAS is set, which must be 1 up to the
// replication factor (a test would otherwise run with weaker acknowledgements than the product).
func topicSettings(getenv func(name, def string) string) (int16, map[string]*string, error) {
	rf := int16(1)
	if v := getenv("KAFKA_REPLICATION_FACTOR", ""); v != "" {
		fmt.Sscan(v, &rf) //nolint:errcheck // a bad value keeps 1; stackctl validates it for the product
	}
	v := getenv("KAFKA_MIN_INSYNC_REPLICAS", "")
	if v == "" {
		return rf, nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > int(rf) {
		return rf, nil, fmt.Errorf("KAFKA_MIN_INSYNC_REPLICAS=%q: want 1 up to KAFKA_REPLICATION_FACTOR (%d), or unset", v, rf)
	}
	return rf, map[string]*string{"min.insync.replicas": &v}, nil
}

// Kafka returns a client of the stack's brokers (acks from all in-sync replicas), closed when the
// test ends.
func (n *Namespace) Kafka(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(n.Servers.Kafka...), kgo.RequiredAcks(kgo.AllISRAcks())}, opts...)...)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = cl.Ping(ctx)
		cancel()
		if err != nil {
			cl.Close()
		}
	}
	Require(t, "kafka at "+strings.Join(n.Servers.Kafka, ","), err)
	t.Cleanup(cl.Close)
	return cl
}

// Admin returns an admin client of the stack's brokers, closed when the test ends.
func (n *Namespace) Admin(t testing.TB) *kadm.Client {
	t.Helper()
	return kadm.NewClient(n.Kafka(t))
}

// Cassandra returns a session on the namespace's keyspace as the job's role (it reads every table
// and writes the raw path's), consistency LOCAL_QUORUM unless CASSANDRA_CONSISTENCY says
// otherwise, closed when the test ends.
func (n *Namespace) Cassandra(t testing.TB) *gocql.Session {
	t.Helper()
	return n.CassandraAs(t, Job)
}

// CassandraAs is Cassandra as another role: Dashboard, or Admin for a test that creates tables.
func (n *Namespace) CassandraAs(t testing.TB, role Role) *gocql.Session {
	t.Helper()
	u := n.Servers.CassandraUsers[role]
	if u.Password == "" {
		Unavailable(t, "CASSANDRA_%s_PASSWORD is empty: no .env in %s? `make up` writes it", role, repoRootOrDot())
	}
	cl := gocql.NewCluster(n.Servers.Cassandra...)
	cl.Authenticator = gocql.PasswordAuthenticator{Username: u.Name, Password: u.Password}
	cl.Keyspace = n.Name
	cons, err := Consistency(Getenv)
	if err != nil {
		t.Fatal(err)
	}
	cl.Consistency = cons
	cl.Timeout = 10 * time.Second
	cl.ConnectTimeout = 10 * time.Second
	// Fault tests stop Cassandra under a test's session: bring the host back into the pool soon
	// after it answers again (the default waits a minute).
	cl.ReconnectInterval = 2 * time.Second
	cl.Logger = gocql.NewLogger(gocql.LogLevelNone) // outages in fault tests would flood the log; errors reach the queries
	s, err := cl.CreateSession()
	Require(t, "cassandra at "+strings.Join(n.Servers.Cassandra, ","), err)
	t.Cleanup(s.Close)
	return s
}

// Consistency is the level of the tests' Cassandra sessions, the programs' CASSANDRA_CONSISTENCY
// (default LOCAL_QUORUM, ONE on a single node at RF 1; any case): tests read and write with it,
// so ANY (writes only) and the serial levels (conditions only) are refused. getenv is Getenv.
func Consistency(getenv func(name, def string) string) (gocql.Consistency, error) {
	v := getenv("CASSANDRA_CONSISTENCY", "LOCAL_QUORUM")
	var c gocql.Consistency
	err := c.UnmarshalText([]byte(strings.ToUpper(v)))
	if err != nil || c == gocql.Any || c == gocql.Serial || c == gocql.LocalSerial {
		return gocql.LocalQuorum, fmt.Errorf("CASSANDRA_CONSISTENCY=%q: want ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM or LOCAL_ONE (tests read with it)", v)
	}
	return c, nil
}

// MySQL returns a pool on the namespace's database as the program user role, in UTC, closed
// when the test ends.
func (n *Namespace) MySQL(t testing.TB, role Role) *sql.DB {
	t.Helper()
	u := n.Servers.Users[role]
	if u.Password == "" {
		Unavailable(t, "MYSQL_%s_PASSWORD is empty: no .env in %s? `make up` writes it", role, repoRootOrDot())
	}
	return n.MySQLAs(t, u)
}

// MySQLAs returns a pool on the namespace's database as any user u, in UTC, closed when the test
// ends.
func (n *Namespace) MySQLAs(t testing.TB, u User) *sql.DB {
	t.Helper()
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = u.Name, u.Password, "tcp", n.Servers.MySQLAddr, n.Name
	c.ParseTime, c.Loc = true, time.UTC
	c.Params = map[string]string{"time_zone": "'+00:00'"}
	c.Timeout = 5 * time.Second
	conn, err := mysql.NewConnector(c)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		Unavailable(t, "mysql at %s as %s: %v", n.Servers.MySQLAddr, u.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func repoRootOrDot() string {
	if r, err := RepoRoot(); err == nil {
		return r
	}
	wd, _ := os.Getwd()
	return wd
}
