package mysqladmin

import (
	"strings"
	"testing"
	"time"
)

func TestTZOffset(t *testing.T) {
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		zone string
		want string
	}{
		{"Asia/Jakarta", "+07:00"},
		{"UTC", "+00:00"},
		{"Asia/Kolkata", "+05:30"},
		{"America/New_York", "-04:00"}, // daylight saving in July
		{"America/St_Johns", "-02:30"},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			if got := TZOffset(loc, at); got != tt.want {
				t.Errorf("TZOffset = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestUserStatements(t *testing.T) {
	accounts := []Account{
		{Name: "trading_job", Password: "pj", Role: RoleJob},
		{Name: "trading_producer", Password: "pp", Role: RoleProducer},
		{Name: "trading_dashboard", Password: "pd", Role: RoleDashboard},
	}
	stmts := UserStatements("trading", accounts, []string{"localhost", "127.0.0.1"})
	var sqls []string
	for _, s := range stmts {
		sqls = append(sqls, s.SQL)
		if strings.Contains(s.SQL, "IDENTIFIED BY") {
			if len(s.Args) != 1 {
				t.Errorf("%q: password must be an argument, got %v", s.SQL, s.Args)
			}
		} else if len(s.Args) != 0 {
			t.Errorf("%q has unexpected args", s.SQL)
		}
		for _, pw := range []string{"pj", "pp", "pd"} {
			if strings.Contains(s.SQL, pw) {
				t.Errorf("password spliced into SQL: %q", s.SQL)
			}
		}
	}
	all := strings.Join(sqls, "\n")
	mustHave := []string{
		"CREATE USER IF NOT EXISTS 'trading_job'@'localhost' IDENTIFIED BY ?",
		"ALTER USER 'trading_job'@'127.0.0.1' IDENTIFIED BY ?",
		"GRANT SELECT, INSERT, UPDATE, DELETE ON `trading`.`aggregated_data` TO 'trading_job'@'localhost'",
		"GRANT SELECT, INSERT, UPDATE, DELETE ON `trading`.`agg_batches` TO 'trading_job'@'127.0.0.1'",
		"GRANT SELECT ON `trading`.`profile` TO 'trading_job'@'localhost'",
		"GRANT SELECT ON `trading`.`settings` TO 'trading_job'@'localhost'",
		"GRANT SELECT ON `trading`.`profile` TO 'trading_producer'@'127.0.0.1'",
		"GRANT SELECT, INSERT, UPDATE ON `trading`.`id_blocks` TO 'trading_producer'@'localhost'",
		"GRANT SELECT ON `trading`.`volume_today` TO 'trading_dashboard'@'localhost'",
		"GRANT SELECT ON `trading`.`last_batch` TO 'trading_dashboard'@'127.0.0.1'",
	}
	for _, m := range mustHave {
		if !strings.Contains(all, m) {
			t.Errorf("missing %q", m)
		}
	}
	// Least privilege: nobody gets write access beyond the lists above, nor global privileges.
	mustNot := []string{
		"GRANT ALL", "ON *.*", "TO 'trading_dashboard'@'localhost' WITH",
		"ON `trading`.* ", "INSERT, UPDATE, DELETE ON `trading`.`profile`", "ON `trading`.`aggregated_data` TO 'trading_dashboard'",
	}
	for _, m := range mustNot {
		if strings.Contains(all, m) {
			t.Errorf("unexpected %q", m)
		}
	}
	for _, s := range sqls {
		if strings.Contains(s, "trading_dashboard") && strings.HasPrefix(s, "GRANT") && !strings.HasPrefix(s, "GRANT SELECT ON") {
			t.Errorf("dashboard gets more than SELECT: %q", s)
		}
	}
	if got, want := len(stmts), 2*(2+7)+2*(2+2)+2*(2+5); got != want {
		t.Errorf("%d statements, want %d", got, want)
	}
}

func TestUserStatementsAnyHost(t *testing.T) {
	stmts := UserStatements("db", []Account{{Name: "u", Password: "p", Role: RoleDashboard}}, []string{"localhost", "127.0.0.1", "%"})
	found := false
	for _, s := range stmts {
		if s.SQL == "GRANT SELECT ON `db`.`volume_today` TO 'u'@'%'" {
			found = true
		}
	}
	if !found {
		t.Error("no grant for host '%'")
	}
}
