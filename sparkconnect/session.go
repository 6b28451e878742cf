package sparkconnect

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"idxstream/sparkconnect/connectpb"
)

// defaultMaxMessageSize is the largest gRPC message the client accepts (PySpark's 128 MiB).
const defaultMaxMessageSize = 128 << 20

// Session is a Spark Connect session: PySpark's SparkSession. It is safe for concurrent use.
//
// The server keys the session by (user id, session id) and keeps temp views, SQL conf and the
// streaming queries per session. Streaming queries are stopped when the server drops the
// session after about an hour without requests, so a long-running program must keep issuing
// requests (for example StreamingQuery.Status). Close does not end the server-side session.
type Session struct {
	conn       *grpc.ClientConn
	client     connectpb.SparkConnectServiceClient
	sessionID  string
	user       *connectpb.UserContext
	clientType string
	retry      RetryPolicy
	logger     *slog.Logger
	md         metadata.MD

	reattach   bool
	noReattach atomic.Bool // set when the server turned out not to support reattach
	planID     atomic.Int64
}

// Option configures Connect.
type Option func(*options)

type options struct {
	userID, sessionID, clientType string
	retry                         RetryPolicy
	logger                        *slog.Logger
	dial                          []grpc.DialOption
	reattach                      bool
	headers                       map[string]string
}

// WithUserID sets user_context.user_id (default: user_id= of the connection string, else
// $USER, else "na").
func WithUserID(id string) Option { return func(o *options) { o.userID = id } }

// WithSessionID reuses a session id (a UUID), e.g. to manage the streaming queries a previous
// run of the program started. Default: session_id= of the connection string, else a new UUID.
func WithSessionID(id string) Option { return func(o *options) { o.sessionID = id } }

// WithClientType overrides the client_type sent with every request.
func WithClientType(t string) Option { return func(o *options) { o.clientType = t } }

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option { return func(o *options) { o.retry = p } }

// WithLogger sets the logger (default: slog.Default() with component=sparkconnect).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithDialOptions adds gRPC dial options (e.g. a bufconn dialer in tests).
func WithDialOptions(d ...grpc.DialOption) Option {
	return func(o *options) { o.dial = append(o.dial, d...) }
}

// WithHeader sends the gRPC metadata header key: value with every call, for example a shared
// secret that a server-side interceptor checks (spark.connect.grpc.interceptor.classes). Like
// the parameters of the connection string it is never logged nor put into errors; it wins over
// a connection-string parameter of the same name.
func WithHeader(key, value string) Option {
	return func(o *options) {
		if o.headers == nil {
			o.headers = map[string]string{}
		}
		o.headers[strings.ToLower(key)] = value
	}
}

// WithReattach turns reattachable execution on or off (default on; Spark 3.5+ supports it).
func WithReattach(on bool) Option { return func(o *options) { o.reattach = on } }

