// Package sinkcheck tells whether Cassandra answers, from the job's side. The raw path restarts a
// failed query only once Cassandra answers: the Cassandra connector inside Spark can hang for good
// when a query starts while the cluster is just going away (its driver's schema refresh never
// completes then), and a hung query can only be cleared by restarting the Spark Connect server.
package sinkcheck

import (
	"context"
	"fmt"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Cassandra checks the cluster at Hosts (host or host:port, comma-separated), logging in as User.
type Cassandra struct{ Hosts, User, Password string }

// Cluster is the job's view of the cluster at hosts (host or host:port, comma-separated), logging
// in as user, with timeouts of timeout; the job's own Cassandra sessions all start from it.
func Cluster(hosts, user, password string, timeout time.Duration) *gocql.ClusterConfig {
	cl := gocql.NewCluster(strings.Split(hosts, ",")...)
	cl.Timeout, cl.ConnectTimeout = timeout, timeout
	if password != "" {
		cl.Authenticator = gocql.PasswordAuthenticator{Username: user, Password: password}
	}
	return cl
}

// Ready opens a short-lived session and reads the local node's release version. A fresh session
// each time, so that an answer means the cluster accepts new connections now.
func (c Cassandra) Ready(ctx context.Context) error {
	cl := Cluster(c.Hosts, c.User, c.Password, 5*time.Second)
	cl.NumConns = 1
	s, err := cl.CreateSession()
	if err != nil {
		return fmt.Errorf("cassandra at %s: %w", c.Hosts, err)
	}
	defer s.Close()
	var v string
	if err := s.Query(`SELECT release_version FROM system.local`).WithContext(ctx).Scan(&v); err != nil {
		return fmt.Errorf("cassandra at %s: %w", c.Hosts, err)
	}
	return nil
}
