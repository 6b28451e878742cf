// Package cassadmin is stackctl's one door to Cassandra: a CQL session (to the cluster, or to one
// node of it), a migrate.Executor that records applied files in <keyspace>.schema_migrations, the
// roles and the replication of system_auth, and a readiness wait.
package cassadmin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"idxstream/stack/internal/retention"
)

// Cluster builds the driver configuration for hosts ("host" or "host:port"; port defaults to port).
func Cluster(hosts []string, port int) *gocql.ClusterConfig {
	addrs := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, strconv.Itoa(port))
		}
		addrs = append(addrs, h)
	}
	c := gocql.NewCluster(addrs...)
	c.Consistency = gocql.One
	c.Timeout = 30 * time.Second // DDL waits for schema agreement
	c.ConnectTimeout = 10 * time.Second
	c.DisableInitialHostLookup = len(addrs) == 1
	c.Logger = gocql.NewLogger(gocql.LogLevelWarn)
	return c
}

// Node builds the driver configuration for the one node at addr ("host" or "host:port"; port
// defaults to port): it is the only contact point, the ring is not looked up
// (DisableInitialHostLookup) and the host filter admits no other node, so that every request,
// the control connection's included, goes to that node and a session fails when it is down. It
// is what gocql.WhiteListHostFilter(addr) does, but matching the port too, and failing with an
// error where WhiteListHostFilter panics (a host name that does not resolve).
func Node(ctx context.Context, addr string, port int) (*gocql.ClusterConfig, error) {
	c := Cluster([]string{addr}, port)
	host, p, err := net.SplitHostPort(c.Hosts[0])
	if err != nil {
		return nil, fmt.Errorf("cassandra node %q: %w", addr, err)
	}
	nodePort, err := strconv.Atoi(p)
	if err != nil {
		return nil, fmt.Errorf("cassandra node %q: port %q: %w", addr, p, err)
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("cassandra node %q: %w", addr, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	c.DisableInitialHostLookup = true
	c.HostFilter = onlyNode(ips, nodePort)
	return c, nil
}

// onlyNode admits the hosts whose connect address is one of ips, at port (a host the driver
// knows no port of is matched on its address).
func onlyNode(ips []net.IP, port int) gocql.HostFilter {
	return gocql.HostFilterFunc(func(h *gocql.HostInfo) bool {
		if p := h.Port(); p != 0 && p != port {
			return false
		}
		addr := h.ConnectAddress()
		for _, ip := range ips {
			if ip.Equal(addr) {
				return true
			}
		}
		return false
	})
}

// Login is a Cassandra role's name and password.
type Login struct{ Name, Password string }

// WithLogin makes cluster log in as l (PasswordAuthenticator). An empty password leaves it as it
// is: a server without authentication needs none.
func WithLogin(cluster *gocql.ClusterConfig, l Login) *gocql.ClusterConfig {
	if l.Password != "" {
		cluster.Authenticator = gocql.PasswordAuthenticator{Username: l.Name, Password: l.Password}
	}
	return cluster
}

// BadCredentials reports whether err is the server's refusal of a login. gocql formats the errors
// of session creation with %v, which drops the typed *RequestErrCredentials, so the server's own
// wording of an AuthenticationException ("Provided username … and/or password are incorrect") is
// the only sign left there: this predicate is the one place that reads it.
func BadCredentials(err error) bool {
	var ce *gocql.RequestErrCredentials
	if errors.As(err, &ce) {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "and/or password are incorrect")
}

// LoginRequired reports whether err is gocql's own refusal to connect without credentials to a
// server that asks for them (a plain error: see BadCredentials).
func LoginRequired(err error) bool {
	return err != nil && strings.Contains(err.Error(), "authentication required")
}

// defaultSuperuser is the role Cassandra creates on its first start with authentication, before
// any other role exists.
var defaultSuperuser = Login{Name: "cassandra", Password: "cassandra"}

// Admin connects as admin, the stack's own superuser. On a node that still has only its default
// superuser (first start with authentication, or a stack upgraded to it) it logs in as that one,
// gives system_auth the replication auth (see bootstrap; nil leaves it as it is), creates admin,
// reconnects as admin and drops the default role, whose password everyone knows. Cassandra
// creates the default role about ten seconds after it starts: Admin waits for it until ctx ends.
func Admin(ctx context.Context, hosts []string, port int, admin Login, auth Replication, logger *slog.Logger) (*gocql.Session, error) {
	if admin.Password == "" {
		return nil, errors.New("CASSANDRA_ADMIN_PASSWORD is empty: set it in .env (`make up` creates one)")
	}
	for {
		s, err := WithLogin(Cluster(hosts, port), admin).CreateSession()
		if err == nil {
			if err := dropDefaultSuperuser(ctx, s, admin, logger); err != nil {
				s.Close()
				return nil, err
			}
			return s, nil
		}
		if !BadCredentials(err) {
			return nil, fmt.Errorf("connect to cassandra %v as %s: %w", hosts, admin.Name, err)
		}
		def, derr := WithLogin(Cluster(hosts, port), defaultSuperuser).CreateSession()
		if derr == nil {
			err = bootstrap(ctx, def, admin, auth, logger)
			def.Close()
			if err != nil {
				return nil, err
			}
			continue
		}
		if !BadCredentials(derr) {
			return nil, fmt.Errorf("connect to cassandra %v: %w", hosts, derr)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cassandra refuses %s (CASSANDRA_ADMIN_PASSWORD of .env) and has no default superuser either: "+
				"was the stack brought up with other secrets? (%s): %w", admin.Name, "$STACK_HOME/secrets.env", ctx.Err())
		case <-time.After(2 * time.Second): // the default role may not exist yet
		}
	}
}

// bootstrap runs on a cluster that has only the default superuser, logged in as it in s: it gives
// system_auth the replication auth, then creates the stack's superuser admin. In that order, so
// that admin and every role made after it are written to all of system_auth's replicas: at
// system_auth's default (SimpleStrategy, RF 1) a role lives on one node, and nobody logs in as it
// while that node is down.
//
// The default role itself was written before, to one replica: a read at ALL copies it to the new
// replicas (read repair), so that the quorum reads that check it (its superuser status, and
// whether it still exists when it is dropped) find it; without that, one of them could miss it and
// leave the default superuser in place. When that read fails, `nodetool repair system_auth` on each
// node does the same.
func bootstrap(ctx context.Context, s *gocql.Session, admin Login, auth Replication, logger *slog.Logger) error {
	if auth != nil {
		altered, had, err := alignReplication(ctx, s, "system_auth", auth)
		if err != nil {
			return fmt.Errorf("replicate system_auth like the keyspace (CASSANDRA_REPLICATION): %w", err)
		}
		if altered {
			logger.Info("system_auth replicated like the keyspace before the stack's roles are made", "from", had, "to", auth)
			var role string
			err := s.Query("SELECT role FROM system_auth.roles WHERE role = ?", defaultSuperuser.Name).
				Consistency(gocql.All).ScanContext(ctx, &role)
			if err != nil && !errors.Is(err, gocql.ErrNotFound) {
				logger.Warn("could not copy the default role to system_auth's new replicas: run `nodetool repair system_auth` on each node",
					"err", err)
			}
		}
	}
	q := fmt.Sprintf("CREATE ROLE IF NOT EXISTS %s WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = %s", admin.Name, cqlString(admin.Password))
	if err := s.Query(q).ExecContext(ctx); err != nil {
		return fmt.Errorf("create the stack's superuser %s: %w", admin.Name, redactPassword(err, admin.Password))
	}
	logger.Info("created the stack's Cassandra superuser; the default one goes", "role", admin.Name)
	return nil
}

// dropDefaultSuperuser drops the default role if it exists. Whether it does is read at QUORUM:
// on a cluster whose system_auth has several replicas, a read at ONE may ask one that lacks it.
func dropDefaultSuperuser(ctx context.Context, s *gocql.Session, admin Login, logger *slog.Logger) error {
	if admin.Name == defaultSuperuser.Name {
		return nil
	}
	var n int
	if err := s.Query("SELECT COUNT(*) FROM system_auth.roles WHERE role = ?", defaultSuperuser.Name).
		Consistency(gocql.Quorum).ScanContext(ctx, &n); err != nil {
		return nil // a server without authentication has no roles to look at
	}
	if n == 0 {
		return nil
	}
	if err := s.Query("DROP ROLE IF EXISTS " + defaultSuperuser.Name).ExecContext(ctx); err != nil {
		return fmt.Errorf("drop the default superuser: %w", err)
	}
	logger.Info("dropped Cassandra's default superuser", "role", defaultSuperuser.Name)
	return nil
}

// Grant is one permission on a resource of a keyspace: "SELECT" on "KEYSPACE ks", "MODIFY" on
// "TABLE ks.t".
type Grant struct{ Permission, Resource string }

// RoleSpec is an application role and exactly the permissions it holds on one keyspace.
type RoleSpec struct {
	Login  Login
	Grants []Grant
}

// EnsureRoles creates (or updates the password of) each role, grants what its spec lists on
// keyspace ks and revokes every other permission it holds on ks or its tables, so that an
// upgraded stack ends with the same permissions as a new one. Passwords are never logged.
//
// A role that exists already gets its password set only when it no longer logs in with it (a
// rotated .env): Cassandra 5 refuses two password changes of a role within five seconds.
// cluster is how to reach the nodes, to try that login.
func EnsureRoles(ctx context.Context, s *gocql.Session, cluster func() *gocql.ClusterConfig, ks string, roles []RoleSpec, logger *slog.Logger) error {
	for _, r := range roles {
		if r.Login.Password == "" {
			return fmt.Errorf("the password of Cassandra role %s is empty: set it in .env (`make up` creates one)", r.Login.Name)
		}
		pw := cqlString(r.Login.Password)
		var n int
		if err := s.Query("SELECT COUNT(*) FROM system_auth.roles WHERE role = ?", r.Login.Name).ScanContext(ctx, &n); err != nil {
			return fmt.Errorf("look up role %s: %w", r.Login.Name, err)
		}
		q := fmt.Sprintf("CREATE ROLE IF NOT EXISTS %s WITH LOGIN = true AND PASSWORD = %s", r.Login.Name, pw)
		if n > 0 {
			q = ""
			if probe, err := WithLogin(cluster(), r.Login).CreateSession(); err == nil {
				probe.Close()
			} else if BadCredentials(err) {
				q = fmt.Sprintf("ALTER ROLE %s WITH LOGIN = true AND PASSWORD = %s", r.Login.Name, pw)
				logger.Info("cassandra role gets the password of .env", "role", r.Login.Name)
			} else {
				return fmt.Errorf("try the login of role %s: %w", r.Login.Name, err)
			}
		}
		if q != "" {
			if err := s.Query(q).ExecContext(ctx); err != nil {
				return fmt.Errorf("role %s: %w", r.Login.Name, redactPassword(err, r.Login.Password))
			}
		}
		want := map[Grant]bool{}
		for _, g := range r.Grants {
			want[g] = true
			if err := s.Query(fmt.Sprintf("GRANT %s ON %s TO %s", g.Permission, g.Resource, r.Login.Name)).ExecContext(ctx); err != nil {
				return fmt.Errorf("grant %s on %s to %s: %w", g.Permission, g.Resource, r.Login.Name, err)
			}
		}
		held, err := permissions(ctx, s, r.Login.Name)
		if err != nil {
			return err
		}
		for _, g := range held {
			if want[g] || !onKeyspace(g.Resource, ks) {
				continue
			}
			if err := s.Query(fmt.Sprintf("REVOKE %s ON %s FROM %s", g.Permission, g.Resource, r.Login.Name)).ExecContext(ctx); err != nil {
				return fmt.Errorf("revoke %s on %s from %s: %w", g.Permission, g.Resource, r.Login.Name, err)
			}
			logger.Info("revoked a permission the role no longer needs", "role", r.Login.Name, "permission", g.Permission, "on", g.Resource)
		}
		logger.Info("cassandra role ready", "role", r.Login.Name, "keyspace", ks, "grants", len(r.Grants))
	}
	return nil
}

// permissions lists what role holds directly, as Grants ("<keyspace ks>" becomes "KEYSPACE ks").
func permissions(ctx context.Context, s *gocql.Session, role string) ([]Grant, error) {
	it := s.Query("LIST ALL PERMISSIONS OF " + role + " NORECURSIVE").IterContext(ctx)
	var out []Grant
	row := map[string]any{}
	for it.MapScan(row) {
		res, _ := row["resource"].(string)
		perm, _ := row["permission"].(string)
		if g, ok := grantOf(res, perm); ok {
			out = append(out, g)
		}
		row = map[string]any{}
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("list the permissions of %s: %w", role, err)
	}
	return out, nil
}

// grantOf turns a listed resource ("<keyspace ks>", "<table ks.t>") into a Grant.
func grantOf(resource, permission string) (Grant, bool) {
	inner, ok := strings.CutPrefix(resource, "<")
	if !ok {
		return Grant{}, false
	}
	inner = strings.TrimSuffix(inner, ">")
	kind, name, ok := strings.Cut(inner, " ")
	if !ok || (kind != "keyspace" && kind != "table") {
		return Grant{}, false
	}
	return Grant{Permission: permission, Resource: strings.ToUpper(kind) + " " + name}, true
}

func onKeyspace(resource, ks string) bool {
	return resource == "KEYSPACE "+ks || strings.HasPrefix(resource, "TABLE "+ks+".")
}

// cqlString quotes s as a CQL string literal (role statements take no bind markers).
func cqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// redactPassword keeps a password out of an error that may quote the statement.
func redactPassword(err error, password string) error {
	if password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "[password hidden]"))
}

