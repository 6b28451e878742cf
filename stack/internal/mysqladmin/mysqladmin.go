// Package mysqladmin is stackctl's one door to MySQL/MariaDB as an administrator: it creates the
// database, runs migrations (a migrate.Executor over schema_migrations), creates the
// least-privilege users with their grants and keeps settings.market_tz_offset in step with
// MARKET_TZ.
package mysqladmin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Admin is an administrative connection to one database.
type Admin struct {
	db     *sql.DB
	dbName string
}

// Open connects with adminDSN (go-sql-driver form, e.g. root@unix(/path/mysqld.sock)/ or
// root:pw@tcp(127.0.0.1:3306)/), creates database dbName if missing and returns a connection
// to it. The caller closes it.
func Open(ctx context.Context, adminDSN, dbName string) (*Admin, error) {
	cfg, err := mysql.ParseDSN(adminDSN)
	if err != nil {
		return nil, fmt.Errorf("parse MYSQL_ADMIN_DSN: %w", err)
	}
	cfg.DBName = ""
	cfg.InterpolateParams = true // placeholders in CREATE USER … IDENTIFIED BY ?
	cfg.ParseTime = true
	cfg.Timeout = 10 * time.Second
	server, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	_, err = server.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+dbName+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	server.Close()
	if err != nil {
		return nil, fmt.Errorf("create database %s: %w", dbName, err)
	}
	cfg.DBName = dbName
	db, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Admin{db: db, dbName: dbName}, nil
}

func connect(ctx context.Context, cfg *mysql.Config) (*sql.DB, error) {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql connector: %w", err)
	}
	db := sql.OpenDB(conn)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to mysql at %s %s as %s: %w", cfg.Net, cfg.Addr, cfg.User, err)
	}
	return db, nil
}

// Close closes the connection pool.
func (a *Admin) Close() error { return a.db.Close() }

