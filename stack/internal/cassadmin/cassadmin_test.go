package cassadmin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

func TestClusterHosts(t *testing.T) {
	tests := []struct {
		name  string
		hosts []string
		port  int
		want  []string
		alone bool
	}{
		{"host gets the default port", []string{"127.0.0.1"}, 9042, []string{"127.0.0.1:9042"}, true},
		{"explicit port kept", []string{"127.0.0.1:19042"}, 9042, []string{"127.0.0.1:19042"}, true},
		{"several hosts", []string{"a", "b:1"}, 7, []string{"a:7", "b:1"}, false},
		{"ipv6", []string{"::1", "[::1]:9"}, 9042, []string{"[::1]:9042", "[::1]:9"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Cluster(tt.hosts, tt.port)
			if !reflect.DeepEqual(c.Hosts, tt.want) {
				t.Errorf("hosts = %q, want %q", c.Hosts, tt.want)
			}
			if c.DisableInitialHostLookup != tt.alone {
				t.Errorf("DisableInitialHostLookup = %v, want %v", c.DisableInitialHostLookup, tt.alone)
			}
		})
	}
}

func TestBadCredentials(t *testing.T) {
	flattened := fmt.Errorf("gocql: unable to create session: %v",
		fmt.Errorf("unable to discover protocol version: %v", errors.New("Provided username idxstream_admin and/or password are incorrect")))
	if !BadCredentials(flattened) {
		t.Error("a refused login, as gocql reports it from CreateSession, must count")
	}
	for _, err := range []error{nil, errors.New("dial tcp 127.0.0.1:9042: connect: connection refused"), errors.New("gocql: no hosts available in the pool")} {
		if BadCredentials(err) {
			t.Errorf("BadCredentials(%v) = true", err)
		}
	}
}

func TestParseReplication(t *testing.T) {
	tests := []struct {
		name, in string
		want     Replication
		wantErr  string
	}{
		{"the default", "{'class': 'SimpleStrategy', 'replication_factor': 1}",
			Replication{"class": "SimpleStrategy", "replication_factor": "1"}, ""},
		{"as system_schema reports it", "{'class': 'org.apache.cassandra.locator.SimpleStrategy', 'replication_factor': '1'}",
			Replication{"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "1"}, ""},
		{"per data centre, spaced freely", " { 'class' :'NetworkTopologyStrategy','dc1':3 , 'dc2' : '2' } ",
			Replication{"class": "NetworkTopologyStrategy", "dc1": "3", "dc2": "2"}, ""},
		{"a quote in a name", "{'class': 'SimpleStrategy', 'it''s': 1}", Replication{"class": "SimpleStrategy", "it's": "1"}, ""},
		{"not a map", "rf=1", nil, "not a map in braces"},
		{"no class", "{'replication_factor': 3}", nil, "no 'class'"},
		{"no comma", "{'class': 'SimpleStrategy' 'replication_factor': 3}", nil, "comma"},
		{"trailing comma", "{'class': 'SimpleStrategy',}", nil, "'key': value pairs"},
		{"unquoted key", "{class: 'SimpleStrategy'}", nil, "'key': value pairs"},
		{"open string", "{'class: 'SimpleStrategy'}", nil, "not closed"},
		{"twice", "{'class': 'A', 'class': 'B'}", nil, "twice"},
		{"not closed", "{'class': 'SimpleStrategy'", nil, "no closing brace"},
		{"empty", "{}", nil, "no 'class'"},
		{"text after", "{'class': 'SimpleStrategy'} AND durable_writes = true", nil, "after the closing brace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReplication(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseReplication(%s) = %v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseReplication(%s) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

// What migrate compares: CASSANDRA_REPLICATION, or the keyspace's, with system_auth's as
// Cassandra 5 reports it.
func TestReplicationEqual(t *testing.T) {
	auth := Replication{"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "1"}
	tests := []struct {
		name string
		a, b Replication
		want bool
	}{
		{"system_auth's default is the stack's default", auth, mustParse(t, "{'class': 'SimpleStrategy', 'replication_factor': 1}"), true},
		{"RF 3 differs", auth, mustParse(t, "{'class': 'SimpleStrategy', 'replication_factor': 3}"), false},
		{"another strategy", auth, Replication{"class": "NetworkTopologyStrategy", "replication_factor": "1"}, false},
		{"per data centre, numbers as numbers", Replication{"class": "org.apache.cassandra.locator.NetworkTopologyStrategy", "dc1": "3"},
			mustParse(t, "{'class': 'NetworkTopologyStrategy', 'dc1': 3}"), true},
		{"another data centre", Replication{"class": "NetworkTopologyStrategy", "dc1": "3"}, Replication{"class": "NetworkTopologyStrategy", "dc2": "3"}, false},
		{"one more data centre", Replication{"class": "NetworkTopologyStrategy", "dc1": "3"},
			Replication{"class": "NetworkTopologyStrategy", "dc1": "3", "dc2": "3"}, false},
		{"transient replicas as text", Replication{"class": "SimpleStrategy", "replication_factor": "3/1"},
			Replication{"class": "SimpleStrategy", "replication_factor": "3/1"}, true},
		{"leading zero", Replication{"class": "SimpleStrategy", "replication_factor": "03"}, Replication{"class": "SimpleStrategy", "replication_factor": "3"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Equal(tt.b); got != tt.want {
				t.Errorf("%v.Equal(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := tt.b.Equal(tt.a); got != tt.want {
				t.Errorf("not symmetric: %v.Equal(%v) = %v", tt.b, tt.a, got)
			}
		})
	}
}

func TestAlterReplication(t *testing.T) {
	r := Replication{"class": "org.apache.cassandra.locator.NetworkTopologyStrategy", "dc2": "3", "dc1": "3"}
	want := "ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': '3', 'dc2': '3'}"
	if got := alterReplication("system_auth", r); got != want {
		t.Errorf("statement =\n%s\nwant\n%s", got, want)
	}
	back, err := ParseReplication(r.String())
	if err != nil || !back.Equal(r) {
		t.Errorf("String does not parse back: %v, %v", back, err)
	}
}

func mustParse(t *testing.T, s string) Replication {
	t.Helper()
	r, err := ParseReplication(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNode(t *testing.T) {
	c, err := Node(context.Background(), "127.0.0.2", 9042)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Hosts, []string{"127.0.0.2:9042"}) || !c.DisableInitialHostLookup || c.HostFilter == nil {
		t.Fatalf("cluster: hosts %v, lookup disabled %v, filter %v", c.Hosts, c.DisableInitialHostLookup, c.HostFilter)
	}
	tests := []struct {
		ip   string
		port int
		want bool
	}{
		{"127.0.0.2", 9042, true},
		{"127.0.0.1", 9042, false},
		{"127.0.0.3", 9042, false},
		{"127.0.0.2", 9043, false},
		{"127.0.0.2", 0, true}, // no port known: the address decides
	}
	for _, tt := range tests {
		h, err := gocql.NewHostInfoFromAddrPort(net.ParseIP(tt.ip), tt.port)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.HostFilter.Accept(h); got != tt.want {
			t.Errorf("Accept(%s:%d) = %v, want %v", tt.ip, tt.port, got, tt.want)
		}
	}
	if c, err := Node(context.Background(), "[::1]:19042", 9042); err != nil || c.Hosts[0] != "[::1]:19042" {
		t.Errorf("ipv6 with a port: %v, %v", c, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Node(ctx, "no-such-host.invalid", 9042); err == nil {
		t.Error("a name that does not resolve: no error")
	}
}