// Replication is a keyspace's replication map: "class" and the strategy's options
// (replication_factor, or a replica count per data centre), as CQL writes it
// ({'class': 'SimpleStrategy', 'replication_factor': 1}) or as system_schema.keyspaces reports
// it ({'class': 'org.apache.cassandra.locator.SimpleStrategy', 'replication_factor': '1'}).
type Replication map[string]string

// ParseReplication reads a CQL map literal of single-quoted keys and single-quoted or bare
// values (CASSANDRA_REPLICATION); it needs a "class". Its error starts with the quoted text, for
// the caller to put the variable's name before it.
func ParseReplication(cql string) (Replication, error) {
	bad := func(what string) (Replication, error) {
		return nil, fmt.Errorf("%q: %s (want a map such as {'class': 'SimpleStrategy', 'replication_factor': 1})", cql, what)
	}
	toks, err := cqlTokens(cql)
	if err != nil {
		return bad(err.Error())
	}
	next := func(want string) bool { // consumes a punctuation token
		if len(toks) > 0 && !toks[0].quoted && toks[0].text == want {
			toks = toks[1:]
			return true
		}
		return false
	}
	if !next("{") {
		return bad("not a map in braces")
	}
	r := Replication{}
	for !next("}") {
		if len(toks) == 0 {
			return bad("no closing brace")
		}
		if len(r) > 0 && !next(",") {
			return bad("want a comma between pairs")
		}
		if len(toks) < 3 || !toks[0].quoted || toks[1] != (token{text: ":"}) || toks[2].punct() {
			return bad("want 'key': value pairs")
		}
		k, v := toks[0].text, toks[2].text
		if _, dup := r[k]; dup {
			return bad("key '" + k + "' twice")
		}
		r[k] = v
		toks = toks[3:]
	}
	if len(toks) > 0 {
		return bad("text after the closing brace")
	}
	if r["class"] == "" {
		return bad("no 'class'")
	}
	return r, nil
}

