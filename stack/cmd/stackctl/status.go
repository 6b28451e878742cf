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
	"idxstream/stack/internal/kafkaadmin"
	"idxstream/stack/internal/sparkprobe"
)

// errDown is runStatus's answer when a service is down; the table already says which.
var errDown = errors.New("not every service is up")

// statusRow is one line of the status table: SERVICE STATE ADDRESS.
type statusRow struct {
	Name, State, Address string
}

// probeFunc asks the service of a row for a real answer and returns a note for the table
// ("1 ALIVE at the master"); an error makes the row down. A name it does not know is up as the
// launcher says (errUnprobed).
type probeFunc func(ctx context.Context, row statusRow) (note string, err error)

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
	rows = probeRows(ctx, rows, func(ctx context.Context, row statusRow) (string, error) {
		return probeService(ctx, cfg, row, quiet)
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
			note, err := probe(ctx, out[i])
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

// probeWithin bounds each probe, so that a server that does not answer shows as down within
// seconds.
const probeWithin = 10 * time.Second

// probeService is status's real request for a row: the readiness check of wait under a short
// deadline for a service (kafka, cassandra, ...), or a request to that node alone for a node of a
// cluster (probeNode).
func probeService(ctx context.Context, cfg config.Config, row statusRow, logger *slog.Logger) (string, error) {
	if kind, ok := nodeKind(row.Name); ok {
		return probeNode(ctx, cfg, kind, rowAddress(row), logger)
	}
	var svc string
	switch row.Name {
	case "mariadb", "mysql":
		svc = config.SvcMySQL
	case "kafka":
		svc = config.SvcKafka
	case "cassandra":
		// as wait cassandra, without the driver's warnings about each pool connection it retries
		ctx, cancel := context.WithTimeout(ctx, probeWithin)
		defer cancel()
		cl := cassadmin.WithLogin(cassadmin.Cluster(cfg.CassandraHosts, cfg.CassandraPort), login(cfg.CassandraAdmin))
		cl.Logger = gocql.NewLogger(gocql.LogLevelError)
		_, err := cassadmin.Wait(ctx, cl)
		return "", err
	case "spark-master", "spark-worker":
		ctx, cancel := context.WithTimeout(ctx, probeWithin)
		defer cancel()
		m, err := aliveMaster(ctx, cfg)
		if err != nil || row.Name == "spark-master" {
			return "", err
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
	ctx, cancel := context.WithTimeout(ctx, probeWithin)
	defer cancel()
	_, err := waitFor(ctx, cfg, svc, logger)
	return "", err
}

// nodeKind tells a row of one node of a cluster (kafka-1, cassandra-2, spark-worker-1: the
// service, a dash, a number from 1) and returns its service (config.SvcKafka, SvcCassandra,
// SvcSparkWorker). The single-node names (kafka, cassandra, spark-worker) are not nodes.
func nodeKind(name string) (string, bool) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return "", false
	}
	svc, n := name[:i], name[i+1:]
	if n == "" || n[0] == '0' || strings.Trim(n, "0123456789") != "" {
		return "", false
	}
	switch svc {
	case config.SvcKafka, config.SvcCassandra, config.SvcSparkWorker:
		return svc, true
	}
	return "", false
}

// rowAddress is the address a row gives its process: the first field of its address column
// ("127.0.0.2:9092"), without the notes after it.
func rowAddress(r statusRow) string {
	if f := strings.Fields(r.Address); len(f) > 0 {
		return f[0]
	}
	return ""
}

// probeNode asks the node of service kind at addr, and no other node of its cluster: a Kafka
// client seeded with addr alone asks that broker for the metadata; a Cassandra session whose host
// filter admits that node only reads its system.local, logged in as the stack's superuser; the
// Spark master must list an ALIVE worker whose web UI is at addr.
func probeNode(ctx context.Context, cfg config.Config, kind, addr string, logger *slog.Logger) (string, error) {
	if addr == "" {
		return "", errors.New("the launcher's row gives no address")
	}
	ctx, cancel := context.WithTimeout(ctx, probeWithin)
	defer cancel()
	switch kind {
	case config.SvcKafka:
		node, n, err := kafkaadmin.ProbeBroker(ctx, addr, logger)
		if err != nil {
			return "", err
		}
		return brokerNote(addr, node, n), nil
	case config.SvcCassandra:
		cl, err := cassadmin.Node(ctx, addr, cfg.CassandraPort)
		if err != nil {
			return "", err
		}
		cl = cassadmin.WithLogin(cl, login(cfg.CassandraAdmin))
		cl.Logger = gocql.NewLogger(gocql.LogLevelError)
		_, err = cassadmin.Wait(ctx, cl)
		return "", err
	case config.SvcSparkWorker:
		m, err := aliveMaster(ctx, cfg)
		if err != nil {
			return "", err
		}
		return workerAtNote(m, addr)
	}
	return "", errUnprobed
}

// brokerNote describes a broker's answer to ProbeBroker: its node id in the metadata it served,
// or that no broker listed there advertises addr (clients sent to it would look elsewhere).
func brokerNote(addr string, node int32, brokers int) string {
	if node < 0 {
		return fmt.Sprintf("answers, but none of the %d brokers it lists advertises %s", brokers, addr)
	}
	return fmt.Sprintf("node %d of %d brokers", node, brokers)
}

// aliveMaster reads the Spark master's state and fails unless the master leads (ALIVE).
func aliveMaster(ctx context.Context, cfg config.Config) (sparkprobe.Master, error) {
	m, err := sparkprobe.ReadMaster(ctx, cfg.SparkMasterUI)
	if err != nil {
		return m, err
	}
	if m.Status != "ALIVE" {
		return m, fmt.Errorf("the master is %s", m.Status)
	}
	return m, nil
}

// workerAtNote describes the worker of m whose web UI is at addr, or fails when the master lists
// none there or not as ALIVE.
func workerAtNote(m sparkprobe.Master, addr string) (string, error) {
	w, ok := m.WorkerAt(addr)
	if !ok {
		return "", fmt.Errorf("the master lists no worker with its web UI at %s (%d listed)", addr, len(m.Workers))
	}
	if w.State != "ALIVE" {
		return "", fmt.Errorf("the master lists the worker at %s as %s", addr, w.State)
	}
	return fmt.Sprintf("ALIVE at the master: %d cores, %d MiB", w.Cores, w.Memory), nil
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