// EnsureTable implements migrate.Executor.
func (a *Admin) EnsureTable(ctx context.Context) error {
	_, err := a.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
    file_name  VARCHAR(255) NOT NULL PRIMARY KEY,
    checksum   CHAR(64)     NOT NULL,
    applied_at DATETIME(6)  NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`)
	return err
}

// Applied implements migrate.Executor.
func (a *Admin) Applied(ctx context.Context) (map[string]string, error) {
	rows, err := a.db.QueryContext(ctx, "SELECT file_name, checksum FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, sum string
		if err := rows.Scan(&name, &sum); err != nil {
			return nil, err
		}
		out[name] = sum
	}
	return out, rows.Err()
}

// Exec implements migrate.Executor.
func (a *Admin) Exec(ctx context.Context, stmt string) error {
	_, err := a.db.ExecContext(ctx, stmt)
	return err
}

// Record implements migrate.Executor.
func (a *Admin) Record(ctx context.Context, name, checksum string, at time.Time) error {
	_, err := a.db.ExecContext(ctx,
		"INSERT INTO schema_migrations (file_name, checksum, applied_at) VALUES (?, ?, ?)", name, checksum, at)
	return err
}

// Role is what a user may do.
type Role int

// The three application roles of docs/contracts.md.
const (
	RoleJob       Role = iota // read and write aggregated_data, agg_batches, agg_stage, trade_ids and job_lease; read profile and settings
	RoleProducer              // read profile; read/write id_blocks
	RoleDashboard             // read the views it shows, market_today and profile
)

// Account is one application user.
type Account struct {
	Name     string
	Password string
	Role     Role
}

// Stmt is a statement with its arguments (interpolated client-side).
type Stmt struct {
	SQL  string
	Args []any
}

// UserStatements returns the statements that create (or update the password of) each account for
// each host and grant it its role's privileges on database db, table by table. Grants only add;
// Reconcile takes away what a role no longer has. They are safe to run again.
func UserStatements(db string, accounts []Account, hosts []string) []Stmt {
	var out []Stmt
	for _, acc := range accounts {
		for _, h := range hosts {
			who := fmt.Sprintf("'%s'@'%s'", acc.Name, h)
			out = append(out,
				Stmt{SQL: "CREATE USER IF NOT EXISTS " + who + " IDENTIFIED BY ?", Args: []any{acc.Password}},
				Stmt{SQL: "ALTER USER " + who + " IDENTIFIED BY ?", Args: []any{acc.Password}})
			for _, g := range Grants(acc.Role) {
				out = append(out, Stmt{SQL: fmt.Sprintf("GRANT %s ON `%s`.`%s` TO %s", strings.Join(g.Privileges, ", "), db, g.Table, who)})
			}
		}
	}
	return out
}

// Grant is what a role may do on one table or view.
type Grant struct {
	Table      string
	Privileges []string // upper case, in MySQL's order: SELECT, INSERT, UPDATE, DELETE
}

// Grants is every privilege of role r, table by table: the list of docs/contracts.md.
func Grants(r Role) []Grant {
	rw := []string{"SELECT", "INSERT", "UPDATE", "DELETE"}
	ro := []string{"SELECT"}
	switch r {
	case RoleJob:
		return []Grant{{"aggregated_data", rw}, {"agg_batches", rw}, {"agg_stage", rw}, {"trade_ids", rw},
			{"job_lease", []string{"SELECT", "INSERT", "UPDATE"}}, {"profile", ro}, {"settings", ro}}
	case RoleProducer:
		return []Grant{{"profile", ro}, {"id_blocks", []string{"SELECT", "INSERT", "UPDATE"}}}
	case RoleDashboard:
		return []Grant{{"volume_today", ro}, {"volume_timeline_today", ro}, {"last_batch", ro}, {"market_today", ro}, {"profile", ro}}
	}
	return nil
}

// EnsureUsers runs UserStatements for this database, then Reconcile. Passwords are never logged.
func (a *Admin) EnsureUsers(ctx context.Context, accounts []Account, hosts []string, logger *slog.Logger) error {
	for _, s := range UserStatements(a.dbName, accounts, hosts) {
		if _, err := a.db.ExecContext(ctx, s.SQL, s.Args...); err != nil {
			return fmt.Errorf("user setup %q: %w", redact(s), err)
		}
	}
	if err := a.Reconcile(ctx, accounts, hosts, logger); err != nil {
		return err
	}
	for _, acc := range accounts {
		logger.Info("user ready", "user", acc.Name, "hosts", hosts)
	}
	return nil
}

func redact(s Stmt) string {
	if len(s.Args) > 0 {
		return s.SQL + " [password hidden]"
	}
	return s.SQL
}

// Reconcile revokes every privilege an account holds on this database beyond its role's Grants
// (database-wide grants, other tables, extra privileges), so that an upgraded stack ends with the
// same grants as a new one.
func (a *Admin) Reconcile(ctx context.Context, accounts []Account, hosts []string, logger *slog.Logger) error {
	for _, acc := range accounts {
		want := map[string]string{}
		for _, g := range Grants(acc.Role) {
			want[strings.ToLower(g.Table)] = strings.Join(g.Privileges, ",")
		}
		for _, h := range hosts {
			who := fmt.Sprintf("'%s'@'%s'", acc.Name, h)
			var dbWide int
			if err := a.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.db WHERE User = ? AND Host = ? AND Db = ?", acc.Name, h, a.dbName).Scan(&dbWide); err != nil {
				return fmt.Errorf("read grants of %s: %w", who, err)
			}
			if dbWide > 0 {
				if _, err := a.db.ExecContext(ctx, fmt.Sprintf("REVOKE ALL PRIVILEGES ON `%s`.* FROM %s", a.dbName, who)); err != nil {
					return fmt.Errorf("revoke database-wide grants of %s: %w", who, err)
				}
				logger.Info("revoked a database-wide grant the role no longer has", "user", who, "database", a.dbName)
			}
			rows, err := a.db.QueryContext(ctx, "SELECT Table_name, Table_priv FROM mysql.tables_priv WHERE User = ? AND Host = ? AND Db = ?", acc.Name, h, a.dbName)
			if err != nil {
				return fmt.Errorf("read table grants of %s: %w", who, err)
			}
			type tp struct{ table, privs string }
			var held []tp
			for rows.Next() {
				var x tp
				if err := rows.Scan(&x.table, &x.privs); err != nil {
					rows.Close()
					return err
				}
				held = append(held, x)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, x := range held {
				w, ok := want[strings.ToLower(x.table)]
				if ok && strings.EqualFold(x.privs, w) {
					continue
				}
				if _, err := a.db.ExecContext(ctx, fmt.Sprintf("REVOKE ALL PRIVILEGES ON `%s`.`%s` FROM %s", a.dbName, x.table, who)); err != nil {
					return fmt.Errorf("revoke grants on %s from %s: %w", x.table, who, err)
				}
				if ok {
					if _, err := a.db.ExecContext(ctx, fmt.Sprintf("GRANT %s ON `%s`.`%s` TO %s", strings.ReplaceAll(w, ",", ", "), a.dbName, x.table, who)); err != nil {
						return fmt.Errorf("grant on %s to %s: %w", x.table, who, err)
					}
				}
				logger.Info("narrowed a table grant to the role's", "user", who, "table", x.table, "had", x.privs, "now", w)
			}
		}
	}
	return nil
}

// TZOffset formats the UTC offset of loc at instant t as MySQL's CONVERT_TZ wants it: "+07:00".
func TZOffset(loc *time.Location, t time.Time) string {
	_, off := t.In(loc).Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}

// SetMarketTZ stores the zone name and its current UTC offset in the settings table.
func (a *Admin) SetMarketTZ(ctx context.Context, zone string, now time.Time) (string, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return "", fmt.Errorf("load MARKET_TZ %q: %w", zone, err)
	}
	off := TZOffset(loc, now)
	_, err = a.db.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('market_tz', ?), ('market_tz_offset', ?)
ON DUPLICATE KEY UPDATE value = VALUES(value)`, zone, off)
	if err != nil {
		return "", fmt.Errorf("update settings.market_tz_offset: %w", err)
	}
	return off, nil
}

