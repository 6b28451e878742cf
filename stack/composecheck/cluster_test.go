package composecheck

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"idxstream/stack/internal/config"
)

// The cluster topology is docker-compose.cluster.yml merged over docker-compose.yml, as compose
// runs it for `make up TOPOLOGY=cluster` (stack/stack.sh with STACK_TOPOLOGY=cluster). Each
// guarantee is one check of clusterChecks over the merged project; TestCluster runs them on the
// repository's files and TestClusterChecksCatch on mutated copies that one check must refuse.

var clusterFile = filepath.Join(repoRoot, "docker-compose.cluster.yml")

// The nodes of each clustered server, node 1 (the base file's service) first.
var (
	kafkaNodes     = []string{"kafka", "kafka-2", "kafka-3"}
	cassandraNodes = []string{"cassandra", "cassandra-2", "cassandra-3"}
	sparkWorkers   = []string{"spark-worker", "spark-worker-2"}
)

// Container-side ports and paths of the images, as the base file uses them.
const (
	kafkaPlaintextPort = 9092 // the listener published to the host
	cassandraCQLPort   = 9042
	sparkWorkerUIPort  = 8081
	kafkaDataDir       = "/var/lib/kafka/data"
	cassandraDataDir   = "/var/lib/cassandra"
)

// A clusterPort is the host port of one container port of a service.
type clusterPort struct {
	service  string
	target   uint32
	variable string // the variable that sets it
	def      string // its default
}

// clusterPorts are the host ports of the clustered servers: the variable that sets each and its
// default. The header of docker-compose.cluster.yml must name them all.
var clusterPorts = []clusterPort{
	{"kafka", kafkaPlaintextPort, "KAFKA_PORT", "9092"},
	{"kafka-2", kafkaPlaintextPort, "KAFKA_PORT_2", "9094"},
	{"kafka-3", kafkaPlaintextPort, "KAFKA_PORT_3", "9096"},
	{"cassandra", cassandraCQLPort, "CASSANDRA_PORT", "9042"},
	{"cassandra-2", cassandraCQLPort, "CASSANDRA_PORT_2", "9043"},
	{"cassandra-3", cassandraCQLPort, "CASSANDRA_PORT_3", "9044"},
	{"spark-worker", sparkWorkerUIPort, "SPARK_WORKER_UI_PORT", "8081"},
	{"spark-worker-2", sparkWorkerUIPort, "SPARK_WORKER_UI_PORT_2", "8082"},
}

// clusterPending are variables the cluster gives stack-init that stackctl does not read yet, each
// with what stands in for it meanwhile. The stack-init check fails once stackctl reads one, so
// that its entry goes.
var clusterPending = map[string]string{}

// loadCluster loads both files as compose() in stack/stack.sh does with STACK_TOPOLOGY=cluster:
// stack/versions.env, then a .env of the fake secrets plus vars (host ports, say).
func loadCluster(t *testing.T, vars map[string]string) *types.Project {
	t.Helper()
	return loadClusterFile(t, clusterFile, vars)
}

// loadClusterFile is loadCluster with another override file in place of docker-compose.cluster.yml.
func loadClusterFile(t *testing.T, override string, vars map[string]string) *types.Project {
	t.Helper()
	all := fakeSecrets(t)
	maps.Copy(all, vars)
	p, err := LoadFiles(context.Background(), []string{composeFile, override}, versionsFile,
		writeEnv(t, t.TempDir(), ".env", all))
	if err != nil {
		t.Fatalf("the cluster topology does not load: %v", err)
	}
	return p
}

// problems collects what a check finds wrong.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// A clusterCheck returns every way the merged project c breaks one guarantee; base is
// docker-compose.yml alone, for the checks that compare with it.
type clusterCheck func(c, base *types.Project) problems

var clusterChecks = []struct {
	name  string
	check clusterCheck
}{
	{"kafka quorum", checkKafkaQuorum},
	{"kafka replication", checkKafkaReplication},
	{"data volumes", checkDataVolumes},
	{"cassandra nodes", checkCassandraNodes},
	{"spark", checkSpark},
	{"published ports", checkPublishedPorts},
	{"stack-init", checkStackInit},
	{"mysql", checkMySQLUnchanged},
	{"long-running services", checkLongRunning},
}

func clusterCheckNamed(t *testing.T, name string) clusterCheck {
	t.Helper()
	for _, cc := range clusterChecks {
		if cc.name == name {
			return cc.check
		}
	}
	t.Fatalf("no cluster check %q", name)
	return nil
}

func TestCluster(t *testing.T) {
	c, base := loadCluster(t, nil), load(t)
	for _, cc := range clusterChecks {
		t.Run(cc.name, func(t *testing.T) {
			for _, p := range cc.check(c, base) {
				t.Error(p)
			}
		})
	}
}

func TestClusterServices(t *testing.T) {
	want := append(load(t).ServiceNames(), "kafka-2", "kafka-3", "cassandra-2", "cassandra-3", "spark-worker-2")
	sort.Strings(want)
	got := loadCluster(t, nil).ServiceNames()
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("services = %v, want %v", got, want)
	}
}

