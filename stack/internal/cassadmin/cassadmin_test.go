package cassadmin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
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