// Connect creates a session for the connection string remote (see ParseRemote). It does no I/O:
// the connection is made by the first request.
func Connect(remote string, opts ...Option) (*Session, error) {
	r, err := ParseRemote(remote)
	if err != nil {
		return nil, err
	}
	o := options{retry: DefaultRetryPolicy(), reattach: true,
		clientType: fmt.Sprintf("idxstream-sparkconnect go/%s", runtime.Version())}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default().With("component", "sparkconnect")
	}
	if o.userID == "" {
		o.userID = r.UserID
	}
	if o.userID == "" {
		o.userID = os.Getenv("USER")
	}
	if o.userID == "" {
		o.userID = "na"
	}
	if o.sessionID == "" {
		o.sessionID = r.SessionID
	}
	if o.sessionID == "" {
		o.sessionID = newUUID()
	} else if !isUUID(o.sessionID) {
		return nil, fmt.Errorf("connect to %s: session id %q is not a UUID", r, o.sessionID)
	}
	dial := []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(defaultMaxMessageSize)),
	}
	if r.UseTLS {
		dial = append(dial, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})))
	} else {
		dial = append(dial, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if r.Token != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(bearer(r.Token)))
	}
	if r.UserAgent != "" {
		dial = append(dial, grpc.WithUserAgent(r.UserAgent))
	}
	dial = append(dial, o.dial...)
	// passthrough: the dialer resolves the host itself, as grpc.Dial did (no DNS resolver
	// polling; one Spark Connect endpoint per session)
	conn, err := grpc.NewClient("passthrough:///"+r.Address(), dial...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", r, err)
	}
	var md metadata.MD
	for k, v := range r.Params {
		if md == nil {
			md = metadata.MD{}
		}
		md.Append(k, v)
	}
	for k, v := range o.headers {
		if md == nil {
			md = metadata.MD{}
		}
		md.Set(k, v)
	}
	return &Session{
		conn:       conn,
		client:     connectpb.NewSparkConnectServiceClient(conn),
		sessionID:  o.sessionID,
		user:       &connectpb.UserContext{UserId: o.userID},
		clientType: o.clientType,
		retry:      o.retry,
		logger:     o.logger,
		md:         md,
		reattach:   o.reattach,
	}, nil
}

// SessionID is the session's UUID.
func (s *Session) SessionID() string { return s.sessionID }

// UserID is the user id the session sends.
func (s *Session) UserID() string { return s.user.GetUserId() }

// Close closes the connection. It does not release the server-side session (Spark 3.5 has no
// ReleaseSession), so streaming queries keep running until the server expires the session.
func (s *Session) Close() error { return s.conn.Close() }

// outgoing adds the connection-string parameters to ctx as gRPC metadata.
func (s *Session) outgoing(ctx context.Context) context.Context {
	if s.md == nil {
		return ctx
	}
	return metadata.NewOutgoingContext(ctx, metadata.Join(s.md))
}

// nextPlanID returns a new plan id for a relation node (RelationCommon.plan_id).
func (s *Session) nextPlanID() int64 { return s.planID.Add(1) - 1 }

// SparkVersion returns the server's Spark version, e.g. "3.5.6" (PySpark spark.version).
func (s *Session) SparkVersion(ctx context.Context) (string, error) {
	resp, err := s.analyze(ctx, &connectpb.AnalyzePlanRequest{
		Analyze: &connectpb.AnalyzePlanRequest_SparkVersion_{SparkVersion: &connectpb.AnalyzePlanRequest_SparkVersion{}},
	})
	if err != nil {
		return "", fmt.Errorf("spark version: %w", err)
	}
	return resp.GetSparkVersion().GetVersion(), nil
}

func (s *Session) analyze(ctx context.Context, req *connectpb.AnalyzePlanRequest) (*connectpb.AnalyzePlanResponse, error) {
	req.SessionId = s.sessionID
	req.UserContext = s.user
	req.ClientType = &s.clientType
	resp, err := retryUnary(s.outgoing(ctx), s.retry, func(ctx context.Context) (*connectpb.AnalyzePlanResponse, error) {
		return s.client.AnalyzePlan(ctx, req)
	})
	return resp, errorFromStatus(err)
}

// Interrupt cancels every running operation of the session and returns their ids.
func (s *Session) Interrupt(ctx context.Context) ([]string, error) {
	req := &connectpb.InterruptRequest{SessionId: s.sessionID, UserContext: s.user, ClientType: &s.clientType,
		InterruptType: connectpb.InterruptRequest_INTERRUPT_TYPE_ALL}
	resp, err := retryUnary(s.outgoing(ctx), s.retry, func(ctx context.Context) (*connectpb.InterruptResponse, error) {
		return s.client.Interrupt(ctx, req)
	})
	if err != nil {
		return nil, fmt.Errorf("interrupt: %w", errorFromStatus(err))
	}
	return resp.GetInterruptedIds(), nil
}

// bearer is a token sent as "authorization: Bearer <token>" on every RPC, over TLS only.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return true }
