package testkit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Suite is the harness of one test package: the programs it builds, its shared namespace and the
// namespaces of its tests. Declare one per package and run it from TestMain:
//
//	var suite = testkit.NewSuite("jobtest")
//
//	func TestMain(m *testing.M) { os.Exit(suite.Run(m)) }
//
// A Suite is safe for concurrent use by parallel tests.
type Suite struct {
	name string

	mu       sync.Mutex
	dir      string            // temporary directory of built binaries
	bins     map[string]string // package path -> binary
	shared   *Namespace
	sharedEr error
	owned    []string // namespaces to drop when the suite ends
}

// NewSuite names a suite; name goes into its namespaces' names (lower-case letters and digits).
func NewSuite(name string) *Suite {
	return &Suite{name: slug(name, 12), bins: map[string]string{}}
}

// Run runs the tests, then drops the namespaces still owned and removes the built binaries.
func (s *Suite) Run(m *testing.M) int {
	code := m.Run()
	s.mu.Lock()
	owned := s.owned
	s.owned = nil
	s.mu.Unlock()
	for _, n := range owned {
		if code != 0 && os.Getenv("TESTKIT_KEEP") == "1" {
			fmt.Fprintf(os.Stderr, "testkit: kept namespace %s (TESTKIT_KEEP=1); drop it with `stackctl namespace drop %s`\n", n, n)
			continue
		}
		if err := s.stackctl(context.Background(), "namespace", "drop", n); err != nil {
			fmt.Fprintf(os.Stderr, "testkit: drop namespace %s: %v\n", n, err)
		}
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
	return code
}

// Build compiles the program at pkg (a path relative to the repository root, e.g. "./producer")
// once per suite and returns the binary. Extra build tags may be given (e.g. "faulthook").
func (s *Suite) Build(t testing.TB, pkg string, tags ...string) string {
	t.Helper()
	bin, err := s.binary(pkg, tags...)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// binary builds pkg once per suite (the workspace resolves every module from the root).
func (s *Suite) binary(pkg string, tags ...string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := pkg + " " + strings.Join(tags, ",")
	if b, ok := s.bins[key]; ok {
		return b, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "testkit-"+s.name); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(s.dir, fmt.Sprintf("%s-%d", filepath.Base(pkg), len(s.bins)))
	args := []string{"build", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %v\n%s", pkg, err, out)
	}
	s.bins[key] = bin
	return bin, nil
}

// Namespace returns the suite's shared namespace, created on first use and dropped when the suite
// ends. Tests that share it must tell their rows apart (their own topics, ids or tickers); a test
// that asserts whole tables uses FreshNamespace.
func (s *Suite) Namespace(t testing.TB) *Namespace {
	t.Helper()
	s.mu.Lock()
	if s.shared == nil && s.sharedEr == nil {
		s.mu.Unlock()
		ns, err := s.create(t, "shared")
		s.mu.Lock()
		if s.shared == nil && s.sharedEr == nil {
			s.shared, s.sharedEr = ns, err
			if err == nil {
				s.owned = append(s.owned, ns.Name)
			}
		}
	}
	ns, err := s.shared, s.sharedEr
	s.mu.Unlock()
	if err != nil {
		Unavailable(t, "create the suite's namespace: %v", err)
	}
	return ns
}

// FreshNamespace creates a namespace for this test alone, dropped when the test ends (kept when
// it failed and TESTKIT_KEEP=1).
func (s *Suite) FreshNamespace(t testing.TB) *Namespace {
	t.Helper()
	ns, err := s.create(t, t.Name())
	if err != nil {
		Unavailable(t, "create a namespace for %s: %v", t.Name(), err)
	}
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("TESTKIT_KEEP") == "1" {
			t.Logf("kept namespace %s (TESTKIT_KEEP=1): keyspace and database %s, topics %s_*", ns.Name, ns.Name, ns.Name)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := s.stackctl(ctx, "namespace", "drop", ns.Name); err != nil {
			t.Errorf("drop namespace %s: %v", ns.Name, err)
		}
	})
	return ns
}

func (s *Suite) create(t testing.TB, what string) (*Namespace, error) {
	servers, err := ServersFromEnv()
	if err != nil {
		return nil, err
	}
	var r [3]byte
	_, _ = rand.Read(r[:])
	// itest_<suite>_<what>_<random>: readable in `stackctl namespace list`, unique per creation.
	name := "itest_" + s.name + "_" + slug(what, 20) + "_" + hex.EncodeToString(r[:])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	if err := s.stackctl(ctx, "namespace", "create", name); err != nil {
		return nil, err
	}
	t.Logf("namespace %s created in %s", name, time.Since(start).Round(time.Millisecond))
	return &Namespace{Name: name, Servers: servers}, nil
}

// stackctl runs the project's stackctl (built once per suite) from the repository root, so that
// it reads the same .env as the programs.
func (s *Suite) stackctl(ctx context.Context, args ...string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	bin, err := s.binary("./stack/cmd/stackctl")
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("stackctl %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return nil
}

var notSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string, max int) string {
	s = strings.Trim(notSlug.ReplaceAllString(strings.ToLower(s), ""), "_")
	if len(s) > max {
		s = s[:max]
	}
	if s == "" {
		s = "x"
	}
	return s
}
