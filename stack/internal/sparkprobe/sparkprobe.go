// Package sparkprobe is stackctl's door to Spark Connect: a readiness probe that runs a real
// query (`SELECT 1`) through the project's own client, with the stack's secret, and a check that
// the server refuses a call without it.
package sparkprobe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sc "idxstream/sparkconnect"
)

// Probe runs SELECT 1 once on remote, sending secret in header.
func Probe(ctx context.Context, remote, header, secret string) error {
	var opts []sc.Option
	if secret != "" {
		opts = append(opts, sc.WithHeader(header, secret))
	}
	// One attempt per probe: Wait repeats it.
	opts = append(opts, sc.WithRetryPolicy(sc.RetryPolicy{MaxRetries: 0}), sc.WithClientType("idxstream-stackctl"))
	s, err := sc.Connect(remote, opts...)
	if err != nil {
		return err
	}
	defer s.Close()
	df, err := s.Sql(ctx, "SELECT 1 AS one")
	if err != nil {
		return err
	}
	rows, err := df.Collect(ctx)
	if err != nil {
		return err
	}
	if len(rows) != 1 || fmt.Sprint(rows[0].At(0)) != "1" {
		return fmt.Errorf("SELECT 1 answered %v", rows)
	}
	return nil
}

// Wait probes every 2 s until the server answers or ctx ends. A refusal for want of the secret
// ends the wait at once: waiting longer would not help.
func Wait(ctx context.Context, remote, header, secret string) error {
	var last error
	for {
		attempt, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := Probe(attempt, remote, header, secret)
		cancel()
		if err == nil {
			return nil
		}
		if Unauthenticated(err) {
			return fmt.Errorf("spark connect refuses the secret: is SPARK_CONNECT_SECRET in .env the one the server was started with? (`bash stack/stack.sh restart spark` applies .env): %w", err)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for spark connect: %w", errors.Join(ctx.Err(), last))
		case <-time.After(2 * time.Second):
		}
	}
}

// Unauthenticated reports whether err is the server's refusal for want of credentials.
func Unauthenticated(err error) bool {
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus().Code() == codes.Unauthenticated
	}
	return status.Code(err) == codes.Unauthenticated
}
