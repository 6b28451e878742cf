package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/go-sql-driver/mysql"

	"idxstream/stack/internal/cassadmin"
	"idxstream/stack/internal/config"
	"idxstream/stack/internal/kafkaadmin"
	"idxstream/stack/internal/sparkprobe"
)

// runPreflight checks what every test run needs before any test starts, and names the cause and
// the fix of each problem: the stack's servers answer, and the passwords in ./.env are the ones
// the running stack was brought up with (a fresh clone beside a stack started from another
// checkout has none, or other ones).
func runPreflight(ctx context.Context, cfg config.Config, w io.Writer) error {
	var problems []error
	check := func(what string, err error) {
		if err != nil {
			fmt.Fprintf(w, "  %-34s FAIL: %v\n", what, err)
			problems = append(problems, fmt.Errorf("%s: %w", what, err))
			return
		}
		fmt.Fprintf(w, "  %-34s ok\n", what)
	}
	wd, _ := os.Getwd()
	secrets := filepath.Join(cfg.StackHome, "secrets.env")
	if _, err := os.Stat(".env"); err != nil {
		hint := "run `make up`: it writes one"
		if _, err := os.Stat(secrets); err == nil {
			hint = fmt.Sprintf("the running stack's secrets are in %s: `make up` copies them here (or copy the file yourself)", secrets)
		}
		check(".env", fmt.Errorf("no .env in %s; %s", wd, hint))
	} else {
		check(".env", nil)
	}
	for _, u := range []struct {
		env  string
		user config.User
	}{{"MYSQL_JOB", cfg.JobUser}, {"MYSQL_PRODUCER", cfg.ProducerUser}, {"MYSQL_DASHBOARD", cfg.DashboardUser}} {
		check("mysql login "+u.user.Name, mysqlLogin(ctx, cfg, u.env, u.user, secrets))
	}
	check("kafka "+fmt.Sprint(cfg.KafkaBrokers), kafkaAnswers(ctx, cfg))
	check("cassandra "+fmt.Sprint(cfg.CassandraHosts), cassandraAnswers(ctx, cfg))
	check("spark connect "+cfg.SparkRemote, sparkAnswers(ctx, cfg))
	if len(problems) > 0 {
		return fmt.Errorf("the stack is not ready for tests: %w", errors.Join(problems...))
	}
	return nil
}

func mysqlLogin(ctx context.Context, cfg config.Config, env string, u config.User, secrets string) error {
	if u.Password == "" {
		return fmt.Errorf("%s_PASSWORD is empty (not in the environment nor in .env): run `make up`", env)
	}
	mc := mysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName = u.Name, u.Password, "tcp", cfg.MySQLAddr, cfg.MySQLDatabase
	mc.Timeout = 5 * time.Second
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	err = db.PingContext(ctx)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1045 { // ER_ACCESS_DENIED_ERROR
		return fmt.Errorf("MySQL at %s refuses %s with %s_PASSWORD from .env: this .env does not match the running stack, "+
			"which was brought up with %s (copy that file to .env, or run `make up` to give the stack this .env's passwords)",
			cfg.MySQLAddr, u.Name, env, secrets)
	}
	if err != nil {
		return fmt.Errorf("MySQL at %s: %w (is the stack up? `make up`)", cfg.MySQLAddr, err)
	}
	return nil
}

func kafkaAnswers(ctx context.Context, cfg config.Config) error {
	adm, err := kafkaadmin.New(cfg.KafkaBrokers, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer adm.Close()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err = adm.Wait(ctx)
	return err
}

func cassandraAnswers(ctx context.Context, cfg config.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// The programs' roles must log in: the job's and the dashboard's passwords of .env.
	for _, u := range []config.User{cfg.CassandraJob, cfg.CassandraDashboard} {
		s, err := cassadmin.WithLogin(cassadmin.Cluster(cfg.CassandraHosts, cfg.CassandraPort), login(u)).CreateSession()
		if cassadmin.BadCredentials(err) {
			return fmt.Errorf("Cassandra refuses role %s with the password of .env: this .env does not match the running stack "+
				"(copy %s to .env, or run `make up` to give the roles this .env's passwords)", u.Name, filepath.Join(cfg.StackHome, "secrets.env"))
		}
		if err != nil {
			return fmt.Errorf("%w (is the stack up? `make up`)", err)
		}
		s.Close()
	}
	_, err := cassadmin.Wait(ctx, cassadmin.WithLogin(cassadmin.Cluster(cfg.CassandraHosts, cfg.CassandraPort), login(cfg.CassandraAdmin)))
	return err
}

func sparkAnswers(ctx context.Context, cfg config.Config) error {
	if cfg.SparkSecret == "" {
		return errors.New("SPARK_CONNECT_SECRET is empty (not in the environment nor in .env): run `make up`")
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := sparkprobe.Probe(ctx, cfg.SparkRemote, config.SparkSecretHeader, cfg.SparkSecret)
	if sparkprobe.Unauthenticated(err) {
		return fmt.Errorf("Spark Connect refuses SPARK_CONNECT_SECRET from .env: this .env does not match the running stack (copy %s to .env, "+
			"or `bash stack/stack.sh restart spark` to give the server this .env's secret)", filepath.Join(cfg.StackHome, "secrets.env"))
	}
	if err != nil {
		return fmt.Errorf("%w (is the stack up? `make up`)", err)
	}
	return nil
}
