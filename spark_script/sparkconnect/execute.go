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

	"idxstream/spark_script/sparkconnect/connectpb"
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
	e := execution{s: s, req: req, reattachable: reattachable}
	return errorFromStatus(e.run(ctx, fn))
}

// execution is the state of one ExecutePlan call across reattaches.
type execution struct {
	s            *Session
	req          *connectpb.ExecutePlanRequest
	reattachable bool
	started      bool   // the ExecutePlan request reached the server (a response arrived)
	lastResponse string // response_id of the last processed response
	complete     bool
}

func (e *execution) open(ctx context.Context) (grpc.ServerStreamingClient[connectpb.ExecutePlanResponse], error) {
	if !e.started {
		return e.s.client.ExecutePlan(ctx, e.req)
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

func (e *execution) run(ctx context.Context, fn func(*connectpb.ExecutePlanResponse) error) error {
	failures := 0
	// retry handles a failed attempt: it reports whether to try again (after a backoff).
	retry := func(err error) (bool, error) {
		switch {
		case e.reattachable && e.started && status.Code(err) == codes.Unimplemented:
			// a server without ReattachExecute (before 3.5) ends a plain stream: that is the end
			e.s.noReattach.Store(true)
			return false, nil
		case e.reattachable && e.started && isOperationNotFound(err) && e.lastResponse == "":
			// the server never registered the operation: send it again
			e.started = false
		case !isRetryable(err):
			return false, err
		case !e.reattachable && e.started:
			// results were already consumed and the server cannot resume: give up
			return false, err
		}
		if failures >= e.s.retry.MaxRetries {
			return false, err
		}
		e.s.logger.DebugContext(ctx, "retrying execution", "operation_id", e.req.GetOperationId(), "error", err, "retry", failures+1)
		if serr := e.s.retry.sleep(ctx, failures); serr != nil {
			return false, err
		}
		failures++
		return true, nil
	}
	for {
		stream, err := e.open(ctx)
		if err != nil {
			if again, rerr := retry(err); again {
				continue
			} else {
				return rerr
			}
		}
		for {
			resp, err := stream.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				again, rerr := retry(err)
				if !again {
					return rerr
				}
				break
			}
			e.started = true
			if id := resp.GetResponseId(); id != "" {
				e.lastResponse = id
			}
			failures = 0
			if resp.GetResultComplete() != nil {
				e.complete = true
				continue
			}
			if err := fn(resp); err != nil {
				return err
			}
		}
		if !e.reattachable || e.complete {
			return nil
		}
		if !e.started {
			// EOF before any response on a reattachable execution: resend it
			continue
		}
		// stream ended without ResultComplete: more to come, reattach
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