// The host ports follow their variables, with the defaults of clusterPorts, and the header of the
// override names every port variable the file uses, with its default.
func TestClusterPortVariables(t *testing.T) {
	text := readFile(t, clusterFile)
	header := leadingComment(text)
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]*PORT[A-Z0-9_]*):-([0-9]+)\}`).FindAllStringSubmatch(text, -1) {
		if !slices.ContainsFunc(clusterPorts, func(p clusterPort) bool { return p.variable == m[1] && p.def == m[2] }) {
			t.Errorf("docker-compose.cluster.yml uses %s, which clusterPorts does not list", m[0])
		}
	}
	set := map[string]string{}
	for i, p := range clusterPorts {
		if !regexp.MustCompile(`\b` + p.variable + ` ` + p.def + `\b`).MatchString(header) {
			t.Errorf("the header of docker-compose.cluster.yml does not name %s %s", p.variable, p.def)
		}
		set[p.variable] = strconv.Itoa(19000 + i)
	}
	for _, tc := range []struct {
		name string
		vars map[string]string
	}{{"defaults", nil}, {"set in .env", set}} {
		t.Run(tc.name, func(t *testing.T) {
			c, base := loadCluster(t, tc.vars), load(t)
			for _, p := range clusterPorts {
				want := p.def
				if v, ok := tc.vars[p.variable]; ok {
					want = v
				}
				if got := published(c.Services[p.service], p.target); !slices.Equal(got, []string{want}) {
					t.Errorf("%s publishes %d on %v, want [%s] (%s)", p.service, p.target, got, want, p.variable)
				}
			}
			// The advertised listeners follow the published ports.
			for _, name := range []string{"kafka quorum", "published ports"} {
				for _, p := range clusterCheckNamed(t, name)(c, base) {
					t.Error(p)
				}
			}
		})
	}
}

// The header says what the file is and how it is used.
func TestClusterHeader(t *testing.T) {
	header := leadingComment(readFile(t, clusterFile))
	for _, w := range []string{"make up TOPOLOGY=cluster", "STACK_TOPOLOGY=cluster",
		"-f docker-compose.yml -f docker-compose.cluster.yml", "native launcher"} {
		if !strings.Contains(header, w) {
			t.Errorf("the header of docker-compose.cluster.yml does not mention %q", w)
		}
	}
}

// leadingComment is the comment block that opens a YAML file, without the "#" marks.
func leadingComment(text string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		if !strings.HasPrefix(line, "#") {
			break
		}
		b.WriteString(strings.TrimPrefix(line, "#"))
	}
	return b.String()
}

// Each check refuses what it is there for: a mutated project (or document) that one check must
// report, with a problem that contains want.
func TestClusterChecksCatch(t *testing.T) {
	tests := []struct {
		name   string
		doc    func(string) string    // edits the text of docker-compose.cluster.yml, or nil
		mutate func(p *types.Project) // edits the loaded project, or nil
		check  string
		want   string
	}{
		{name: "two nodes with one id", check: "kafka quorum", want: "node id 2",
			mutate: func(p *types.Project) { setEnv(p, "kafka-3", "KAFKA_NODE_ID", "2") }},
		{name: "a voter missing", check: "kafka quorum", want: "lacks 3@kafka-3:9093",
			mutate: func(p *types.Project) {
				for _, n := range kafkaNodes {
					setEnv(p, n, "KAFKA_CONTROLLER_QUORUM_VOTERS", "1@kafka:9093,2@kafka-2:9093")
				}
			}},
		{name: "voters that differ", check: "kafka quorum", want: "KAFKA_CONTROLLER_QUORUM_VOTERS",
			mutate: func(p *types.Project) {
				setEnv(p, "kafka-2", "KAFKA_CONTROLLER_QUORUM_VOTERS", "2@kafka-2:9093,1@kafka:9093,3@kafka-3:9093")
			}},
		{name: "controller on localhost", check: "kafka quorum", want: "controller listener",
			mutate: func(p *types.Project) {
				setEnv(p, "kafka-2", "KAFKA_LISTENERS", "PLAINTEXT://0.0.0.0:9092,INTERNAL://0.0.0.0:19092,CONTROLLER://localhost:9093")
			}},
		{name: "a cluster id of its own", check: "kafka quorum", want: "CLUSTER_ID",
			mutate: func(p *types.Project) { setEnv(p, "kafka-3", "CLUSTER_ID", "AAAAAAAAAAAAAAAAAAAAAA") }},
		{name: "advertised port not the published one", check: "kafka quorum", want: "advertises",
			mutate: func(p *types.Project) {
				edit(p, "kafka-2", func(s *types.ServiceConfig) { s.Ports = slices.Clone(s.Ports); s.Ports[0].Published = "9095" })
			}},
		{name: "internal topic with one replica", check: "kafka replication", want: "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
			mutate: func(p *types.Project) { setEnv(p, "kafka-2", "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1") }},
		{name: "two nodes on one volume", check: "data volumes", want: "share",
			mutate: func(p *types.Project) {
				edit(p, "cassandra-3", func(s *types.ServiceConfig) {
					s.Volumes = slices.Clone(s.Volumes)
					s.Volumes[0].Source = "cassandra-2-data"
				})
			}},
		{name: "a node with a heap of its own", check: "cassandra nodes", want: "Environment",
			mutate: func(p *types.Project) { setEnv(p, "cassandra-3", "MAX_HEAP_SIZE", "2G") }},
		{name: "another cluster name", check: "cassandra nodes", want: "cluster name",
			mutate: func(p *types.Project) { setEnv(p, "cassandra-2", "CASSANDRA_CLUSTER_NAME", "other") }},
		{name: "entrypoint changed by the override", check: "cassandra nodes", want: "entrypoint",
			mutate: func(p *types.Project) {
				for _, n := range cassandraNodes {
					edit(p, n, func(s *types.ServiceConfig) { s.Entrypoint = types.ShellCommand{"cassandra", "-f"} })
				}
			}},
		{name: "a seed that is no node", check: "cassandra nodes", want: "seed",
			mutate: func(p *types.Project) {
				for _, n := range cassandraNodes {
					setEnv(p, n, "CASSANDRA_SEEDS", "cassandra,cassandra-9")
				}
			}},
		{name: "two nodes joining at once", check: "cassandra nodes", want: "wait",
			mutate: func(p *types.Project) { edit(p, "cassandra-3", func(s *types.ServiceConfig) { s.DependsOn = nil }) }},
		{name: "one worker", check: "spark", want: "spark-worker-2 missing",
			mutate: func(p *types.Project) { delete(p.Services, "spark-worker-2") }},
		{name: "a worker of two cores", check: "spark", want: "cores",
			mutate: func(p *types.Project) { replaceArg(p, "spark-worker-2", "--cores", "2") }},
		{name: "executors of two cores", check: "spark", want: "spark.executor.cores",
			mutate: func(p *types.Project) {
				replaceArg(p, "spark-connect", "spark.executor.cores=1", "spark.executor.cores=2")
			}},
		{name: "one Cassandra contact point", check: "spark", want: "spark.cassandra.connection.host",
			mutate: func(p *types.Project) {
				replaceArg(p, "spark-connect", "spark.cassandra.connection.host=cassandra,cassandra-2,cassandra-3", "spark.cassandra.connection.host=cassandra")
			}},
		{name: "connect command drifts from the base", check: "spark", want: "spark.ui.port",
			mutate: func(p *types.Project) { replaceArg(p, "spark-connect", "spark.ui.port=4040", "spark.ui.port=4041") }},
		{name: "a port on every interface", check: "published ports", want: "127.0.0.1",
			mutate: func(p *types.Project) {
				edit(p, "cassandra-2", func(s *types.ServiceConfig) { s.Ports = slices.Clone(s.Ports); s.Ports[0].HostIP = "0.0.0.0" })
			}},
		{name: "one host port twice", check: "published ports", want: "8081",
			mutate: func(p *types.Project) {
				edit(p, "spark-worker-2", func(s *types.ServiceConfig) { s.Ports = slices.Clone(s.Ports); s.Ports[0].Published = "8081" })
			}},
		// Without !override, compose adds kafka-2's port to the one it inherits from kafka.
		{name: "inherited port kept", check: "published ports", want: "9092",
			doc: func(s string) string {
				return strings.Replace(s, "    ports: !override\n      - \"127.0.0.1:${KAFKA_PORT_2", "    ports:\n      - \"127.0.0.1:${KAFKA_PORT_2", 1)
			}},
		{name: "stack-init ahead of a node", check: "stack-init", want: "cassandra-3",
			mutate: func(p *types.Project) {
				edit(p, "stack-init", func(s *types.ServiceConfig) {
					s.DependsOn = maps.Clone(s.DependsOn)
					delete(s.DependsOn, "cassandra-3")
				})
			}},
		{name: "topics with one replica", check: "stack-init", want: "replication factor",
			mutate: func(p *types.Project) { setEnv(p, "stack-init", "KAFKA_REPLICATION_FACTOR", "1") }},
		{name: "a keyspace with one replica", check: "stack-init", want: "CASSANDRA_REPLICATION",
			mutate: func(p *types.Project) {
				setEnv(p, "stack-init", "CASSANDRA_REPLICATION", "{'class': 'SimpleStrategy', 'replication_factor': 1}")
			}},
		{name: "stack-init on one broker", check: "stack-init", want: "Kafka",
			mutate: func(p *types.Project) { setEnv(p, "stack-init", "KAFKA_BOOTSTRAP_SERVERS", "kafka:19092") }},
		{name: "a variable stackctl does not read", check: "stack-init", want: "KAFKA_MIN_ISR",
			mutate: func(p *types.Project) { setEnv(p, "stack-init", "KAFKA_MIN_ISR", "2") }},
		{name: "mysql changed", check: "mysql", want: "mysql",
			mutate: func(p *types.Project) {
				edit(p, "mysql", func(s *types.ServiceConfig) { s.Command = append(slices.Clone(s.Command), "--max-connections=10") })
			}},
		{name: "a node without healthcheck", check: "long-running services", want: "kafka-3",
			mutate: func(p *types.Project) { edit(p, "kafka-3", func(s *types.ServiceConfig) { s.HealthCheck = nil }) }},
	}
	base := load(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c *types.Project
			if tc.doc != nil {
				text := readFile(t, clusterFile)
				edited := tc.doc(text)
				if edited == text {
					t.Fatal("the edit changes nothing in docker-compose.cluster.yml")
				}
				// The copy lives elsewhere: its extends name the base file by its absolute path.
				abs, _ := filepath.Abs(composeFile)
				edited = strings.ReplaceAll(edited, "file: docker-compose.yml", "file: "+abs)
				f := filepath.Join(t.TempDir(), "docker-compose.cluster.yml")
				if err := os.WriteFile(f, []byte(edited), 0o644); err != nil {
					t.Fatal(err)
				}
				c = loadClusterFile(t, f, nil)
			} else {
				c = loadCluster(t, nil)
				tc.mutate(c)
			}
			got := clusterCheckNamed(t, tc.check)(c, base)
			if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("check %q did not report %q; it said %q", tc.check, tc.want, got)
			}
		})
	}
}

// setEnv sets one variable of a service's environment (on a copy of the map, which compose may
// share between services).
func setEnv(p *types.Project, service, key, value string) {
	edit(p, service, func(s *types.ServiceConfig) {
		s.Environment = maps.Clone(s.Environment)
		s.Environment[key] = &value
	})
}

func edit(p *types.Project, service string, f func(*types.ServiceConfig)) {
	s := p.Services[service]
	f(&s)
	p.Services[service] = s
}

// replaceArg changes the argument after flag (or the argument equal to flag when value is a
// whole argument) in a service's command.
func replaceArg(p *types.Project, service, old, value string) {
	edit(p, service, func(s *types.ServiceConfig) {
		cmd := slices.Clone(s.Command)
		for i, a := range cmd {
			switch {
			case strings.HasPrefix(old, "--") && a == old && i+1 < len(cmd):
				cmd[i+1] = value
			case a == old:
				cmd[i] = value
			}
		}
		s.Command = cmd
	})
}

// published lists the host ports on which s publishes container port target.
func published(s types.ServiceConfig, target uint32) []string {
	var out []string
	for _, p := range s.Ports {
		if p.Target == target {
			out = append(out, p.Published)
		}
	}
	return out
}

// listeners parses a Kafka listener list (NAME://host:port,...) into host:port by name.
func listeners(v string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(v, ",") {
		if name, addr, ok := strings.Cut(strings.TrimSpace(l), "://"); ok {
			m[name] = addr
		}
	}
	return m
}

// internalAddr is the address other containers reach a Kafka node at: its advertised
// inter-broker listener.
func internalAddr(s types.ServiceConfig) string {
	return listeners(env(s, "KAFKA_ADVERTISED_LISTENERS"))[env(s, "KAFKA_INTER_BROKER_LISTENER_NAME")]
}

// namedVolumeAt is the named volume s mounts at target, or "".
func namedVolumeAt(s types.ServiceConfig, target string) string {
	for _, m := range s.Volumes {
		if m.Type == types.VolumeTypeVolume && m.Target == target {
			return m.Source
		}
	}
	return ""
}

// The three Kafka nodes form one KRaft quorum: each is broker and controller with an id of its
// own, all share one CLUSTER_ID and one voters list that names every node by the service name its
// controller listener is reachable at, and each advertises the host port it is published on.
func checkKafkaQuorum(c, _ *types.Project) problems {
	var bad problems
	ids := map[int]string{}
	var clusterID, voters, first string
	for _, name := range kafkaNodes {
		s, ok := c.Services[name]
		if !ok {
			bad.add("service %s missing", name)
			continue
		}
		if r := env(s, "KAFKA_PROCESS_ROLES"); r != "broker,controller" {
			bad.add("%s: KAFKA_PROCESS_ROLES = %q, want broker,controller", name, r)
		}
		if s.Hostname != name {
			bad.add("%s has hostname %q: the other nodes reach it by its service name", name, s.Hostname)
		}
		id, err := strconv.Atoi(env(s, "KAFKA_NODE_ID"))
		switch {
		case err != nil || id < 1:
			bad.add("%s: KAFKA_NODE_ID = %q is not a positive number", name, env(s, "KAFKA_NODE_ID"))
		case ids[id] != "":
			bad.add("%s and %s have the same node id %d", ids[id], name, id)
		default:
			ids[id] = name
		}
		cid, v := env(s, "CLUSTER_ID"), env(s, "KAFKA_CONTROLLER_QUORUM_VOTERS")
		if first == "" {
			first, clusterID, voters = name, cid, v
		}
		if cid == "" || cid != clusterID {
			bad.add("%s has CLUSTER_ID %q, %s %q: one cluster, one id", name, cid, first, clusterID)
		}
		if v != voters {
			bad.add("%s has KAFKA_CONTROLLER_QUORUM_VOTERS %q, %s %q: the quorum must be the same for all", name, v, first, voters)
		}

		ctrlName := env(s, "KAFKA_CONTROLLER_LISTENER_NAMES")
		ctrl, ok := listeners(env(s, "KAFKA_LISTENERS"))[ctrlName]
		if !ok {
			bad.add("%s: KAFKA_LISTENERS has no %s listener", name, ctrlName)
			continue
		}
		host, port, err := net.SplitHostPort(ctrl)
		if err != nil || (host != "" && host != "0.0.0.0" && host != name) {
			bad.add("%s binds its controller listener on %q, which the other controllers cannot reach; want 0.0.0.0 or %s", name, ctrl, name)
		}
		if want := fmt.Sprintf("%d@%s:%s", id, name, port); !slices.Contains(strings.Split(v, ","), want) {
			bad.add("%s: KAFKA_CONTROLLER_QUORUM_VOTERS %q lacks %s", name, v, want)
		}

		adv := listeners(env(s, "KAFKA_ADVERTISED_LISTENERS"))
		if got, want := internalAddr(s), name+":19092"; got != want {
			bad.add("%s advertises its inter-broker listener as %q, want %s", name, got, want)
		}
		pub := published(s, kafkaPlaintextPort)
		if len(pub) != 1 {
			bad.add("%s publishes port %d %d times, want once", name, kafkaPlaintextPort, len(pub))
		} else if got, want := adv["PLAINTEXT"], "127.0.0.1:"+pub[0]; got != want {
			bad.add("%s advertises PLAINTEXT as %q but publishes it on %s", name, got, want)
		}
	}
	if n := len(strings.Split(voters, ",")); n != len(kafkaNodes) {
		bad.add("KAFKA_CONTROLLER_QUORUM_VOTERS %q names %d controllers, want %d", voters, n, len(kafkaNodes))
	}
	return bad
}

// Every replicated topic, the internal ones included, keeps three copies and takes writes with two
// in sync: the cluster goes on with one node down.
func checkKafkaReplication(c, _ *types.Project) problems {
	var bad problems
	want := map[string]string{
		"KAFKA_DEFAULT_REPLICATION_FACTOR":                       "3",
		"KAFKA_MIN_INSYNC_REPLICAS":                              "2",
		"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":                 "3",
		"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR":         "3",
		"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":                    "2",
		"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "3",
		"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR":            "2",
	}
	keys := slices.Sorted(maps.Keys(want))
	for _, name := range kafkaNodes {
		s, ok := c.Services[name]
		if !ok {
			bad.add("service %s missing", name)
			continue
		}
		for _, k := range keys {
			if got := env(s, k); got != want[k] {
				bad.add("%s: %s = %q, want %s", name, k, got, want[k])
			}
		}
	}
	return bad
}

// Each Kafka and Cassandra node keeps its data in a named volume of its own.
func checkDataVolumes(c, _ *types.Project) problems {
	var bad problems
	owner := map[string]string{}
	for _, g := range []struct {
		nodes []string
		dir   string
	}{{kafkaNodes, kafkaDataDir}, {cassandraNodes, cassandraDataDir}} {
		for _, name := range g.nodes {
			s, ok := c.Services[name]
			if !ok {
				bad.add("service %s missing", name)
				continue
			}
			v := namedVolumeAt(s, g.dir)
			switch {
			case v == "":
				bad.add("%s mounts no named volume at %s", name, g.dir)
				continue
			case owner[v] != "":
				bad.add("%s and %s share the volume %s", owner[v], name, v)
			default:
				owner[v] = name
			}
			if _, declared := c.Volumes[v]; !declared {
				bad.add("%s mounts volume %s, which is not declared", name, v)
			}
		}
	}
	for _, name := range kafkaNodes {
		if got := env(c.Services[name], "KAFKA_LOG_DIRS"); got != kafkaDataDir {
			bad.add("%s: KAFKA_LOG_DIRS = %q, want the volume's mount point %s", name, got, kafkaDataDir)
		}
	}
	return bad
}

// The three Cassandra nodes run the same service (the base file's cassandra, whose settings
// TestCassandraSettingsMatchNative checks) apart from their names, host ports, volumes and start
// order; their seeds are nodes of the cluster, each node's healthcheck asks that node, and each
// joins only once the one before it is healthy (Cassandra bootstraps one node at a time).
func checkCassandraNodes(c, base *types.Project) problems {
	var bad problems
	first, ok := c.Services[cassandraNodes[0]]
	if !ok {
		return problems{"service cassandra missing"}
	}
	if b := base.Services["cassandra"]; !slices.Equal(first.Entrypoint, b.Entrypoint) {
		bad.add("cassandra's entrypoint differs from docker-compose.yml's, whose settings TestCassandraSettingsMatchNative checks")
	}
	perNode := func(s types.ServiceConfig) types.ServiceConfig {
		s.Name, s.Hostname, s.ContainerName = "", "", ""
		s.Ports, s.Volumes, s.DependsOn = nil, nil, nil
		return s
	}
	for i, name := range cassandraNodes {
		s, ok := c.Services[name]
		if !ok {
			bad.add("service %s missing", name)
			continue
		}
		if s.Hostname != name {
			bad.add("%s has hostname %q, want its service name", name, s.Hostname)
		}
		if got, want := env(s, "CASSANDRA_CLUSTER_NAME"), env(first, "CASSANDRA_CLUSTER_NAME"); got == "" || got != want {
			bad.add("%s has cluster name %q, cassandra %q", name, got, want)
		}
		if i > 0 {
			if diff := differingFields(perNode(first), perNode(s)); len(diff) > 0 {
				bad.add("%s differs from cassandra in %s, not only in its name, ports, volumes and start order", name, strings.Join(diff, ", "))
			}
			prev := cassandraNodes[i-1]
			if d, ok := s.DependsOn[prev]; !ok || d.Condition != types.ServiceConditionHealthy {
				bad.add("%s does not wait for %s to be healthy: two nodes would join at once", name, prev)
			}
		}
		seeds := strings.Split(env(s, "CASSANDRA_SEEDS"), ",")
		for _, seed := range seeds {
			if !slices.Contains(cassandraNodes, strings.TrimSpace(seed)) {
				bad.add("%s: seed %q is not a node of the cluster (%v)", name, seed, cassandraNodes)
			}
		}
		if len(seeds) >= len(cassandraNodes) {
			bad.add("%s: every node is a seed (%v), so none bootstraps through the others", name, seeds)
		}
		if hc := s.HealthCheck; hc == nil || !strings.Contains(strings.Join(hc.Test, " "), "nodetool statusbinary") {
			bad.add("%s's healthcheck does not ask the node whether it serves CQL (nodetool statusbinary)", name)
		}
		if got := env(s, "MAX_HEAP_SIZE"); got != "1G" || env(s, "HEAP_NEWSIZE") == "" {
			bad.add("%s: MAX_HEAP_SIZE = %q, HEAP_NEWSIZE = %q; want 1G and a new size (three nodes on 24 GiB)", name, got, env(s, "HEAP_NEWSIZE"))
		}
		if pub := published(s, cassandraCQLPort); len(pub) != 1 {
			bad.add("%s publishes CQL on %v, want one host port", name, pub)
		}
	}
	return bad
}

// differingFields names the fields of two service configurations that differ (those of embedded
// structs by their own names).
func differingFields(a, b types.ServiceConfig) []string {
	return differing(reflect.ValueOf(a), reflect.ValueOf(b))
}

func differing(a, b reflect.Value) []string {
	var out []string
	for i := range a.NumField() {
		f := a.Type().Field(i)
		switch {
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			out = append(out, differing(a.Field(i), b.Field(i))...)
		case !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()):
			out = append(out, f.Name)
		}
	}
	return out
}

// workerArgs splits a Spark worker's command into the value of --host, that of --cores, and the rest.
func workerArgs(cmd []string) (host, cores string, rest []string) {
	for i := 0; i < len(cmd); i++ {
		switch {
		case cmd[i] == "--host" && i+1 < len(cmd):
			host = cmd[i+1]
			i++
		case cmd[i] == "--cores" && i+1 < len(cmd):
			cores = cmd[i+1]
			i++
		default:
			rest = append(rest, cmd[i])
		}
	}
	return host, cores, rest
}

// submitArgs splits a spark-submit command into its --conf settings and the other arguments.
func submitArgs(cmd []string) (conf map[string]string, rest []string) {
	conf = map[string]string{}
	for i := 0; i < len(cmd); i++ {
		if cmd[i] == "--conf" && i+1 < len(cmd) {
			k, v, _ := strings.Cut(cmd[i+1], "=")
			conf[k] = v
			i++
			continue
		}
		rest = append(rest, cmd[i])
	}
	return conf, rest
}

// Two workers run the base worker's command with their own host name and one core each; the
// Connect server runs the base command with one-core executors, as many cores as the workers have
// together, and every Cassandra node as a contact point, and waits for every node and worker.
func checkSpark(c, base *types.Project) problems {
	var bad problems
	bw := base.Services["spark-worker"]
	_, _, baseRest := workerArgs(bw.Command)
	var workerCores []int
	for _, name := range sparkWorkers {
		s, ok := c.Services[name]
		if !ok {
			bad.add("service %s missing", name)
			continue
		}
		host, cores, rest := workerArgs(s.Command)
		if !slices.Equal(rest, baseRest) {
			bad.add("%s's command %q is not the base worker's apart from --host and --cores", name, s.Command)
		}
		if host != name || s.Hostname != name {
			bad.add("%s runs with --host %q and hostname %q, want %s", name, host, s.Hostname, name)
		}
		n, err := strconv.Atoi(cores)
		if err != nil || n != 1 {
			bad.add("%s has --cores %q, want 1", name, cores)
		}
		workerCores = append(workerCores, n)
		if s.Image != bw.Image {
			bad.add("%s runs %q, the base worker %q: the executors need the connector jars", name, s.Image, bw.Image)
		}
		if len(published(s, sparkWorkerUIPort)) != 1 {
			bad.add("%s does not publish its UI (%d) once", name, sparkWorkerUIPort)
		}
	}

	sc, ok := c.Services["spark-connect"]
	if !ok {
		return append(bad, "service spark-connect missing")
	}
	conf, rest := submitArgs(sc.Command)
	baseConf, baseRest2 := submitArgs(base.Services["spark-connect"].Command)
	if !slices.Equal(rest, baseRest2) {
		bad.add("spark-connect's arguments %q differ from the base's %q beyond --conf", rest, baseRest2)
	}
	total := 0
	for _, n := range workerCores {
		total += n
	}
	changed := map[string]string{
		"spark.cassandra.connection.host": strings.Join(cassandraNodes, ","),
		"spark.executor.cores":            "1",
		"spark.cores.max":                 strconv.Itoa(total),
	}
	for _, n := range workerCores {
		if strconv.Itoa(n) != changed["spark.executor.cores"] {
			bad.add("a worker has %d cores but executors %s: one executor per worker", n, changed["spark.executor.cores"])
		}
	}
	keys := slices.Sorted(maps.Keys(conf))
	for k := range baseConf {
		if _, ok := conf[k]; !ok {
			keys = append(keys, k)
		}
	}
	for k := range changed {
		if _, ok := conf[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if want, ok := changed[k]; ok {
			if conf[k] != want {
				bad.add("spark-connect: %s = %q, want %q", k, conf[k], want)
			}
		} else if conf[k] != baseConf[k] {
			bad.add("spark-connect: %s = %q, the base file's %q: the cluster changes only %v", k, conf[k], baseConf[k], slices.Sorted(maps.Keys(changed)))
		}
	}
	for _, n := range slices.Concat(sparkWorkers, kafkaNodes, cassandraNodes) {
		if d, ok := sc.DependsOn[n]; !ok || d.Condition != types.ServiceConditionHealthy {
			bad.add("spark-connect does not wait for %s to be healthy", n)
		}
	}
	return bad
}

// Every published port is on 127.0.0.1 with a fixed host port, and no host port is published
// twice (compose would start the second container only to fail).
func checkPublishedPorts(c, _ *types.Project) problems {
	var bad problems
	seen := map[string]string{}
	names := c.ServiceNames()
	sort.Strings(names)
	for _, name := range names {
		for _, p := range c.Services[name].Ports {
			if p.HostIP != "127.0.0.1" {
				bad.add("%s publishes %d on host_ip %q, want 127.0.0.1", name, p.Target, p.HostIP)
			}
			if p.Published == "" {
				bad.add("%s publishes %d without a fixed host port", name, p.Target)
				continue
			}
			proto := p.Protocol
			if proto == "" {
				proto = "tcp"
			}
			key := p.Published + "/" + proto
			if other, dup := seen[key]; dup {
				bad.add("%s and %s both publish host port %s", other, name, key)
			} else {
				seen[key] = name
			}
		}
	}
	return bad
}

// stack-init prepares the cluster: it waits for every node, reaches every Kafka node and every
// Cassandra node, and creates topics and the keyspace with three replicas, the topics' in-sync
// minimum the brokers'. What it sets is read by stackctl, but for clusterPending.
func checkStackInit(c, _ *types.Project) problems {
	var bad problems
	s, ok := c.Services["stack-init"]
	if !ok {
		return problems{"service stack-init missing"}
	}
	for _, n := range slices.Concat(kafkaNodes, cassandraNodes, []string{"mysql"}) {
		if d, ok := s.DependsOn[n]; !ok || d.Condition != types.ServiceConditionHealthy {
			bad.add("stack-init does not wait for %s to be healthy", n)
		}
	}
	cfg, err := config.Load(s.Command, getenvOf(s), io.Discard)
	if err != nil {
		return append(bad, fmt.Sprintf("stackctl refuses stack-init's environment: %v", err))
	}
	var brokers []string
	for _, n := range kafkaNodes {
		brokers = append(brokers, internalAddr(c.Services[n]))
	}
	if !slices.Equal(cfg.KafkaBrokers, brokers) {
		bad.add("stack-init reaches Kafka at %v, want every node's inter-broker listener %v", cfg.KafkaBrokers, brokers)
	}
	if !slices.Equal(cfg.CassandraHosts, cassandraNodes) || cfg.CassandraPort != cassandraCQLPort {
		bad.add("stack-init reaches Cassandra at %v port %d, want %v port %d", cfg.CassandraHosts, cfg.CassandraPort, cassandraNodes, cassandraCQLPort)
	}
	if cfg.ReplicationFactor != len(kafkaNodes) {
		bad.add("stack-init creates topics with replication factor %d, want %d", cfg.ReplicationFactor, len(kafkaNodes))
	}
	m := regexp.MustCompile(`'replication_factor'\s*:\s*'?([0-9]+)`).FindStringSubmatch(cfg.CassandraReplication)
	if m == nil || m[1] != strconv.Itoa(len(cassandraNodes)) {
		bad.add("stack-init's CASSANDRA_REPLICATION = %q, want replication_factor %d", cfg.CassandraReplication, len(cassandraNodes))
	}
	if got, want := env(s, "KAFKA_MIN_INSYNC_REPLICAS"), env(c.Services["kafka"], "KAFKA_MIN_INSYNC_REPLICAS"); got == "" || got != want {
		bad.add("stack-init's KAFKA_MIN_INSYNC_REPLICAS = %q, the brokers' %q", got, want)
	}
	read := stackctlReads()
	for k := range s.Environment {
		if _, pending := clusterPending[k]; !read[k] && !pending {
			bad.add("stack-init sets %s, which stackctl does not read", k)
		}
	}
	for k := range clusterPending {
		if read[k] {
			bad.add("stackctl reads %s now: drop it from clusterPending", k)
		}
	}
	return bad
}