// Wait pings the server with adminDSN until it answers or ctx ends.
func Wait(ctx context.Context, adminDSN string) error {
	cfg, err := mysql.ParseDSN(adminDSN)
	if err != nil {
		return fmt.Errorf("parse MYSQL_ADMIN_DSN: %w", err)
	}
	cfg.DBName = ""
	cfg.Timeout = 5 * time.Second
	var last error
	for {
		db, err := connect(ctx, cfg)
		if err == nil {
			db.Close()
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for mysql: %w", errors.Join(ctx.Err(), last))
		case <-time.After(time.Second):
		}
	}
}

// QueryRow runs a query that returns one row and scans it into dest.
func (a *Admin) QueryRow(ctx context.Context, query string, dest ...any) error {
	return a.db.QueryRowContext(ctx, query).Scan(dest...)
}

// DropDatabase revokes every privilege granted on database db (database- and table-level, for
// any account) and drops it. A database that does not exist is not an error. MariaDB keeps grants
// on a dropped database, so without the revokes a later database of the same name would inherit
// them.
func DropDatabase(ctx context.Context, adminDSN, db string) error {
	server, err := serverConn(ctx, adminDSN)
	if err != nil {
		return err
	}
	defer server.Close()
	type who struct{ user, host, table string }
	var grants []who
	for _, q := range []string{
		"SELECT User, Host, Table_name FROM mysql.tables_priv WHERE Db = ?",
		"SELECT User, Host, '' FROM mysql.db WHERE Db = ?",
	} {
		rows, err := server.QueryContext(ctx, q, db)
		if err != nil {
			return fmt.Errorf("list grants on %s: %w", db, err)
		}
		for rows.Next() {
			var w who
			if err := rows.Scan(&w.user, &w.host, &w.table); err != nil {
				rows.Close()
				return fmt.Errorf("list grants on %s: %w", db, err)
			}
			grants = append(grants, w)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list grants on %s: %w", db, err)
		}
	}
	for _, g := range grants {
		on := "`" + db + "`.*"
		if g.table != "" {
			on = "`" + db + "`.`" + g.table + "`"
		}
		if _, err := server.ExecContext(ctx, fmt.Sprintf("REVOKE ALL PRIVILEGES ON %s FROM '%s'@'%s'", on, g.user, g.host)); err != nil {
			return fmt.Errorf("revoke grants on %s from %s@%s: %w", on, g.user, g.host, err)
		}
	}
	if _, err := server.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+db+"`"); err != nil {
		return fmt.Errorf("drop database %s: %w", db, err)
	}
	return nil
}

