package sparkconnect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"idxstream/sparkconnect/connectpb"
)

// releaseTimeout bounds the ReleaseExecute sent after an execution.
const releaseTimeout = 10 * time.Second

// execute runs plan with ExecutePlan and calls fn for every response that carries a result
// (ResultComplete is consumed here). Reattachable execution is used unless disabled: when the
// server ends the stream without ResultComplete (it does every 2 minutes by design) or the
// connection fails with a retryable error, the client reattaches after the last response it
// processed. After a reattachable execution the server buffer is freed with ReleaseExecute.
// Errors from the server are returned as *SparkError.
func (s *Session) execute(ctx context.Context, plan *connectpb.Plan, fn func(*connectpb.ExecutePlanResponse) error) error {
	ctx = s.outgoing(ctx)
	opID := newUUID()
	reattachable := s.reattach && !s.noReattach.Load()
	req := &connectpb.ExecutePlanRequest{
		SessionId:   s.sessionID,
		UserContext: s.user,
		Plan:        plan,
		ClientType:  &s.clientType,
		OperationId: &opID,
	}
	if reattachable {
		req.RequestOptions = []*connectpb.ExecutePlanRequest_RequestOption{{
			RequestOption: &connectpb.ExecutePlanRequest_RequestOption_ReattachOptions{
				ReattachOptions: &connectpb.ReattachOptions{Reattachable: true},
			},
		}}
		defer s.releaseAll(ctx, opID)
	}
	// cancel the response stream when the caller stops early (fn failed)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e := execution{s: s, req: req, reattachable: reattachable}
	return errorFromStatus(e.run(ctx, fn))
}

// execution is the state of one ExecutePlan call across reattaches.
type execution struct {
	s            *Session
	req          *connectpb.ExecutePlanRequest
	reattachable bool
	sent         bool   // ExecutePlan was sent: resume with ReattachExecute from now on
	received     bool   // at least one response arrived
	lastResponse string // response_id of the last processed response
	complete     bool   // ResultComplete arrived
	failures     int    // consecutive failed attempts
}

func (e *execution) open(ctx context.Context) (grpc.ServerStreamingClient[connectpb.ExecutePlanResponse], error) {
	if !e.sent || !e.reattachable {
		st, err := e.s.client.ExecutePlan(ctx, e.req)
		if err == nil {
			e.sent = true
		}
		return st, err
	}
	rr := &connectpb.ReattachExecuteRequest{
		SessionId:   e.req.SessionId,
		UserContext: e.req.UserContext,
		OperationId: e.req.GetOperationId(),
		ClientType:  e.req.ClientType,
	}
	if e.lastResponse != "" {
		rr.LastResponseId = &e.lastResponse
	}
	return e.s.client.ReattachExecute(ctx, rr)
}

// retry decides what to do after a failed attempt: it reports whether to try again (after a
// backoff) or returns the error to give up with (nil: the execution is over).
func (e *execution) retry(ctx context.Context, err error) (bool, error) {
	switch {
	case e.reattachable && e.sent && status.Code(err) == codes.Unimplemented:
		// a server without ReattachExecute (before 3.5) ends a plain stream: that is the end
		e.s.noReattach.Store(true)
		return false, nil
	case e.reattachable && e.sent && !e.received && isOperationNotFound(err):
		// the server never registered the operation: send it again, now (this is part of
		// the recovery from the previous failure, not a new one)
		e.sent = false
		return true, nil
	case !isRetryable(err):
		return false, err
	case !e.reattachable && e.received:
		// results were already consumed and the server cannot resume: give up
		return false, err
	}
	if e.failures >= e.s.retry.MaxRetries {
		return false, err
	}
	e.failures++
	e.s.logger.DebugContext(ctx, "retrying execution", "operation_id", e.req.GetOperationId(), "error", err, "retry", e.failures)
	if serr := e.s.retry.sleep(ctx, e.failures-1); serr != nil {
		return false, err
	}
	return true, nil
}

func (e *execution) run(ctx context.Context, fn func(*connectpb.ExecutePlanResponse) error) error {
	for {
		stream, err := e.open(ctx)
		if err != nil {
			again, rerr := e.retry(ctx, err)
			if !again {
				return rerr
			}
			continue
		}
		retrying := false
		for {
			resp, err := stream.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				again, rerr := e.retry(ctx, err)
				if !again {
					return rerr
				}
				retrying = true
				break
			}
			e.received = true
			if id := resp.GetResponseId(); id != "" {
				e.lastResponse = id
			}
			e.failures = 0
			if resp.GetResultComplete() != nil {
				e.complete = true
				continue
			}
			if err := fn(resp); err != nil {
				return err
			}
		}
		if retrying {
			continue
		}
		if !e.reattachable || e.complete {
			return nil
		}
		// the stream ended without ResultComplete: more to come (Spark ends streams every
		// 2 minutes by design), reattach after the last processed response
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// releaseAll frees the server-side buffer of a reattachable operation. Errors are logged only:
// the server also drops abandoned operations by itself.
func (s *Session) releaseAll(ctx context.Context, opID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	req := &connectpb.ReleaseExecuteRequest{
		SessionId:   s.sessionID,
		UserContext: s.user,
		OperationId: opID,
		ClientType:  &s.clientType,
		Release:     &connectpb.ReleaseExecuteRequest_ReleaseAll_{ReleaseAll: &connectpb.ReleaseExecuteRequest_ReleaseAll{}},
	}
	_, err := retryUnary(ctx, RetryPolicy{MaxRetries: 3, InitialBackoff: 50 * time.Millisecond, MaxBackoff: time.Second, Multiplier: 4},
		func(ctx context.Context) (*connectpb.ReleaseExecuteResponse, error) {
			return s.client.ReleaseExecute(ctx, req)
		})
	if err != nil {
		if status.Code(err) == codes.Unimplemented {
			s.noReattach.Store(true)
		}
		s.logger.DebugContext(ctx, "release execute failed", "operation_id", opID, "error", err)
	}
}

// executeCommand runs a command and returns its result responses.
func (s *Session) executeCommand(ctx context.Context, cmd *connectpb.Command) ([]*connectpb.ExecutePlanResponse, error) {
	var out []*connectpb.ExecutePlanResponse
	err := s.execute(ctx, &connectpb.Plan{OpType: &connectpb.Plan_Command{Command: cmd}}, func(r *connectpb.ExecutePlanResponse) error {
		if r.GetResponseType() != nil {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

var errNoResult = errors.New("server sent no result")

// firstResult returns the first response whose result arm get extracts.
func firstResult[T any](resps []*connectpb.ExecutePlanResponse, get func(*connectpb.ExecutePlanResponse) *T) (*T, error) {
	for _, r := range resps {
		if v := get(r); v != nil {
			return v, nil
		}
	}
	return nil, fmt.Errorf("%w (%d responses)", errNoResult, len(resps))
}
