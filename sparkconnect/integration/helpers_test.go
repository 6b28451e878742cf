//go:build integration

package integration

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"idxstream/sparkconnect"
	"idxstream/testkit"
)

// suite gives the tests a namespace of their own (testkit): topics, a keyspace and a database
// made like the product's, so that nothing here writes into the product's data.
var suite = testkit.NewSuite("sparkconnect")

func TestMain(m *testing.M) { os.Exit(suite.Run(m)) }

func envOr(k, def string) string { return testkit.Getenv(k, def) }

// requireServer skips (or fails with INTEGRATION_REQUIRED=1) when addr does not accept TCP.
func requireServer(t *testing.T, what, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	testkit.Require(t, what+" at "+addr, err)
	c.Close()
}

// connect returns a session to SPARK_REMOTE (default sc://127.0.0.1:15002).
func connect(t *testing.T) *sparkconnect.Session {
	t.Helper()
	remote := envOr("SPARK_REMOTE", "sc://127.0.0.1:15002")
	r, err := sparkconnect.ParseRemote(remote)
	if err != nil {
		t.Fatal(err)
	}
	requireServer(t, "Spark Connect", r.Address())
	srv, err := testkit.ServersFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	s, err := sparkconnect.Connect(remote, sparkconnect.WithHeader(testkit.SparkSecretHeader, srv.SparkSecret))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
