package cassadmin

import (
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
