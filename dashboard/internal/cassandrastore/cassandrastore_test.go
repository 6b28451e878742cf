package cassandrastore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

func TestClusterConfig(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		wantAuth gocql.Authenticator // nil: none
		wantCons gocql.Consistency   // zero: LOCAL_QUORUM, the default
	}{
		{name: "no password: no authenticator", cfg: Config{Hosts: []string{"a", "b:9043"}, Keyspace: "trading", User: "trading_dashboard"}},
		{name: "another consistency", cfg: Config{Hosts: []string{"a"}, Keyspace: "trading", Consistency: gocql.LocalOne}, wantCons: gocql.LocalOne},
		{name: "password: PasswordAuthenticator", cfg: Config{Hosts: []string{"a"}, Keyspace: "trading", User: "trading_dashboard", Password: "pw"},
			wantAuth: gocql.PasswordAuthenticator{Username: "trading_dashboard", Password: "pw"}},
		{name: "the user is passed as given", cfg: Config{Hosts: []string{"a"}, Keyspace: "k", User: "other", Password: "p w"},
			wantAuth: gocql.PasswordAuthenticator{Username: "other", Password: "p w"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.cfg) // applies the defaults, as sess does
			c := clusterConfig(s.cfg)
			wantCons := tt.wantCons
			if wantCons == gocql.Any {
				wantCons = gocql.LocalQuorum
			}
			if !reflect.DeepEqual(c.Authenticator, tt.wantAuth) {
				t.Errorf("Authenticator = %#v, want %#v", c.Authenticator, tt.wantAuth)
			}
			if strings.Join(c.Hosts, ",") != strings.Join(tt.cfg.Hosts, ",") || c.Keyspace != tt.cfg.Keyspace ||
				c.Consistency != wantCons || c.Timeout != 3*time.Second || c.ConnectTimeout != 3*time.Second ||
				c.NumConns != 1 {
				t.Errorf("cluster config: hosts %v keyspace %q consistency %v timeouts %v/%v conns %d",
					c.Hosts, c.Keyspace, c.Consistency, c.Timeout, c.ConnectTimeout, c.NumConns)
			}
		})
	}
}

func TestConnectError(t *testing.T) {
	cause := errors.New("gocql: unable to create session")
	tests := []struct {
		name        string
		cfg         Config
		want, never []string
	}{
		{name: "without a password it says what to set", cfg: Config{Hosts: []string{"h1"}, User: "trading_dashboard"},
			want: []string{"[h1]", "without credentials", "CASSANDRA_DASHBOARD_PASSWORD", "`make up` writes it into .env"}},
		{name: "with a password it names the user, not the password", cfg: Config{Hosts: []string{"h1"}, User: "trading_dashboard", Password: "s3cret-pw"},
			want: []string{"[h1]", "as trading_dashboard"}, never: []string{"s3cret-pw", "CASSANDRA_DASHBOARD_PASSWORD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := connectError(tt.cfg, cause)
			if !errors.Is(err, cause) {
				t.Errorf("%v does not wrap gocql's error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(err.Error(), n) {
					t.Errorf("%q contains %q", err, n)
				}
			}
		})
	}
}

// TestConnectToAuthenticatingServer connects the store to fakeAuthServer, a listener that
// speaks just enough of the native protocol to demand PasswordAuthenticator and refuse every
// credential: without a password the store's error says what to set; with one, the server
// receives exactly the user and password, and the error shows neither the password nor the hint.
func TestConnectToAuthenticatingServer(t *testing.T) {
	const user, password = "trading_dashboard", "s3cret-pw"
	tests := []struct {
		name        string
		password    string
		wantToken   string // the SASL PLAIN token the server must receive; "" for none
		want, never []string
	}{
		{name: "no password", want: []string{"authentication required", "CASSANDRA_DASHBOARD_PASSWORD", "make up"}},
		{name: "password", password: password, wantToken: "\x00" + user + "\x00" + password,
			want: []string{"as " + user, "and/or password are incorrect"}, never: []string{password, "CASSANDRA_DASHBOARD_PASSWORD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeAuthServer(t)
			s := New(Config{Hosts: []string{srv.addr()}, Keyspace: "trading", User: user, Password: tt.password, Timeout: 5 * time.Second})
			t.Cleanup(s.Close)
			err := s.Ping(t.Context())
			if err == nil {
				t.Fatal("Ping succeeded against a server that refuses every credential")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error %q contains %q", err, n)
				}
			}
			tokens := srv.tokens()
			if tt.wantToken == "" && len(tokens) > 0 {
				t.Errorf("credentials sent without a password: %q", tokens)
			}
			if tt.wantToken != "" && (len(tokens) == 0 || tokens[0] != tt.wantToken) {
				t.Errorf("server received tokens %q, want %q", tokens, tt.wantToken)
			}
		})
	}
}

// fakeAuthServer answers the start of a native-protocol handshake like a Cassandra with
// PasswordAuthenticator whose every login fails: protocol v5 is refused (so that the driver
// stays on v4 framing, which needs no checksums), OPTIONS gets an empty SUPPORTED, STARTUP gets
// AUTHENTICATE, and an AUTH_RESPONSE is recorded and answered with "bad credentials".
type fakeAuthServer struct {
	ln  net.Listener
	mu  sync.Mutex
	got []string // AUTH_RESPONSE tokens
}

const (
	opError        = 0x00
	opStartup      = 0x01
	opAuthenticate = 0x03
	opOptions      = 0x05
	opSupported    = 0x06
	opAuthResponse = 0x0F

	errProtocol       = 0x000A
	errBadCredentials = 0x0100
)

func newFakeAuthServer(t *testing.T) *fakeAuthServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAuthServer{ln: ln}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { f.serve(c) })
		}
	})
	return f
}

func (f *fakeAuthServer) addr() string { return f.ln.Addr().String() }

func (f *fakeAuthServer) tokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

func (f *fakeAuthServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	for {
		// request header: version, flags, stream (2), opcode, body length (4)
		var h [9]byte
		if _, err := io.ReadFull(c, h[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(h[5:]))
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		version, stream, op := h[0], h[2:4], h[4]
		reply := func(op byte, body []byte) {
			out := []byte{0x80 | version, 0, stream[0], stream[1], op, 0, 0, 0, 0}
			binary.BigEndian.PutUint32(out[5:], uint32(len(body)))
			_, _ = c.Write(append(out, body...))
		}
		switch {
		case version > 4:
			reply(opError, errorBody(errProtocol, "Invalid or unsupported protocol version (5); supported versions are (3/v3, 4/v4)"))
			return
		case op == opOptions:
			reply(opSupported, []byte{0, 0}) // an empty string multimap
		case op == opStartup:
			reply(opAuthenticate, shortString("org.apache.cassandra.auth.PasswordAuthenticator"))
		case op == opAuthResponse:
			if len(body) >= 4 {
				n := int(int32(binary.BigEndian.Uint32(body)))
				if n >= 0 && 4+n <= len(body) {
					f.mu.Lock()
					f.got = append(f.got, string(body[4:4+n]))
					f.mu.Unlock()
				}
			}
			reply(opError, errorBody(errBadCredentials, "Provided username trading_dashboard and/or password are incorrect"))
			return
		default:
			reply(opError, errorBody(errProtocol, "unexpected request"))
			return
		}
	}
}

func shortString(s string) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint16(len(s)))
	b.WriteString(s)
	return b.Bytes()
}

func errorBody(code uint32, msg string) []byte {
	b := binary.BigEndian.AppendUint32(nil, code)
	return append(b, shortString(msg)...)
}
