package sparkconnect_test

import (
	"context"
	"testing"
	"time"

	"idxstream/sparkconnect"
	"idxstream/sparkconnect/sparkconnecttest"
)

// fastRetry keeps retry tests quick.
var fastRetry = sparkconnect.RetryPolicy{MaxRetries: 3, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Multiplier: 2}

// newFake starts a fake server and a session connected to it.
func newFake(t testing.TB, opts ...sparkconnect.Option) (*sparkconnecttest.Server, *sparkconnect.Session) {
	t.Helper()
	srv := sparkconnecttest.NewServer()
	t.Cleanup(srv.Close)
	opts = append([]sparkconnect.Option{
		sparkconnect.WithDialOptions(srv.DialOptions()...),
		sparkconnect.WithRetryPolicy(fastRetry),
		sparkconnect.WithUserID("tester"),
		sparkconnect.WithSessionID("11111111-2222-4333-8444-555555555555"),
	}, opts...)
	s, err := sparkconnect.Connect(sparkconnecttest.Remote, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return srv, s
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
