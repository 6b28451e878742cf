package sparkconnect

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRemote(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Remote
		wantErr string
	}{
		{name: "host and port", in: "sc://127.0.0.1:15002", want: Remote{Host: "127.0.0.1", Port: 15002}},
		{name: "default port", in: "sc://spark", want: Remote{Host: "spark", Port: 15002}},
		{name: "trailing slash", in: "sc://spark:1234/", want: Remote{Host: "spark", Port: 1234}},
		{name: "ipv6", in: "sc://[::1]:15003", want: Remote{Host: "::1", Port: 15003}},
		{name: "user id", in: "sc://h:1/;user_id=alice", want: Remote{Host: "h", Port: 1, UserID: "alice"}},
		{name: "params without slash", in: "sc://h:1;user_id=bob;user_agent=job", want: Remote{Host: "h", Port: 1, UserID: "bob", UserAgent: "job"}},
		{name: "token implies tls", in: "sc://h:443/;token=abc", want: Remote{Host: "h", Port: 443, Token: "abc", UseTLS: true}},
		{name: "token wins over use_ssl=false", in: "sc://h/;token=abc;use_ssl=false", want: Remote{Host: "h", Port: 15002, Token: "abc", UseTLS: true}},
		{name: "use_ssl", in: "sc://h/;use_ssl=true", want: Remote{Host: "h", Port: 15002, UseTLS: true}},
		{name: "session id", in: "sc://h/;session_id=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
			want: Remote{Host: "h", Port: 15002, SessionID: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"}},
		{name: "unknown params kept", in: "sc://h/;x-trace=1;empty=", want: Remote{Host: "h", Port: 15002, Params: map[string]string{"x-trace": "1", "empty": ""}}},
		{name: "escaped value", in: "sc://h/;user_id=a%20b", want: Remote{Host: "h", Port: 15002, UserID: "a b"}},
		{name: "wrong scheme", in: "http://h:15002", wantErr: "scheme must be sc://"},
		{name: "no scheme", in: "h:15002", wantErr: "scheme must be sc://"},
		{name: "empty", in: "", wantErr: "scheme"},
		{name: "no host", in: "sc://:15002", wantErr: "bad host"},
		{name: "nothing after scheme", in: "sc://", wantErr: "missing host"},
		{name: "path", in: "sc://h:1/db", wantErr: "path must be empty"},
		{name: "port not a number", in: "sc://h:port", wantErr: "bad host"},
		{name: "port out of range", in: "sc://h:70000", wantErr: "bad port"},
		{name: "empty port", in: "sc://h:", wantErr: "empty port"},
		{name: "user info", in: "sc://u:p@h:1", wantErr: "bad host"},
		{name: "param without value", in: "sc://h/;user_id", wantErr: `"user_id" is not key=value`},
		{name: "bad use_ssl", in: "sc://h/;use_ssl=maybe", wantErr: "not a boolean"},
		{name: "bad session id", in: "sc://h/;session_id=42", wantErr: "not a UUID"},
		{name: "all problems at once", in: "sc://h/;use_ssl=x;session_id=y", wantErr: "not a boolean\nsession_id"},
		{name: "token redacted in errors", in: "sc://h/;token=secret;use_ssl=x", wantErr: "token=REDACTED"},
		{name: "token redacted in a scheme error", in: "http://h/;token=secret", wantErr: "token=REDACTED"},
		{name: "token redacted in a path error", in: "sc://h/db;token=secret", wantErr: "token=REDACTED"},
		{name: "token redacted in a port error", in: "sc://h:x;token=secret", wantErr: "token=REDACTED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRemote(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error leaks the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRemoteStringHidesToken(t *testing.T) {
	r, err := ParseRemote("sc://h:1/;token=secret;user_id=u")
	if err != nil {
		t.Fatal(err)
	}
	if s := r.String(); strings.Contains(s, "secret") || s != "sc://h:1/;user_id=u" {
		t.Fatalf("String() = %q", s)
	}
}

func TestNewUUID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		u := newUUID()
		if !isUUID(u) || u[14] != '4' || !strings.ContainsRune("89ab", rune(u[19])) {
			t.Fatalf("bad v4 UUID %q", u)
		}
		if seen[u] {
			t.Fatalf("duplicate %q", u)
		}
		seen[u] = true
	}
}
