//go:build integration

package sparkconnect_test

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"idxstream/sparkconnect"
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// requireServer skips (or fails with INTEGRATION_REQUIRED=1) when addr does not accept TCP.
func requireServer(t *testing.T, what, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		if os.Getenv("INTEGRATION_REQUIRED") == "1" {
			t.Fatalf("%s at %s unreachable: %v", what, addr, err)
		}
		t.Skipf("%s at %s unreachable (%v); start the stack with `make up`", what, addr, err)
	}
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
	s, err := sparkconnect.Connect(remote)
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