// MySQL is one server, as in the base file.
func checkMySQLUnchanged(c, base *types.Project) problems {
	if diff := differingFields(c.Services["mysql"], base.Services["mysql"]); len(diff) > 0 {
		return problems{fmt.Sprintf("the cluster changes mysql's %s", strings.Join(diff, ", "))}
	}
	return nil
}

// Every long-running service, the new nodes included, restarts unless stopped and has a
// healthcheck (what depends_on and `up --wait` wait for).
func checkLongRunning(c, _ *types.Project) problems {
	var bad problems
	names := c.ServiceNames()
	sort.Strings(names)
	for _, name := range names {
		if slices.Contains(initServices, name) {
			continue
		}
		s := c.Services[name]
		if s.Restart != "unless-stopped" {
			bad.add("%s has restart %q, want unless-stopped", name, s.Restart)
		}
		if hc := s.HealthCheck; hc == nil || hc.Disable || len(hc.Test) < 2 {
			bad.add("%s has no healthcheck", name)
		}
	}
	return bad
}

// stack/stack.sh in Docker mode: with STACK_TOPOLOGY=cluster compose() merges the override and
// compose_names() knows the extra nodes, and the stack.env that docker_up writes gives the programs
// on the host every node on the port compose publishes it on, with the replication stack-init
// used. make (the Makefile includes stack.env) and bash (scripts/demo.sh sources it) read the same
// values from it. Without the topology, nothing of that.
func TestLauncherTopology(t *testing.T) {
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Fatalf("make is needed to read stack.env as the Makefile does: %v", err)
	}
	ports := map[string]string{}
	for i, p := range clusterPorts {
		ports[p.variable] = strconv.Itoa(19100 + i)
	}
	tests := []struct {
		name, topology string
		vars           map[string]string // in .env
	}{
		{"cluster", "cluster", nil},
		{"cluster with ports in .env", "cluster", ports},
		{"single", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			all := fakeSecrets(t)
			maps.Copy(all, tc.vars)
			fakeRepo := filepath.Join(dir, "repo")
			if err := os.Mkdir(fakeRepo, 0o755); err != nil {
				t.Fatal(err)
			}
			writeEnv(t, fakeRepo, ".env", all)
			var p *types.Project
			if tc.topology == "cluster" {
				p = loadCluster(t, tc.vars)
			} else {
				p = load(t)
			}

			out := runLauncher(t, dir, tc.topology, fakeRepo)
			wantFiles := "-f docker-compose.yml"
			if tc.topology == "cluster" {
				wantFiles += " -f docker-compose.cluster.yml"
			}
			if got := out["compose"]; got != "compose "+wantFiles+" config" {
				t.Errorf("compose config runs `docker %s`, want `docker compose %s config`", got, wantFiles)
			}
			// The launcher's services name every long-running compose service, and only those.
			var named []string
			for _, svc := range []string{"mariadb", "kafka", "cassandra", "spark"} {
				named = append(named, strings.Fields(out["names "+svc])...)
			}
			var want []string
			for _, n := range p.ServiceNames() {
				if !slices.Contains(initServices, n) {
					want = append(want, n)
				}
			}
			sort.Strings(named)
			sort.Strings(want)
			if !slices.Equal(named, want) {
				t.Errorf("compose_names gives %v, want the long-running services %v", named, want)
			}

			stackEnv := filepath.Join(dir, "home", "stack.env")
			byMake := readEnvWith(t, dir, makeBin, "-s", "-f", writeFile(t, dir, "Makefile", "include "+stackEnv+"\nexport\nall: ; @env\n"))
			byBash := readEnvWith(t, dir, "bash", "-c", `set -euo pipefail; set -a; . "$1"; set +a; env`, "bash", stackEnv)
			names := regexp.MustCompile(`(?m)^([A-Z_][A-Z0-9_]*)=`).FindAllStringSubmatch(readFile(t, stackEnv), -1)
			for _, m := range names {
				if byMake[m[1]] != byBash[m[1]] {
					t.Errorf("stack.env's %s reads %q in make, %q in bash", m[1], byMake[m[1]], byBash[m[1]])
				}
			}

			var kafkaHost, cassandraHost, kafkaSpark []string
			for _, n := range kafkaNodes {
				if s, ok := p.Services[n]; ok {
					kafkaHost = append(kafkaHost, "127.0.0.1:"+strings.Join(published(s, kafkaPlaintextPort), ""))
					kafkaSpark = append(kafkaSpark, internalAddr(s))
				}
			}
			for _, n := range cassandraNodes {
				if s, ok := p.Services[n]; ok {
					cassandraHost = append(cassandraHost, "127.0.0.1:"+strings.Join(published(s, cassandraCQLPort), ""))
				}
			}
			stackInit := p.Services["stack-init"]
			wantEnv := map[string]string{
				"SPARK_KAFKA_BOOTSTRAP_SERVERS": strings.Join(kafkaSpark, ","),
				"SPARK_MYSQL_ADDR":              "mysql:3306",
			}
			if tc.topology == "cluster" {
				maps.Copy(wantEnv, map[string]string{
					"KAFKA_BOOTSTRAP_SERVERS":   strings.Join(kafkaHost, ","),
					"CASSANDRA_HOSTS":           strings.Join(cassandraHost, ","),
					"KAFKA_REPLICATION_FACTOR":  env(stackInit, "KAFKA_REPLICATION_FACTOR"),
					"KAFKA_MIN_INSYNC_REPLICAS": env(stackInit, "KAFKA_MIN_INSYNC_REPLICAS"),
				})
			}
			var got []string
			for _, m := range names {
				got = append(got, m[1])
			}
			got = slices.Compact(slices.Sorted(slices.Values(got)))
			if w := slices.Sorted(maps.Keys(wantEnv)); !slices.Equal(got, w) {
				t.Errorf("stack.env sets %v, want %v", got, w)
			}
			for k, w := range wantEnv {
				if g := byBash[k]; g != w {
					t.Errorf("stack.env: %s = %q, want %q", k, byBash[k], wantEnv[k])
				}
			}
		})
	}
}

