package sparkconnect

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// RetryPolicy says how transient gRPC failures are retried: exponential backoff with jitter,
// the same shape as PySpark's default policy.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt (default 15; 0 disables
	// retries).
	MaxRetries int
	// InitialBackoff is the first wait (default 50ms).
	InitialBackoff time.Duration
	// MaxBackoff caps every wait (default 60s).
	MaxBackoff time.Duration
	// Multiplier grows the wait after each retry (default 4).
	Multiplier float64
}

// DefaultRetryPolicy is the policy of a session built without WithRetryPolicy.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 15, InitialBackoff: 50 * time.Millisecond, MaxBackoff: time.Minute, Multiplier: 4}
}

// backoff returns the wait before retry number n (0-based): full jitter over the exponential
// bound.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := float64(p.InitialBackoff)
	for i := 0; i < n; i++ {
		d *= p.Multiplier
		if d > float64(p.MaxBackoff) {
			d = float64(p.MaxBackoff)
			break
		}
	}
	if d <= 0 {
		return 0
	}
	// wait between half and the whole bound, so that retries never come in a burst
	return time.Duration(d/2 + rand.Float64()*d/2)
}

// sleep waits for the backoff of retry n or until ctx is done.
func (p RetryPolicy) sleep(ctx context.Context, n int) error {
	t := time.NewTimer(p.backoff(n))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// isRetryable is the one retry predicate of the client: UNAVAILABLE (server restarting,
// connection refused or reset) and INTERNAL errors that say the response cursor was
// disconnected, as PySpark and spark-connect-go do.
func isRetryable(err error) bool {
	st, ok := status.FromError(err)
	if !ok {
		return false
	}
	switch st.Code() {
	case codes.Unavailable:
		return true
	case codes.Internal:
		return strings.Contains(st.Message(), "INVALID_CURSOR.DISCONNECTED")
	}
	return false
}

// isOperationNotFound reports the server's answer to a reattach of an operation it no longer
// (or never) knew.
func isOperationNotFound(err error) bool {
	st, ok := status.FromError(err)
	return ok && strings.Contains(st.Message(), "INVALID_HANDLE.OPERATION_NOT_FOUND")
}

// retryUnary runs call until it succeeds, fails with a non-retryable error, runs out of
// retries or ctx ends.
func retryUnary[T any](ctx context.Context, p RetryPolicy, call func(context.Context) (T, error)) (T, error) {
	for n := 0; ; n++ {
		v, err := call(ctx)
		if err == nil || !isRetryable(err) || n >= p.MaxRetries {
			return v, err
		}
		if serr := p.sleep(ctx, n); serr != nil {
			return v, err
		}
	}
}
