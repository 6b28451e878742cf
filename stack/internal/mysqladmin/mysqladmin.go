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
	RoleJob       Role = iota // read everything; write aggregated_data and agg_batches
	RoleProducer              // read profile; read/write id_blocks
	RoleDashboard             // read only
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
// each host and grant it exactly its role's privileges on database db. Grants only add; they are
// safe to run again.
func UserStatements(db string, accounts []Account, hosts []string) []Stmt {
	var out []Stmt
	for _, acc := range accounts {
		for _, h := range hosts {
			who := fmt.Sprintf("'%s'@'%s'", acc.Name, h)
			out = append(out,
				Stmt{SQL: "CREATE USER IF NOT EXISTS " + who + " IDENTIFIED BY ?", Args: []any{acc.Password}},
				Stmt{SQL: "ALTER USER " + who + " IDENTIFIED BY ?", Args: []any{acc.Password}})
			for _, g := range grants(acc.Role) {
				out = append(out, Stmt{SQL: fmt.Sprintf("GRANT %s ON `%s`.%s TO %s", g.privs, db, g.on, who)})
			}
		}
	}
	return out
}

type grant struct{ privs, on string }

func grants(r Role) []grant {
	switch r {
	case RoleJob:
		return []grant{
			{"SELECT", "*"},
			{"INSERT, UPDATE, DELETE", "`aggregated_data`"},
			{"INSERT, UPDATE, DELETE", "`agg_batches`"},
		}
	case RoleProducer:
		return []grant{
			{"SELECT", "`profile`"},
			{"SELECT, INSERT, UPDATE", "`id_blocks`"},
		}
	case RoleDashboard:
		return []grant{{"SELECT", "*"}}
	}
	return nil
}

// EnsureUsers runs UserStatements for this database. Passwords are never logged.
func (a *Admin) EnsureUsers(ctx context.Context, accounts []Account, hosts []string, logger *slog.Logger) error {
	for _, s := range UserStatements(a.dbName, accounts, hosts) {
		if _, err := a.db.ExecContext(ctx, s.SQL, s.Args...); err != nil {
			return fmt.Errorf("user setup %q: %w", redact(s), err)
		}
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
	cfg, err := mysql.ParseDSN(adminDSN)
	if err != nil {
		return fmt.Errorf("parse MYSQL_ADMIN_DSN: %w", err)
	}
	cfg.DBName = ""
	cfg.Timeout = 10 * time.Second
	server, err := connect(ctx, cfg)
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

// Databases lists the databases whose names start with prefix.
func Databases(ctx context.Context, adminDSN, prefix string) ([]string, error) {
	cfg, err := mysql.ParseDSN(adminDSN)
	if err != nil {
		return nil, fmt.Errorf("parse MYSQL_ADMIN_DSN: %w", err)
	}
	cfg.DBName = ""
	cfg.Timeout = 10 * time.Second
	server, err := connect(ctx, cfg)
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
