package composecheck

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// Paths from this package's directory (stack/composecheck) to the files under test.
var (
	repoRoot     = filepath.Join("..", "..")
	composeFile  = filepath.Join(repoRoot, "docker-compose.yml")
	versionsFile = filepath.Join(repoRoot, "stack", "versions.env")
)

const fakeRootPassword = "not-a-real-secret"

// Services that run once and exit; every other service is long-running.
var initServices = []string{"stack-init"}

// writeEnv writes a KEY=VALUE file into dir and returns its path.
func writeEnv(t *testing.T, dir, name string, kv map[string]string) string {
	t.Helper()
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + kv[k] + "\n")
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeSecrets stand for the secrets of the repository's .env (which is not read): every name the
// stack's .env.example lists gets a fake value of its own (see fakeSecret).
func fakeSecrets(t *testing.T) map[string]string {
	t.Helper()
	names, err := ReadEnvFile(filepath.Join(repoRoot, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for k := range names {
		m[k] = fakeSecret(k)
	}
	m["MYSQL_ROOT_PASSWORD"], m["SPARK_CONNECT_SECRET"] = fakeRootPassword, fakeSparkSecret
	return m
}

// fakeSecret is the fake value of the secret called name.
func fakeSecret(name string) string { return "fake-" + strings.ToLower(name) }

// fakeDotEnv stands for the repository's .env (which holds real passwords and is not read).
func fakeDotEnv(t *testing.T) string {
	t.Helper()
	return writeEnv(t, t.TempDir(), ".env", fakeSecrets(t))
}

func versions(t *testing.T) map[string]string {
	t.Helper()
	v, err := ReadEnvFile(versionsFile)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// load loads docker-compose.yml as `make up` does: stack/versions.env plus .env.
func load(t *testing.T) *types.Project {
	t.Helper()
	p, err := Load(context.Background(), composeFile, versionsFile, fakeDotEnv(t))
	if err != nil {
		t.Fatalf("docker-compose.yml does not load with stack/versions.env: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("service %q missing", name)
	}
	return s
}

func env(s types.ServiceConfig, key string) string {
	if v, ok := s.Environment[key]; ok && v != nil {
		return *v
	}
	return ""
}

func TestReadEnvFileHasTheVersions(t *testing.T) {
	v := versions(t)
	for _, k := range []string{"KAFKA_VERSION", "CASSANDRA_VERSION", "MYSQL_IMAGE_VERSION", "SPARK_VERSION",
		"SPARK_SCALA", "SPARK_CASSANDRA_CONNECTOR_VERSION", "MYSQL_CONNECTOR_J_VERSION", "GO_IMAGE_VERSION"} {
		if v[k] == "" {
			t.Errorf("stack/versions.env has no %s", k)
		}
	}
}

func TestLoadNeedsAnEnvFile(t *testing.T) {
	if _, err := Load(context.Background(), composeFile); err == nil {
		t.Fatal("Load without env files succeeded; it must not fall back to the repository's .env")
	}
}

func TestServices(t *testing.T) {
	p := load(t)
	want := []string{"cassandra", "kafka", "mysql",
		"spark-connect", "spark-master", "spark-worker", "stack-init"}
	got := p.ServiceNames()
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("services = %v, want %v", got, want)
	}
}

// The image tags are the versions of stack/versions.env, the same the native launcher runs.
func TestImagesArePinnedToVersionsEnv(t *testing.T) {
	p := load(t)
	v := versions(t)
	sparkTag := v["SPARK_VERSION"] + "-scala" + v["SPARK_SCALA"] + "-java17-python3-ubuntu"
	tests := []struct {
		service, image string
	}{
		{"kafka", "apache/kafka:" + v["KAFKA_VERSION"]},
		{"cassandra", "cassandra:" + v["CASSANDRA_VERSION"]},
		{"mysql", "mysql:" + v["MYSQL_IMAGE_VERSION"]},
		{"spark-master", "apache/spark:" + sparkTag},
	}
	for _, tc := range tests {
		t.Run(tc.service, func(t *testing.T) {
			s := service(t, p, tc.service)
			if s.Image != tc.image {
				t.Errorf("image = %q, want %q", s.Image, tc.image)
			}
			if s.Build != nil {
				t.Errorf("official image expected, but the service has a build section")
			}
		})
	}
}

// The Spark image that carries the connector jars is built from the official image with every
// version passed from stack/versions.env, and its tag names them so that a bump rebuilds it.
func TestSparkImageBuildArgs(t *testing.T) {
	p := load(t)
	v := versions(t)
	wantArgs := []string{"SPARK_VERSION", "SPARK_SCALA", "SPARK_CASSANDRA_CONNECTOR_VERSION", "MYSQL_CONNECTOR_J_VERSION"}
	dockerfileArgs := requiredDockerfileArgs(t, filepath.Join(repoRoot, "stack", "docker", "spark", "Dockerfile"))
	for _, name := range []string{"spark-worker", "spark-connect"} {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			if s.Build == nil {
				t.Fatal("no build section")
			}
			wantCtx, _ := filepath.Abs(filepath.Join(repoRoot, "stack", "docker", "spark"))
			if s.Build.Context != wantCtx {
				t.Errorf("build context = %q, want %q", s.Build.Context, wantCtx)
			}
			for _, k := range wantArgs {
				got := s.Build.Args[k]
				if got == nil || *got != v[k] {
					t.Errorf("build arg %s = %v, want %q", k, deref(got), v[k])
				}
				if !strings.Contains(s.Image, v[k]) {
					t.Errorf("image tag %q does not name %s=%s", s.Image, k, v[k])
				}
			}
			for _, k := range dockerfileArgs {
				if _, ok := s.Build.Args[k]; !ok {
					t.Errorf("the Dockerfile needs build arg %s, compose does not pass it", k)
				}
			}
		})
	}
	if w, c := service(t, p, "spark-worker"), service(t, p, "spark-connect"); w.Image != c.Image {
		t.Errorf("spark-worker runs %q but spark-connect %q: executors and driver need the same jars", w.Image, c.Image)
	}
	dockerfile, err := os.ReadFile(filepath.Join(repoRoot, "stack", "docker", "spark", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	from := "FROM apache/spark:${SPARK_VERSION}-scala${SPARK_SCALA}-java17-python3-ubuntu"
	if !strings.Contains(string(dockerfile), from) {
		t.Errorf("the Dockerfile does not start from the official Java 17 image (%s)", from)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}

// requiredDockerfileArgs lists the ARGs of a Dockerfile that have no default value.
func requiredDockerfileArgs(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^ARG\s+([A-Za-z_][A-Za-z0-9_]*)\s*$`)
	var args []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil && !slices.Contains(args, m[1]) {
			args = append(args, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(args) == 0 {
		t.Fatalf("%s declares no ARG without default", path)
	}
	return args
}

func TestHealthchecksAndRestart(t *testing.T) {
	p := load(t)
	for _, name := range p.ServiceNames() {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			if slices.Contains(initServices, name) {
				if s.Restart != "no" {
					t.Errorf("one-shot service has restart %q, want \"no\"", s.Restart)
				}
				return
			}
			if s.Restart != "unless-stopped" {
				t.Errorf("restart = %q, want unless-stopped", s.Restart)
			}
			hc := s.HealthCheck
			if hc == nil || hc.Disable || len(hc.Test) < 2 {
				t.Fatalf("long-running service without a healthcheck: %+v", hc)
			}
			if hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL" {
				t.Errorf("healthcheck test starts with %q, want CMD or CMD-SHELL", hc.Test[0])
			}
			if hc.Interval == nil || hc.Timeout == nil || hc.Retries == nil || hc.StartPeriod == nil {
				t.Errorf("healthcheck without explicit interval/timeout/retries/start_period: %+v", hc)
			}
		})
	}
}

// What each healthcheck probes, so that a check cannot silently become `true`.
func TestHealthcheckProbes(t *testing.T) {
	p := load(t)
	tests := []struct {
		service string
		want    []string // substrings of the joined test command
	}{
		{"kafka", []string{"kafka-broker-api-versions.sh", "--bootstrap-server localhost:"}},
		{"cassandra", []string{"nodetool status", "^UN"}},
		{"mysql", []string{"mysqladmin", "ping"}},
		{"spark-master", []string{"wget", "http://localhost:8080/", "ALIVE"}},
		{"spark-worker", []string{"wget", "http://localhost:8081/", "masterurl"}},
		{"spark-connect", []string{"/dev/tcp/127.0.0.1/15002"}},
	}
	for _, tc := range tests {
		t.Run(tc.service, func(t *testing.T) {
			hc := service(t, p, tc.service).HealthCheck
			if hc == nil {
				t.Fatal("no healthcheck")
			}
			cmd := strings.Join(hc.Test, " ")
			for _, w := range tc.want {
				if !strings.Contains(cmd, w) {
					t.Errorf("healthcheck %q does not contain %q", cmd, w)
				}
			}
		})
	}
}

func TestPortsArePublishedOnLoopbackOnly(t *testing.T) {
	p := load(t)
	want := map[string]map[string]uint32{ // service -> published -> container port
		"kafka":         {"9092": 9092},
		"cassandra":     {"9042": 9042},
		"mysql":         {"3306": 3306},
		"spark-master":  {"7077": 7077, "8080": 8080},
		"spark-worker":  {"8081": 8081},
		"spark-connect": {"15002": 15002, "4040": 4040},
	}
	for _, name := range p.ServiceNames() {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			got := map[string]uint32{}
			for _, port := range s.Ports {
				if port.HostIP != "127.0.0.1" {
					t.Errorf("port %s:%d published on host_ip %q, want 127.0.0.1", port.Published, port.Target, port.HostIP)
				}
				if port.Published == "" {
					t.Errorf("port %d has no fixed host port", port.Target)
				}
				got[port.Published] = port.Target
			}
			if w := want[name]; len(got) != len(w) {
				t.Errorf("published ports = %v, want %v", got, w)
			} else {
				for pub, target := range w {
					if got[pub] != target {
						t.Errorf("published ports = %v, want %v", got, w)
						break
					}
				}
			}
		})
	}
}

func TestNamedVolumes(t *testing.T) {
	p := load(t)
	declared := make([]string, 0, len(p.Volumes))
	for name := range p.Volumes {
		declared = append(declared, name)
	}
	sort.Strings(declared)
	wantDeclared := []string{"cassandra-data", "kafka-data", "mysql-data", "spark-checkpoints"}
	if !slices.Equal(declared, wantDeclared) {
		t.Errorf("declared volumes = %v, want %v", declared, wantDeclared)
	}

	tests := []struct {
		service, volume, target string
	}{
		{"kafka", "kafka-data", "/var/lib/kafka/data"},
		{"cassandra", "cassandra-data", "/var/lib/cassandra"},
		{"mysql", "mysql-data", "/var/lib/mysql"},
		{"spark-connect", "spark-checkpoints", "/opt/spark/checkpoints"},
		{"spark-worker", "spark-checkpoints", "/opt/spark/checkpoints"},
	}
	used := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.service+"/"+tc.volume, func(t *testing.T) {
			s := service(t, p, tc.service)
			for _, m := range s.Volumes {
				if m.Type == types.VolumeTypeVolume && m.Source == tc.volume && m.Target == tc.target {
					used[tc.volume] = true
					return
				}
			}
			t.Errorf("%s does not mount volume %s at %s; mounts: %+v", tc.service, tc.volume, tc.target, s.Volumes)
		})
	}
	for _, v := range wantDeclared {
		if !used[v] {
			t.Errorf("volume %s is declared but not used where expected", v)
		}
	}
	// Kafka's log dir must be the mounted volume, or the data would live in the container.
	if got := env(service(t, p, "kafka"), "KAFKA_LOG_DIRS"); got != "/var/lib/kafka/data" {
		t.Errorf("KAFKA_LOG_DIRS = %q, want the volume's mount point", got)
	}
	// spark.sql.streaming.checkpointLocation points into the checkpoint volume.
	if cmd := strings.Join(service(t, p, "spark-connect").Command, " "); !strings.Contains(cmd,
		"spark.sql.streaming.checkpointLocation=/opt/spark/checkpoints") {
		t.Errorf("spark-connect does not put its checkpoints into the volume: %s", cmd)
	}
}

// bindSource returns the host path bound at target in s, or "".
func bindSource(s types.ServiceConfig, target string) string {
	for _, m := range s.Volumes {
		if m.Type == types.VolumeTypeBind && m.Target == target {
			return m.Source
		}
	}
	return ""
}

// Every bind mount names a path of this repository that exists and is mounted read-only.
func TestBindMountsExist(t *testing.T) {
	p := load(t)
	for _, name := range p.ServiceNames() {
		for _, m := range service(t, p, name).Volumes {
			if m.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(m.Source); err != nil {
				t.Errorf("%s binds %s, which does not exist: %v", name, m.Source, err)
			}
			if !m.ReadOnly {
				t.Errorf("%s binds %s read-write, want read-only", name, m.Source)
			}
		}
	}
}

// MySQL starts with root only: the database, its schema and the users come from stack-init
// (stackctl migrate), as natively, never from the image's entrypoint.
func TestMySQLIsPreparedByStackInitOnly(t *testing.T) {
	p := load(t)
	s := service(t, p, "mysql")
	if got := env(s, "MYSQL_ROOT_PASSWORD"); got != fakeRootPassword {
		t.Errorf("MYSQL_ROOT_PASSWORD = %q, want the value of .env", got)
	}
	for _, k := range []string{"MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD"} {
		if _, ok := s.Environment[k]; ok {
			t.Errorf("mysql sets %s: the entrypoint would create it outside stackctl migrate", k)
		}
	}
	for _, name := range p.ServiceNames() {
		for _, m := range service(t, p, name).Volumes {
			if strings.HasPrefix(m.Target, "/docker-entrypoint-initdb.d") {
				t.Errorf("%s mounts %s at %s: the schema is applied by stack-init only", name, m.Source, m.Target)
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDependsOnOrder(t *testing.T) {
	p := load(t)
	const healthy, completed = types.ServiceConditionHealthy, types.ServiceConditionCompletedSuccessfully
	want := map[string]map[string]string{
		"kafka":        {},
		"cassandra":    {},
		"mysql":        {},
		"spark-master": {},
		"stack-init":   {"mysql": healthy, "cassandra": healthy, "kafka": healthy},
		"spark-worker": {"spark-master": healthy},
		"spark-connect": {"spark-master": healthy, "spark-worker": healthy, "kafka": healthy,
			"cassandra": healthy, "stack-init": completed},
	}
	for _, name := range p.ServiceNames() {
		t.Run(name, func(t *testing.T) {
			got := map[string]string{}
			for dep, d := range service(t, p, name).DependsOn {
				got[dep] = d.Condition
			}
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expected dependencies for %s", name)
			}
			if len(got) != len(w) {
				t.Errorf("depends_on = %v, want %v", got, w)
				return
			}
			for dep, cond := range w {
				if got[dep] != cond {
					t.Errorf("depends_on[%s] = %q, want %q", dep, got[dep], cond)
				}
			}
		})
	}
	// `docker compose up --wait` (make up) reports an exited one-shot container as a failure unless
	// a long-running service waits for it with service_completed_successfully.
	for _, initSvc := range initServices {
		adopted := false
		for name, s := range p.Services {
			if d, ok := s.DependsOn[initSvc]; ok && !slices.Contains(initServices, name) && d.Condition == completed {
				adopted = true
			}
		}
		if !adopted {
			t.Errorf("no long-running service waits for %s with %s: `up --wait` would fail", initSvc, completed)
		}
	}
	// The order compose starts services in: every service after what it depends on.
	var order []string
	if err := p.ForEachService(nil, func(name string, _ *types.ServiceConfig) error {
		order = append(order, name)
		return nil
	}); err != nil {
		t.Fatalf("walk services in dependency order: %v", err)
	}
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	for name, deps := range want {
		for dep := range deps {
			if pos[dep] >= pos[name] {
				t.Errorf("start order %v puts %s before its dependency %s", order, name, dep)
			}
		}
	}
}

func TestJVMHeaps(t *testing.T) {
	p := load(t)
	tests := []struct {
		service, key, want string
	}{
		{"kafka", "KAFKA_HEAP_OPTS", "-Xms512m -Xmx512m"},
		{"cassandra", "MAX_HEAP_SIZE", "1G"},
		{"spark-master", "SPARK_DAEMON_MEMORY", "256m"},
		{"spark-worker", "SPARK_DAEMON_MEMORY", "256m"},
	}
	for _, tc := range tests {
		t.Run(tc.service, func(t *testing.T) {
			if got := env(service(t, p, tc.service), tc.key); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
	// cassandra-env.sh refuses MAX_HEAP_SIZE without HEAP_NEWSIZE.
	if env(service(t, p, "cassandra"), "HEAP_NEWSIZE") == "" {
		t.Error("cassandra sets MAX_HEAP_SIZE without HEAP_NEWSIZE")
	}
}

// spark-defaults.conf is written for the native stack on 127.0.0.1. Every key of it whose value is
// a loopback address must be overridden for the compose network, and the file must be mounted.
func TestSparkConnectOverridesLoopbackDefaults(t *testing.T) {
	p := load(t)
	s := service(t, p, "spark-connect")
	conf, _ := filepath.Abs(filepath.Join(repoRoot, "spark-defaults.conf"))
	if got := bindSource(s, "/opt/spark/conf/spark-defaults.conf"); got != conf {
		t.Errorf("spark-defaults.conf bound from %q, want %q", got, conf)
	}
	cmd := strings.Join(s.Command, " ")
	for _, w := range []string{"org.apache.spark.sql.connect.service.SparkConnectServer",
		"--master spark://spark-master:7077", "spark.connect.grpc.binding.port=15002",
		"spark.driver.host=spark-connect"} {
		if !strings.Contains(cmd, w) {
			t.Errorf("spark-connect command lacks %q: %s", w, cmd)
		}
	}
	f, err := os.Open(conf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	loopback := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		key, val := fields[0], strings.Join(fields[1:], " ")
		if !strings.Contains(val, "127.0.0.1") && !strings.Contains(val, "localhost") {
			continue
		}
		loopback++
		if !slices.ContainsFunc(s.Command, func(a string) bool { return strings.HasPrefix(a, key+"=") }) {
			t.Errorf("spark-defaults.conf sets %s %s, which spark-connect does not override with --conf", key, val)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if loopback == 0 {
		t.Log("spark-defaults.conf has no loopback address to override")
	}
}

// A run without stack/versions.env (or without .env's root password) must stop with an error that
// names the missing variable, never fall back to some default version.
func TestMissingVariableFailsClearly(t *testing.T) {
	v := versions(t)
	required := []string{"KAFKA_VERSION", "CASSANDRA_VERSION", "MYSQL_IMAGE_VERSION", "SPARK_VERSION",
		"SPARK_SCALA", "SPARK_CASSANDRA_CONNECTOR_VERSION", "MYSQL_CONNECTOR_J_VERSION", "GO_IMAGE_VERSION",
		"MYSQL_ROOT_PASSWORD", "SPARK_CONNECT_SECRET"}
	for _, missing := range required {
		t.Run(missing, func(t *testing.T) {
			all := fakeSecrets(t)
			for k, val := range v {
				all[k] = val
			}
			delete(all, missing)
			envFile := writeEnv(t, t.TempDir(), "env", all)
			_, err := Load(context.Background(), composeFile, envFile)
			if err == nil {
				t.Fatalf("loading without %s succeeded", missing)
			}
			if !strings.Contains(err.Error(), missing) {
				t.Errorf("error does not name %s: %v", missing, err)
			}
		})
	}
	t.Run("no versions file", func(t *testing.T) {
		_, err := Load(context.Background(), composeFile, fakeDotEnv(t))
		if err == nil || !strings.Contains(err.Error(), "required variable") {
			t.Fatalf("loading with .env only: err = %v, want a required-variable error", err)
		}
	})
}

// Every reference to a versions.env variable in docker-compose.yml is ${NAME:?...}: a default
// (${NAME:-x}) or a plain ${NAME} would let a run without versions.env start other versions.
func TestVersionReferencesAreRequired(t *testing.T) {
	v := versions(t)
	text := readFile(t, composeFile)
	ref := regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}`)
	seen := map[string]int{}
	for _, m := range ref.FindAllStringSubmatch(text, -1) {
		name, rest := m[1], m[2]
		if _, isVersion := v[name]; !isVersion {
			continue
		}
		seen[name]++
		if !strings.HasPrefix(rest, ":?") {
			t.Errorf("%s is referenced as %q; want ${%s:?} so that a missing versions.env fails", name, m[0], name)
		}
	}
	for _, k := range []string{"KAFKA_VERSION", "CASSANDRA_VERSION", "MYSQL_IMAGE_VERSION", "SPARK_VERSION", "GO_IMAGE_VERSION"} {
		if seen[k] == 0 {
			t.Errorf("docker-compose.yml never references %s", k)
		}
	}
}

// fakeSparkSecret stands for the Spark Connect secret of .env.
const fakeSparkSecret = "fake-spark-secret"

// The Docker stack locks Spark Connect like the native one: the server gets the secret of .env in
// its environment, loads the interceptor named in the shared spark-defaults.conf, and the image
// compiles that interceptor (and the fan-out sink the job writes through) from stack/spark-ext.
func TestSparkConnectRequiresTheSecret(t *testing.T) {
	p := load(t)
	s := service(t, p, "spark-connect")
	if got := env(s, "SPARK_CONNECT_SECRET"); got != fakeSparkSecret {
		t.Errorf("spark-connect's SPARK_CONNECT_SECRET = %q, want the value of .env", got)
	}
	if s.Build == nil || s.Build.AdditionalContexts["ext"] == "" ||
		!strings.HasSuffix(filepath.ToSlash(s.Build.AdditionalContexts["ext"]), "stack/spark-ext") {
		t.Errorf("the Spark image's build has no context ext = stack/spark-ext: %+v", s.Build)
	}
	dockerfile := readFile(t, filepath.Join(repoRoot, "stack", "docker", "spark", "Dockerfile"))
	for _, w := range []string{"COPY --from=ext", "javac", "idxstream-spark-ext.jar"} {
		if !strings.Contains(dockerfile, w) {
			t.Errorf("stack/docker/spark/Dockerfile lacks %q", w)
		}
	}
	conf := readFile(t, filepath.Join(repoRoot, "spark-defaults.conf"))
	if !regexp.MustCompile(`(?m)^spark\.connect\.grpc\.interceptor\.classes\s+idxstream\.sparkauth\.SecretInterceptor\s*$`).MatchString(conf) {
		t.Error("spark-defaults.conf does not load idxstream.sparkauth.SecretInterceptor")
	}
	for _, f := range []string{"sparkauth/SecretInterceptor.java", "fanout/DefaultSource.java"} {
		if _, err := os.Stat(filepath.Join(repoRoot, "stack", "spark-ext", "src", "idxstream", f)); err != nil {
			t.Errorf("stack/spark-ext lacks %s: %v", f, err)
		}
	}
}
