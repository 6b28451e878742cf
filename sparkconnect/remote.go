package sparkconnect

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// DefaultPort is the Spark Connect server port used when a connection string names none
// (spark.connect.grpc.binding.port).
const DefaultPort = 15002

// Remote is a parsed Spark Connect connection string (PySpark's SPARK_REMOTE):
//
//	sc://host[:port][/][;param=value]...
//
// Known parameters, as Spark defines them: user_id, token (a bearer token; implies TLS),
// use_ssl (true/false), user_agent and session_id (a UUID). Unknown parameters are kept in
// Params and sent to the server as gRPC metadata, like PySpark does.
type Remote struct {
	Host      string
	Port      int
	UserID    string
	Token     string
	UseTLS    bool
	UserAgent string
	SessionID string
	// Params holds the parameters that are not one of the fields above.
	Params map[string]string
}

// Address is host:port, for dialing.
func (r Remote) Address() string { return net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) }

// String renders the connection string without the token.
func (r Remote) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sc://%s", r.Address())
	if r.UserID != "" {
		fmt.Fprintf(&b, "/;user_id=%s", r.UserID)
	}
	return b.String()
}

// ParseRemote parses a Spark Connect connection string. Every problem is reported in the error.
func ParseRemote(s string) (Remote, error) {
	r := Remote{Port: DefaultPort}
	if !strings.HasPrefix(s, "sc://") {
		return r, fmt.Errorf("parse connection string %q: scheme must be sc://", redact(s))
	}
	rest := s[len("sc://"):]
	hostPart, params, hasParams := strings.Cut(rest, ";")
	if p := strings.IndexByte(hostPart, '/'); p >= 0 {
		if path := hostPart[p:]; path != "/" {
			return r, fmt.Errorf("parse connection string %q: path must be empty, got %q", redact(s), path)
		}
		hostPart = hostPart[:p]
	}
	if hostPart == "" {
		return r, fmt.Errorf("parse connection string %q: missing host", redact(s))
	}
	u, err := url.Parse("http://" + hostPart)
	if err != nil || u.User != nil || u.Hostname() == "" {
		return r, fmt.Errorf("parse connection string %q: bad host %q", redact(s), hostPart)
	}
	r.Host = u.Hostname()
	if ps := u.Port(); ps != "" {
		p, err := strconv.Atoi(ps)
		if err != nil || p < 1 || p > 65535 {
			return r, fmt.Errorf("parse connection string %q: bad port %q", redact(s), ps)
		}
		r.Port = p
	} else if strings.HasSuffix(hostPart, ":") {
		return r, fmt.Errorf("parse connection string %q: empty port", redact(s))
	}
	if !hasParams {
		return r, nil
	}
	var errs []error
	for _, kv := range strings.Split(params, ";") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			errs = append(errs, fmt.Errorf("parameter %q is not key=value", kv))
			continue
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		switch k {
		case "user_id":
			r.UserID = v
		case "token":
			r.Token = v
			r.UseTLS = true
		case "use_ssl":
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("use_ssl=%q is not a boolean", v))
				continue
			}
			r.UseTLS = b || r.Token != ""
		case "user_agent":
			r.UserAgent = v
		case "session_id":
			if !isUUID(v) {
				errs = append(errs, fmt.Errorf("session_id=%q is not a UUID", v))
				continue
			}
			r.SessionID = v
		default:
			if r.Params == nil {
				r.Params = map[string]string{}
			}
			r.Params[k] = v
		}
	}
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("parse connection string %q: %w", redact(s), err)
	}
	return r, nil
}

// redact hides a token in a connection string for error messages (every error of ParseRemote
// quotes the string through it).
func redact(s string) string {
	i := strings.Index(s, ";token=")
	if i < 0 {
		return s
	}
	j := strings.IndexByte(s[i+1:], ';')
	if j < 0 {
		return s[:i] + ";token=REDACTED"
	}
	return s[:i] + ";token=REDACTED" + s[i+1+j:]
}