// serverConn connects with adminDSN to the server, no database selected.
func serverConn(ctx context.Context, adminDSN string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(adminDSN)
	if err != nil {
		return nil, fmt.Errorf("parse MYSQL_ADMIN_DSN: %w", err)
	}
	cfg.DBName = ""
	cfg.Timeout = 10 * time.Second
	return connect(ctx, cfg)
}

// Databases lists the databases whose names start with prefix.
func Databases(ctx context.Context, adminDSN, prefix string) ([]string, error) {
	server, err := serverConn(ctx, adminDSN)
	if err != nil {
		return nil, err
	}
	defer server.Close()
	rows, err := server.QueryContext(ctx, "SELECT schema_name FROM information_schema.schemata WHERE LEFT(schema_name, ?) = ? ORDER BY 1", len(prefix), prefix)
	if err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// DB returns the connection pool to the database, for read-only digests (package fingerprint).
func (a *Admin) DB() *sql.DB { return a.db }

// Harden leaves no account that answers without a password. On MariaDB the superusers root and
// osUser (the operating-system user who runs the stack) are made to log in through the unix socket
// as that operating-system user (unix_socket authentication, which TCP cannot offer); every other
// account with an empty password is dropped (older native stacks had root@127.0.0.1 and root@::1
// without one). Locked system accounts (mariadb.sys, mysql.*) are kept.
func (a *Admin) Harden(ctx context.Context, osUser string, logger *slog.Logger) error {
	var version string
	if err := a.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return fmt.Errorf("server version: %w", err)
	}
	mariadb := strings.Contains(version, "MariaDB")
	if mariadb {
		stmts := []string{}
		if osUser != "" && osUser != "root" && validUser(osUser) {
			stmts = append(stmts,
				fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'localhost' IDENTIFIED VIA unix_socket", osUser),
				fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO '%s'@'localhost' WITH GRANT OPTION", osUser))
		}
		for _, s := range stmts {
			if _, err := a.db.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("harden: %s: %w", s, err)
			}
		}
	}
	rows, err := a.db.QueryContext(ctx, `SELECT user, host FROM mysql.user
		WHERE authentication_string = '' AND plugin IN ('', 'mysql_native_password', 'caching_sha2_password')
		AND user <> 'mariadb.sys' AND user NOT LIKE 'mysql.%'`)
	if err != nil {
		return fmt.Errorf("harden: list accounts: %w", err)
	}
	type account struct{ user, host string }
	var open []account
	for rows.Next() {
		var acc account
		if err := rows.Scan(&acc.user, &acc.host); err != nil {
			rows.Close()
			return err
		}
		open = append(open, acc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, acc := range open {
		who := fmt.Sprintf("'%s'@'%s'", strings.ReplaceAll(acc.user, "'", "''"), strings.ReplaceAll(acc.host, "'", "''"))
		stmt := "DROP USER " + who
		if mariadb && acc.user == "root" && acc.host == "localhost" {
			stmt = "ALTER USER " + who + " IDENTIFIED VIA unix_socket"
		}
		if _, err := a.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("harden: %s: %w", stmt, err)
		}
		logger.Info("account without a password closed", "account", who, "action", strings.Fields(stmt)[0])
	}
	return nil
}

func validUser(s string) bool {
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}
