package composecheck

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/go-sql-driver/mysql"

	"idxstream/stack/internal/config"
)

// The Docker stack is prepared by stack-init, which runs `stackctl init` (stack/cmd/stackctl) in
// the compose network: the code that prepares the native stack, so both end with the same schema,
// users, grants, roles and topics. These tests hold the service to that.

var (
	stackctlDockerfile = filepath.Join(repoRoot, "stack", "docker", "stackctl", "Dockerfile")
	stackctlIgnore     = stackctlDockerfile + ".dockerignore"
)

// stackctlHostOnly are the variables stackctl reads that stack-init deliberately does not set,
// each with the reason. Every other variable stackctl reads must be in its environment.
var stackctlHostOnly = map[string]string{
	"HOME":                 "the native stack's directories; the container has MYSQL_ADMIN_DSN instead of the socket under STACK_HOME",
	"XDG_DATA_HOME":        "as HOME",
	"STACK_HOME":           "as HOME",
	"KAFKA_PORT":           "the broker's host port; the container sets KAFKA_BOOTSTRAP_SERVERS",
	"MYSQL_PORT":           "MySQL's host port; the container sets MYSQL_ADMIN_DSN",
	"MYSQL_ADDR":           "where the programs on the host reach MySQL (preflight)",
	"SPARK_REMOTE":         "init does not touch Spark",
	"SPARK_CONNECT_PORT":   "init does not touch Spark",
	"SPARK_CONNECT_SECRET": "init does not touch Spark; the secret stays with spark-connect",
	"SPARK_MASTER_UI_URL":  "init does not touch Spark",
	"SPARK_MASTER_UI_PORT": "init does not touch Spark",
	"SPARK_WORKER_UI_URL":  "init does not touch Spark",
	"DISK_MIN_FREE":        "stackctl disk only",
	// docker-compose.yml runs one broker, whose min.insync.replicas (1) is the only value there;
	// when the compose file gets a cluster, stack-init passes it and this entry goes.
	"KAFKA_MIN_INSYNC_REPLICAS": "the Docker stack has one broker: the broker's default applies",
}

// stackctlReads is the set of environment variables `stackctl init` reads.
func stackctlReads() map[string]bool {
	read := map[string]bool{}
	// Only the names asked for matter here; the error (empty passwords) does not.
	_, _ = config.Load([]string{config.CmdInit}, func(k string) string { read[k] = true; return "" }, io.Discard)
	return read
}

// getenvOf is the environment a container of s sees (compose's environment, interpolated).
func getenvOf(s types.ServiceConfig) func(string) string {
	return func(k string) string { return env(s, k) }
}

