package cassadmin

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
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