// runLauncher sources stack/stack.sh in bash with STACK_TOPOLOGY=topology and returns, by key,
// what compose() would run docker with ("compose") and what compose_names gives ("names SVC"),
// after running docker_up with compose, stackctl and the .env set-up stubbed out, .env read from
// fakeRepo and stack.env written into dir/home.
func runLauncher(t *testing.T, dir, topology, fakeRepo string) map[string]string {
	t.Helper()
	script := `set -euo pipefail
. "$REPO/stack/stack.sh"
docker() { echo "compose=$*"; }
compose config
for s in mariadb kafka cassandra spark; do echo "names $s=$(compose_names "$s")"; done
STACK_REPO=$FAKE_REPO
compose() { :; }; build_stackctl() { :; }; ensure_env_file() { :; }; stackctl() { :; }
docker_up
`
	repo, _ := filepath.Abs(repoRoot)
	home := filepath.Join(dir, "home")
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "STACK_HOME=" + home,
		"STACK_CACHE=" + filepath.Join(dir, "cache"), "STACKCTL_BIN=stub", "STACK_TOPOLOGY=" + topology,
		"REPO=" + repo, "FAKE_REPO=" + fakeRepo}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("stack.sh: %v\n%s", err, stderr.String())
	}
	out := map[string]string{}
	for line := range strings.Lines(string(stdout)) {
		if k, v, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "="); ok {
			out[k] = v
		}
	}
	return out
}

// readEnvWith runs a command that prints its environment (as env does) in a clean environment and
// returns that environment.
func readEnvWith(t *testing.T, dir, name string, args ...string) map[string]string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	m := map[string]string{}
	for line := range strings.Lines(string(out)) {
		if k, v, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "="); ok {
			m[k] = v
		}
	}
	return m
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