func TestStackInitRunsStackctlInit(t *testing.T) {
	p := load(t)
	s := service(t, p, "stack-init")
	if len(s.Entrypoint) != 0 {
		t.Errorf("entrypoint = %q, want the image's (stackctl)", s.Entrypoint)
	}
	if want := []string{"init", "-any-host"}; !slices.Equal(s.Command, want) {
		t.Errorf("command = %q, want %q (-any-host: the programs reach MySQL through the bridge)", s.Command, want)
	}
	if s.Restart != "no" {
		t.Errorf("restart = %q, want \"no\"", s.Restart)
	}
	if df := readFile(t, stackctlDockerfile); !regexp.MustCompile(`(?m)^ENTRYPOINT \["/usr/local/bin/stackctl"\]\s*$`).MatchString(df) {
		t.Errorf("%s does not end in ENTRYPOINT [\"/usr/local/bin/stackctl\"]", stackctlDockerfile)
	}

	// What stackctl makes of the container's environment and command.
	cfg, err := config.Load(s.Command, getenvOf(s), io.Discard)
	if err != nil {
		t.Fatalf("stackctl %s refuses stack-init's environment: %v", strings.Join(s.Command, " "), err)
	}
	if cfg.Command != config.CmdInit || !cfg.AnyHost || !cfg.Has(config.TargetMySQL) || !cfg.Has(config.TargetCassandra) {
		t.Errorf("stackctl runs %q any-host=%v targets=%v, want init of mysql and cassandra for any host", cfg.Command, cfg.AnyHost, cfg.Targets)
	}
	if !slices.Equal(cfg.KafkaBrokers, []string{"kafka:19092"}) {
		t.Errorf("Kafka = %v, want the broker's INTERNAL listener kafka:19092", cfg.KafkaBrokers)
	}
	if adv := env(service(t, p, "kafka"), "KAFKA_ADVERTISED_LISTENERS"); !strings.Contains(adv, "INTERNAL://kafka:19092") ||
		!strings.Contains(adv, "PLAINTEXT://127.0.0.1:9092") {
		t.Errorf("KAFKA_ADVERTISED_LISTENERS = %q, want PLAINTEXT://127.0.0.1:9092 and INTERNAL://kafka:19092", adv)
	}
	if !slices.Equal(cfg.CassandraHosts, []string{"cassandra"}) || cfg.CassandraPort != 9042 {
		t.Errorf("Cassandra = %v port %d, want cassandra port 9042 (the container's, whatever CASSANDRA_PORT publishes)", cfg.CassandraHosts, cfg.CassandraPort)
	}
	dsn, err := mysql.ParseDSN(cfg.MySQLAdminDSN)
	if err != nil {
		t.Fatalf("MYSQL_ADMIN_DSN: %v", err)
	}
	if dsn.User != "root" || dsn.Passwd != fakeRootPassword || dsn.Net != "tcp" || dsn.Addr != "mysql:3306" {
		t.Errorf("MYSQL_ADMIN_DSN = %s@%s(%s), want root with MYSQL_ROOT_PASSWORD over tcp(mysql:3306)", dsn.User, dsn.Net, dsn.Addr)
	}
	// Unset variables reach stackctl empty, so its own defaults apply, as natively.
	if cfg.MySQLDatabase != "trading" || cfg.CassandraKeyspace != "trading" || cfg.Partitions != 3 || cfg.MarketTZ != "Asia/Jakarta" {
		t.Errorf("defaults: database %q keyspace %q partitions %d zone %q, want trading, trading, 3, Asia/Jakarta",
			cfg.MySQLDatabase, cfg.CassandraKeyspace, cfg.Partitions, cfg.MarketTZ)
	}

	// The users' and roles' passwords are .env's, the ones the programs on the host log in with.
	for k := range fakeSecrets(t) {
		if _, hostOnly := stackctlHostOnly[k]; hostOnly || k == "MYSQL_ROOT_PASSWORD" {
			continue
		}
		if got := env(s, k); got != fakeSecret(k) {
			t.Errorf("stack-init's %s = %q, want the value of .env", k, got)
		}
	}
}

// Every variable stackctl reads is either passed to stack-init or named in stackctlHostOnly with
// its reason, and stack-init passes nothing stackctl does not read: a setting added to stackctl
// cannot silently take its default in Docker only.
func TestStackInitEnvironmentCoversStackctlConfig(t *testing.T) {
	s := service(t, load(t), "stack-init")
	read := stackctlReads()
	for k := range read {
		_, passed := s.Environment[k]
		reason, hostOnly := stackctlHostOnly[k]
		switch {
		case passed && hostOnly:
			t.Errorf("stack-init sets %s, which stackctlHostOnly says it must not: %s", k, reason)
		case !passed && !hostOnly:
			t.Errorf("stackctl reads %s, which stack-init neither sets nor lists in stackctlHostOnly", k)
		}
	}
	for k := range s.Environment {
		if !read[k] {
			t.Errorf("stack-init sets %s, which stackctl does not read", k)
		}
	}
	for k := range stackctlHostOnly {
		if !read[k] {
			t.Errorf("stackctlHostOnly lists %s, which stackctl no longer reads", k)
		}
	}
}