// token is one token of a CQL map literal.
type token struct {
	text   string
	quoted bool // a string literal; text is its content
}

func (t token) punct() bool { return !t.quoted && len(t.text) == 1 && strings.Contains("{}:,", t.text) }

// cqlTokens splits s into braces, colons, commas, string literals (a quote inside one doubled)
// and bare terms.
func cqlTokens(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.IndexByte("{}:,", c) >= 0:
			out = append(out, token{text: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, errors.New("a string is not closed")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' { // '' inside a string is one quote
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, token{text: b.String(), quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && strings.IndexByte("{}:,' \t\n\r", s[j]) < 0 {
				j++
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

// Equal reports whether r and o replicate alike: the same strategy (its class compared by short
// name, as Cassandra reports it fully qualified) and the same options, numbers compared as
// numbers ('3' and 3).
func (r Replication) Equal(o Replication) bool {
	if shortClass(r["class"]) != shortClass(o["class"]) || len(r) != len(o) {
		return false
	}
	for k, v := range r {
		w, ok := o[k]
		if !ok {
			return false
		}
		if k == "class" {
			continue
		}
		a, errA := strconv.Atoi(strings.TrimSpace(v))
		b, errB := strconv.Atoi(strings.TrimSpace(w))
		if errA == nil && errB == nil {
			if a != b {
				return false
			}
		} else if strings.TrimSpace(v) != strings.TrimSpace(w) {
			return false
		}
	}
	return true
}

// String is r as a CQL map literal, the class first (short name for Cassandra's own strategies),
// then the options sorted.
func (r Replication) String() string {
	class := r["class"]
	if c, ok := strings.CutPrefix(class, "org.apache.cassandra.locator."); ok {
		class = c
	}
	parts := []string{"'class': " + cqlString(class)}
	keys := make([]string, 0, len(r))
	for k := range r {
		if k != "class" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, cqlString(k)+": "+cqlString(r[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// KeyspaceReplication reads the replication of keyspace ks from system_schema.keyspaces.
func KeyspaceReplication(ctx context.Context, s *gocql.Session, ks string) (Replication, error) {
	var r map[string]string
	err := s.Query("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", ks).ScanContext(ctx, &r)
	if errors.Is(err, gocql.ErrNotFound) {
		return nil, fmt.Errorf("replication of keyspace %s: no such keyspace", ks)
	}
	if err != nil {
		return nil, fmt.Errorf("read the replication of keyspace %s: %w", ks, err)
	}
	return Replication(r), nil
}

// alignReplication gives keyspace ks the replication want unless it has it already (Equal); it
// returns whether it altered ks and the replication ks had.
func alignReplication(ctx context.Context, s *gocql.Session, ks string, want Replication) (bool, Replication, error) {
	had, err := KeyspaceReplication(ctx, s, ks)
	if err != nil {
		return false, nil, err
	}
	if had.Equal(want) {
		return false, had, nil
	}
	if err := s.Query(alterReplication(ks, want)).ExecContext(ctx); err != nil {
		return false, had, fmt.Errorf("alter the replication of %s from %s to %s: %w", ks, had, want, err)
	}
	return true, had, nil
}

func alterReplication(ks string, r Replication) string {
	return "ALTER KEYSPACE " + ks + " WITH replication = " + r.String()
}

// ReplicateAuth gives system_auth the replication of keyspace ks (both as system_schema.keyspaces
// reports them) when it differs, so that the roles survive the loss of a node as the data does. A
// new cluster has it from bootstrap already; on an existing one, the roles stored so far are on
// their old replicas only until `nodetool repair system_auth` has run on each node, which the log
// line says. A single-node stack at RF 1 (system_auth's default) is left as it is.
func ReplicateAuth(ctx context.Context, s *gocql.Session, ks string, logger *slog.Logger) error {
	want, err := KeyspaceReplication(ctx, s, ks)
	if err != nil {
		return err
	}
	altered, had, err := alignReplication(ctx, s, "system_auth", want)
	if err != nil {
		return err
	}
	if altered {
		logger.Warn("system_auth now has the replication of the keyspace: run `nodetool repair system_auth` on each node, "+
			"so that the roles stored so far reach their new replicas", "keyspace", ks, "from", had, "to", want)
	}
	return nil
}

// Migrations is a migrate.Executor for one keyspace. The keyspace is created with replication
// before the table that records migrations (the first schema file creates it again, IF NOT EXISTS).
type Migrations struct {
	Session     *gocql.Session
	Keyspace    string
	Replication string
}

// EnsureTable implements migrate.Executor.
func (m *Migrations) EnsureTable(ctx context.Context) error {
	if err := m.Session.Query("CREATE KEYSPACE IF NOT EXISTS " + m.Keyspace + " WITH replication = " + m.Replication).ExecContext(ctx); err != nil {
		return fmt.Errorf("create keyspace %s: %w", m.Keyspace, err)
	}
	return m.Session.Query("CREATE TABLE IF NOT EXISTS " + m.Keyspace +
		".schema_migrations (file_name text PRIMARY KEY, checksum text, applied_at timestamp)").ExecContext(ctx)
}

// Applied implements migrate.Executor.
func (m *Migrations) Applied(ctx context.Context) (map[string]string, error) {
	it := m.Session.Query("SELECT file_name, checksum FROM " + m.Keyspace + ".schema_migrations").IterContext(ctx)
	out := map[string]string{}
	var name, sum string
	for it.Scan(&name, &sum) {
		out[name] = sum
	}
	return out, it.Close()
}

// Exec implements migrate.Executor.
func (m *Migrations) Exec(ctx context.Context, stmt string) error {
	return m.Session.Query(stmt).ExecContext(ctx)
}

// Record implements migrate.Executor.
func (m *Migrations) Record(ctx context.Context, name, checksum string, at time.Time) error {
	return m.Session.Query("INSERT INTO "+m.Keyspace+".schema_migrations (file_name, checksum, applied_at) VALUES (?, ?, ?)",
		name, checksum, at).ExecContext(ctx)
}

// Wait connects and runs `SELECT release_version FROM system.local` until it answers or ctx
// ends; it returns the version.
func Wait(ctx context.Context, cluster *gocql.ClusterConfig) (string, error) {
	var last error
	for {
		v, err := releaseVersion(ctx, cluster)
		if err == nil {
			return v, nil
		}
		// It answers when it refuses the login, or asks for one we lack; the login is checked (and
		// made) by Admin.
		if BadCredentials(err) || LoginRequired(err) {
			return "(login refused: the stack's roles are made by stackctl migrate)", nil
		}
		last = err
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for cassandra: %w", errors.Join(ctx.Err(), last))
		case <-time.After(2 * time.Second):
		}
	}
}

func releaseVersion(ctx context.Context, cluster *gocql.ClusterConfig) (string, error) {
	s, err := cluster.CreateSession()
	if err != nil {
		return "", fmt.Errorf("connect to cassandra: %w", err)
	}
	defer s.Close()
	var v string
	if err := s.Query("SELECT release_version FROM system.local").ScanContext(ctx, &v); err != nil {
		return "", fmt.Errorf("query system.local: %w", err)
	}
	return v, nil
}

// DropKeyspace drops keyspace ks if it exists.
func DropKeyspace(ctx context.Context, session *gocql.Session, ks string) error {
	if err := session.Query("DROP KEYSPACE IF EXISTS " + ks).ExecContext(ctx); err != nil {
		return fmt.Errorf("drop keyspace %s: %w", ks, err)
	}
	return nil
}

// Keyspaces lists the keyspaces whose names start with prefix.
func Keyspaces(ctx context.Context, session *gocql.Session, prefix string) ([]string, error) {
	it := session.Query("SELECT keyspace_name FROM system_schema.keyspaces").IterContext(ctx)
	var out []string
	var n string
	for it.Scan(&n) {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("list keyspaces: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

// ApplyRetention gives each table of ks the TTL, gc_grace_seconds and compaction of its policy,
// altering only what differs; it returns one "table: what changed" per altered table. A new
// default_time_to_live applies to rows written from then on: rows already stored keep theirs.
func ApplyRetention(ctx context.Context, s *gocql.Session, ks string, tables []retention.Table) ([]string, error) {
	var changed []string
	for _, t := range tables {
		var ttl, grace int
		var compaction map[string]string
		err := s.Query(`SELECT default_time_to_live, gc_grace_seconds, compaction FROM system_schema.tables
			WHERE keyspace_name = ? AND table_name = ?`, ks, t.Name).ScanContext(ctx, &ttl, &grace, &compaction)
		if errors.Is(err, gocql.ErrNotFound) {
			return changed, fmt.Errorf("retention of %s.%s: no such table (run the migrations first)", ks, t.Name)
		}
		if err != nil {
			return changed, fmt.Errorf("read the options of %s.%s: %w", ks, t.Name, err)
		}
		wantTTL, wantGrace := int(t.TTL/time.Second), int(t.GCGrace/time.Second)
		var diff []string
		if ttl != wantTTL {
			diff = append(diff, fmt.Sprintf("default_time_to_live %d -> %d", ttl, wantTTL))
		}
		if grace != wantGrace {
			diff = append(diff, fmt.Sprintf("gc_grace_seconds %d -> %d", grace, wantGrace))
		}
		if !sameCompaction(compaction, t.Compaction) {
			diff = append(diff, fmt.Sprintf("compaction %s -> %s", shortClass(compaction["class"]), t.Compaction["class"]))
		}
		if len(diff) == 0 {
			continue
		}
		stmt := fmt.Sprintf("ALTER TABLE %s.%s WITH default_time_to_live = %d AND gc_grace_seconds = %d AND compaction = %s",
			ks, t.Name, wantTTL, wantGrace, cqlMap(t.Compaction))
		if err := s.Query(stmt).ExecContext(ctx); err != nil {
			return changed, fmt.Errorf("set the retention of %s.%s (%s): %w", ks, t.Name, strings.Join(diff, ", "), err)
		}
		changed = append(changed, t.Name+": "+strings.Join(diff, ", "))
	}
	return changed, nil
}

// sameCompaction: the class matches (Cassandra reports it fully qualified) and every option the
// policy sets has its value; options the policy leaves out are Cassandra's defaults.
func sameCompaction(have, want map[string]string) bool {
	if shortClass(have["class"]) != want["class"] {
		return false
	}
	for k, v := range want {
		if k != "class" && have[k] != v {
			return false
		}
	}
	return true
}

func shortClass(c string) string { return c[strings.LastIndex(c, ".")+1:] }

func cqlMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = cqlString(k) + ": " + cqlString(m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
