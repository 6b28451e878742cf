package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"idxstream/stack/internal/cassadmin"
	"idxstream/stack/internal/config"
	"idxstream/stack/internal/sparkprobe"
)

// errDown is runStatus's answer when a service is down; the table already says which.
var errDown = errors.New("not every service is up")

// statusRow is one line of the status table: SERVICE STATE ADDRESS.
type statusRow struct {
	Name, State, Address string
}

// probeFunc asks the service a row names for a real answer and returns a note for the table
// ("1 ALIVE at the master"); an error makes the row down. A name it does not know is up as the
// launcher says (errUnprobed).
type probeFunc func(ctx context.Context, name string) (note string, err error)

var errUnprobed = errors.New("no probe for this service")

// runStatus prints the status table to w. With cfg.Table "-", the rows are the launcher's
// (read from in: its processes and their addresses) and only those it reports up are probed;
// otherwise every service is probed at its configured address (Docker, or a stack started
// elsewhere).
func runStatus(ctx context.Context, cfg config.Config, in io.Reader, w io.Writer) error {
	var rows []statusRow
	if cfg.Table == "-" {
		var err error
		if rows, err = readStatusRows(in); err != nil {
			return err
		}
	} else {
		rows = defaultStatusRows(cfg)
	}
	quiet := slog.New(slog.DiscardHandler)
	rows = probeRows(ctx, rows, func(ctx context.Context, name string) (string, error) {
		return probeService(ctx, cfg, name, quiet)
	})
	fmt.Fprintf(w, "%-14s %-5s %s\n", "SERVICE", "STATE", "ADDRESS")
	ok := true
	for _, r := range rows {
		fmt.Fprintf(w, "%-14s %-5s %s\n", r.Name, r.State, r.Address)
		ok = ok && r.State == "up"
	}
	if !ok {
		return errDown
	}
	return nil
}

// readStatusRows parses the launcher's lines "NAME STATE ADDRESS..." (blank lines skipped); a
// line with a name only counts as down.
func readStatusRows(in io.Reader) ([]statusRow, error) {
	var rows []statusRow
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		r := statusRow{Name: f[0], State: "down"}
		if len(f) > 1 {
			r.State = f[1]
		}
		if len(f) > 2 {
			r.Address = strings.Join(f[2:], " ")
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the launcher's status rows: %w", err)
	}
	return rows, nil
}

// defaultStatusRows are the stack's services at the addresses stackctl is configured with, all
// assumed up until probed.
func defaultStatusRows(cfg config.Config) []statusRow {
	cass := make([]string, len(cfg.CassandraHosts))
	for i, h := range cfg.CassandraHosts {
		cass[i] = h
		if !strings.Contains(h, ":") {
			cass[i] = fmt.Sprintf("%s:%d", h, cfg.CassandraPort)
		}
	}
	return []statusRow{
		{"mysql", "up", cfg.MySQLAddr},
		{"kafka", "up", strings.Join(cfg.KafkaBrokers, ",")},
		{"cassandra", "up", strings.Join(cass, ",")},
		{"spark-master", "up", cfg.SparkMasterUI},
		{"spark-worker", "up", ""}, // known through the master
		{"spark-connect", "up", cfg.SparkRemote},
	}
}

// probeRows probes, side by side, every row that is up and returns the rows with the probes'
// verdicts: a failed probe makes its row down, with the reason after the address.
func probeRows(ctx context.Context, rows []statusRow, probe probeFunc) []statusRow {
	out := make([]statusRow, len(rows))
	copy(out, rows)
	var wg sync.WaitGroup
	for i := range out {
		if out[i].State != "up" {
			continue
		}
		wg.Go(func() {
			note, err := probe(ctx, out[i].Name)
			switch {
			case errors.Is(err, errUnprobed):
			case err != nil:
				out[i].State = "down"
				out[i].Address = joinNote(out[i].Address, "does not answer: "+oneLine(err.Error(), 200))
			case note != "":
				out[i].Address = joinNote(out[i].Address, note)
			}
		})
	}
	wg.Wait()
	return out
}

func joinNote(addr, note string) string {
	if addr == "" {
		return "(" + note + ")"
	}
	return addr + " (" + note + ")"
}

// oneLine puts an error of several lines (errors.Join) on one, at most max bytes long.
func oneLine(s string, max int) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// probeService is status's real request per service: the readiness check of wait under a short
// deadline, so that a server that does not answer shows as down within seconds.
func probeService(ctx context.Context, cfg config.Config, name string, logger *slog.Logger) (string, error) {
	within := 10 * time.Second
	var svc string
	switch name {
	case "mariadb", "mysql":
		svc = config.SvcMySQL
	case "kafka":
		svc = config.SvcKafka
	case "cassandra":
		// as wait cassandra, without the driver's warnings about each pool connection it retries
		ctx, cancel := context.WithTimeout(ctx, within)
		defer cancel()
		cl := cassadmin.WithLogin(cassadmin.Cluster(cfg.CassandraHosts, cfg.CassandraPort), login(cfg.CassandraAdmin))
		cl.Logger = gocql.NewLogger(gocql.LogLevelError)
		_, err := cassadmin.Wait(ctx, cl)
		return "", err
	case "spark-master", "spark-worker":
		ctx, cancel := context.WithTimeout(ctx, within)
		defer cancel()
		m, err := sparkprobe.ReadMaster(ctx, cfg.SparkMasterUI)
		if err != nil {
			return "", err
		}
		if m.Status != "ALIVE" {
			return "", fmt.Errorf("the master is %s", m.Status)
		}
		if name == "spark-master" {
			return "", nil
		}
		return workerNote(m)
	case "spark-connect":
		if cfg.SparkSecret == "" {
			return "", errors.New("SPARK_CONNECT_SECRET is not set (nor in .env)")
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // a new Connect session on a busy machine
		defer cancel()
		err := sparkprobe.Probe(ctx, cfg.SparkRemote, config.SparkSecretHeader, cfg.SparkSecret)
		if sparkprobe.Unauthenticated(err) {
			return "answers, but refuses SPARK_CONNECT_SECRET of .env", nil
		}
		return "", err
	default:
		return "", errUnprobed
	}
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	_, err := waitFor(ctx, cfg, svc, logger)
	return "", err
}

// workerNote describes the ALIVE workers of m, or fails when there is none.
func workerNote(m sparkprobe.Master) (string, error) {
	cores, mem := 0, 0
	for _, w := range m.Workers {
		if w.State == "ALIVE" {
			cores += w.Cores
			mem += w.Memory
		}
	}
	n := m.AliveWorkers()
	if n == 0 {
		return "", fmt.Errorf("no ALIVE worker at the master (%d listed)", len(m.Workers))
	}
	return fmt.Sprintf("%d ALIVE at the master: %d cores, %d MiB", n, cores, mem), nil
}