func TestStackInitImage(t *testing.T) {
	p := load(t)
	v := versions(t)
	s := service(t, p, "stack-init")
	if s.Build == nil {
		t.Fatal("stack-init has no build section")
	}
	root, _ := filepath.Abs(repoRoot)
	if s.Build.Context != root {
		t.Errorf("build context = %q, want the repository root %q", s.Build.Context, root)
	}
	df := s.Build.Dockerfile
	if !filepath.IsAbs(df) {
		df = filepath.Join(s.Build.Context, df)
	}
	if want, _ := filepath.Abs(stackctlDockerfile); df != want {
		t.Errorf("dockerfile = %q, want %q", df, want)
	}
	if s.PullPolicy != types.PullPolicyBuild {
		t.Errorf("pull_policy = %q, want %q: every up builds this checkout's stackctl", s.PullPolicy, types.PullPolicyBuild)
	}
	for _, k := range requiredDockerfileArgs(t, stackctlDockerfile) {
		got := s.Build.Args[k]
		if got == nil || *got != v[k] {
			t.Errorf("build arg %s = %v, want %q from stack/versions.env", k, deref(got), v[k])
		}
	}
	if !strings.Contains(s.Image, v["GO_IMAGE_VERSION"]) {
		t.Errorf("image tag %q does not name GO_IMAGE_VERSION=%s", s.Image, v["GO_IMAGE_VERSION"])
	}

	dockerfile := readFile(t, stackctlDockerfile)
	// Official images only: Docker's golang image to build, Google's distroless static to run.
	var from []string
	for _, m := range regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(dockerfile, -1) {
		from = append(from, m[1])
	}
	if want := []string{"golang:${GO_IMAGE_VERSION}", "gcr.io/distroless/static-debian12:nonroot"}; !slices.Equal(from, want) {
		t.Errorf("base images = %q, want %q", from, want)
	}
	for _, w := range []string{"CGO_ENABLED=0", "GOWORK=off", "go build", "./cmd/stackctl", "COPY schema schema"} {
		if !strings.Contains(dockerfile, w) {
			t.Errorf("%s lacks %q", stackctlDockerfile, w)
		}
	}

	// The build context holds every module stackctl is built from (stack/ and the modules it
	// replaces with local directories) and the schema: each is copied and let through the
	// ignore file, which shuts out the rest.
	ignore := strings.Split(readFile(t, stackctlIgnore), "\n")
	if !slices.Contains(ignore, "*") {
		t.Errorf("%s does not start by ignoring everything (*)", stackctlIgnore)
	}
	for _, dir := range append(localModules(t), "schema") {
		if !regexp.MustCompile(`(?m)^COPY ` + regexp.QuoteMeta(dir) + ` ` + regexp.QuoteMeta(dir) + `\s*$`).MatchString(dockerfile) {
			t.Errorf("%s does not COPY %s %s", stackctlDockerfile, dir, dir)
		}
		if !slices.Contains(ignore, "!"+dir) {
			t.Errorf("%s does not let %s into the build context (!%s)", stackctlIgnore, dir, dir)
		}
	}
}

// The golang image is at least the Go release every module built into the image asks for in its
// go directive (otherwise the build would fetch another toolchain, or fail offline).
func TestGoImageVersionCoversTheModules(t *testing.T) {
	image := releaseOf(t, "GO_IMAGE_VERSION", versions(t)["GO_IMAGE_VERSION"])
	goLine := regexp.MustCompile(`(?m)^go\s+(\S+)\s*$`)
	for _, dir := range localModules(t) {
		m := goLine.FindStringSubmatch(readFile(t, filepath.Join(repoRoot, dir, "go.mod")))
		if m == nil {
			t.Errorf("%s/go.mod has no go directive", dir)
			continue
		}
		if need := releaseOf(t, dir+"/go.mod", m[1]); image[0] < need[0] || image[0] == need[0] && image[1] < need[1] {
			t.Errorf("GO_IMAGE_VERSION=%d.%d is older than go %s in %s/go.mod", image[0], image[1], m[1], dir)
		}
	}
}

// releaseOf parses the major and minor number of a Go version such as 1.26 or 1.26.0.
func releaseOf(t *testing.T, what, v string) [2]int {
	t.Helper()
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		t.Fatalf("%s: %q is not a Go version like 1.26", what, v)
	}
	var r [2]int
	for i := range r {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			t.Fatalf("%s: %q is not a Go version like 1.26", what, v)
		}
		r[i] = n
	}
	return r
}

// localModules lists, relative to the repository root, the directories of the modules that
// `go build ./cmd/stackctl` compiles in stack/ with GOWORK=off, as the image builds it: stack
// itself and the modules its go.mod replaces with local directories.
func localModules(t *testing.T) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") == "" {
			t.Fatalf("the go command is not on PATH: %v", err)
		}
	}
	cmd := exec.Command(goBin, "list", "-deps", "-f", "{{with .Module}}{{.Dir}}{{end}}", "./cmd/stackctl")
	cmd.Dir = filepath.Join(repoRoot, "stack")
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/stackctl (GOWORK=off): %v\n%s", err, stderr.String())
	}
	root, _ := filepath.Abs(repoRoot)
	var dirs []string
	for _, d := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, d)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue // a module from the module cache
		}
		if rel = filepath.ToSlash(rel); !slices.Contains(dirs, rel) {
			dirs = append(dirs, rel)
		}
	}
	if !slices.Contains(dirs, "stack") {
		t.Fatalf("go list found no stack module among %q", dirs)
	}
	slices.Sort(dirs)
	return dirs
}
