package composecheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// stockMemtable is the memtable stanza of the cassandra.yaml that Cassandra 5.0 ships (and the
// official image uses): the trie configuration exists, the default is the skip list.
const stockMemtable = `memtable:
  configurations:
    skiplist:
      class_name: SkipListMemtable
    trie:
      class_name: TrieMemtable
    default:
      inherits: skiplist
`

// The Docker Cassandra must run with the settings the native template gives the node (the raw
// path's performance depends on them). The compose entrypoint edits the image's cassandra.yaml;
// run it on stand-ins for that file and compare the result with the native template.
func TestCassandraSettingsMatchNative(t *testing.T) {
	s := service(t, load(t), "cassandra")
	if len(s.Entrypoint) != 3 || s.Entrypoint[0] != "bash" {
		t.Fatalf("cassandra entrypoint = %q, want bash -c <script>", s.Entrypoint)
	}
	script := s.Entrypoint[2]
	const imageYAML, startServer = "/etc/cassandra/cassandra.yaml", "exec docker-entrypoint.sh cassandra -f"
	if !strings.Contains(script, imageYAML) || !strings.Contains(script, startServer) {
		t.Fatalf("cassandra entrypoint no longer edits %s and starts the server:\n%s", imageYAML, script)
	}
	native := yamlFile(t, filepath.Join(repoRoot, "stack", "native", "cassandra", "cassandra.yaml.tmpl"))
	keys := []string{"authenticator", "authorizer", "role_manager",
		"unlogged_batch_across_partitions_warn_threshold", "batch_size_warn_threshold",
		"memtable_heap_space", "memtable_cleanup_threshold",
		"data_disk_usage_percentage_warn_threshold", "data_disk_usage_percentage_fail_threshold",
		"disk_failure_policy", "commit_failure_policy"}
	if got := defaultMemtable(t, native); got != "TrieMemtable" {
		t.Fatalf("native template's default memtable is %q; this test expects the trie", got)
	}

	for name, image := range map[string]string{
		"stock stanza":   "cluster_name: 'Test Cluster'\nbatch_size_warn_threshold: 5KiB\n" + stockMemtable + "memtable_allocation_type: heap_buffers\n",
		"without stanza": "cluster_name: 'Test Cluster'\n# memtable_heap_space: 2048MiB\n",
		// 5.0's own file writes the authenticator as a block with its class under it.
		"block authenticator": "cluster_name: 'Test Cluster'\nauthenticator:\n  class_name : org.apache.cassandra.auth.AllowAllAuthenticator\n" +
			"authorizer: AllowAllAuthorizer\nbatch_size_warn_threshold: 5KiB\n" + stockMemtable,
	} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "cassandra.yaml")
			if err := os.WriteFile(f, []byte(image), 0o644); err != nil {
				t.Fatal(err)
			}
			run := strings.ReplaceAll(strings.ReplaceAll(script, imageYAML, f), startServer, "true")
			if out, err := exec.Command("bash", "-c", run).CombinedOutput(); err != nil {
				t.Fatalf("entrypoint script: %v\n%s", err, out)
			}
			got := yamlFile(t, f)
			for _, k := range keys {
				if got[k] != native[k] {
					t.Errorf("%s: docker %v, native %v", k, got[k], native[k])
				}
			}
			if m := defaultMemtable(t, got); m != "TrieMemtable" {
				t.Errorf("docker default memtable = %q, want TrieMemtable", m)
			}
		})
	}
}

func yamlFile(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The disk guardrail's placeholders take the launcher's defaults; the others (@DATA@, @PORT@)
	// are not YAML, and their values do not matter here.
	launcher, err := os.ReadFile(filepath.Join(repoRoot, "stack", "native", "cassandra.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`: "\$\{CASSANDRA_DISK_(WARN|FAIL)_PERCENT:=([0-9]+)\}"`).FindAllSubmatch(launcher, -1) {
		b = bytes.ReplaceAll(b, []byte("@DISK_"+string(m[1])+"@"), m[2])
	}
	b = regexp.MustCompile(`@[A-Z_]+@`).ReplaceAll(b, []byte("placeholder"))
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// defaultMemtable resolves memtable.configurations.default (following inherits) to its class.
func defaultMemtable(t *testing.T, conf map[string]any) string {
	t.Helper()
	m, _ := conf["memtable"].(map[string]any)
	configs, _ := m["configurations"].(map[string]any)
	name := "default"
	for range 5 {
		c, _ := configs[name].(map[string]any)
		if cls, ok := c["class_name"].(string); ok {
			return cls
		}
		next, ok := c["inherits"].(string)
		if !ok {
			return ""
		}
		name = next
	}
	return ""
}
