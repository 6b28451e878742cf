package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"gotest.tools/gotestsum/testjson"
)

type config struct {
	modules []string // module directories
	// standalone are module directories that go.work leaves out on purpose (test-only modules):
	// they are vetted and tested with GOWORK=off.
	standalone []string
	tags       string
	parallel   int
	timeout    string
	out        string
	run        string
	guard      string // shell command whose output must not change across the run
}

// result is what the closing line says.
type result struct {
	Passed, Failed, Skipped int
}

func (r result) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", r.Passed, r.Failed, r.Skipped)
}

// run vets and tests every module, then prints the failures and the closing line to w.
func run(ctx context.Context, cfg config, w io.Writer) (result, error) {
	out := cfg.out
	if out == "" {
		var err error
		if out, err = os.MkdirTemp("", "testrun"); err != nil {
			return result{}, err
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return result{}, err
	}
	tags := strings.Join(strings.FieldsFunc(cfg.tags, func(r rune) bool { return r == ' ' || r == ',' }), ",")
	var before []byte
	if cfg.guard != "" {
		var err error
		if before, err = shell(ctx, cfg.guard); err != nil {
			return result{}, fmt.Errorf("guard %q before the tests: %w\n%s", cfg.guard, err, before)
		}
		fmt.Fprintf(w, "== guard: %d lines of digest taken before the tests (%s)\n", bytes.Count(before, []byte("\n")), cfg.guard)
	}
	var exec *testjson.Execution // made by the first scan, then shared by all modules
	var vetFailures, goErrors []string
	formatter := testjson.NewEventFormatter(w, "pkgname-and-test-fails", testjson.FormatOptions{HideEmptyPackages: true})
	standalone := map[string]bool{}
	for _, m := range cfg.standalone {
		standalone[m] = true
	}
	for _, mod := range append(append([]string{}, cfg.modules...), cfg.standalone...) {
		name := filepath.Base(mod)
		var env []string
		if standalone[mod] {
			env = []string{"GOWORK=off"}
			name += " (GOWORK=off)"
		}
		fmt.Fprintf(w, "== %s: go vet\n", name)
		vet, err := goCmd(ctx, mod, env, append([]string{"vet"}, tagArgs(tags)...), "./...")
		if err != nil {
			vetFailures = append(vetFailures, fmt.Sprintf("go vet %s: %v\n%s", name, err, vet))
			fmt.Fprintf(w, "FAIL go vet %s\n", name)
		}
		if werr := os.WriteFile(filepath.Join(out, logName(mod)+".vet.txt"), vet, 0o644); werr != nil {
			return result{}, werr
		}
		fmt.Fprintf(w, "== %s: go test %s\n", name, strings.Join(tagArgs(tags), " "))
		args := []string{"test", "-json", "-count=1", "-timeout", cfg.timeout}
		if cfg.parallel > 0 {
			args = append(args, "-p", strconv.Itoa(cfg.parallel))
		}
		if cfg.run != "" {
			args = append(args, "-run", cfg.run)
		}
		args = append(args, tagArgs(tags)...)
		args = append(args, "./...")
		jsonFile, err := os.Create(filepath.Join(out, logName(mod)+".json"))
		if err != nil {
			return result{}, err
		}
		var goErr string
		exec, goErr, err = scanGoTest(ctx, mod, env, args, jsonFile, exec, formatter, w)
		jsonFile.Close()
		if err != nil {
			return result{}, fmt.Errorf("%s: %w", name, err)
		}
		if goErr != "" {
			goErrors = append(goErrors, fmt.Sprintf("go test in %s: %s", name, goErr))
		}
	}
	var guardFailure string
	if cfg.guard != "" {
		after, err := shell(ctx, cfg.guard)
		switch {
		case err != nil:
			guardFailure = fmt.Sprintf("guard %q after the tests: %v\n%s", cfg.guard, err, after)
		case !bytes.Equal(before, after):
			guardFailure = "the tests changed data they must leave alone:\n" + lineDiff(string(before), string(after))
		default:
			fmt.Fprintln(w, "== guard: digest unchanged by the tests")
		}
		if guardFailure != "" {
			goErrors = append(goErrors, guardFailure)
		}
	}
	res := summarize(exec, len(vetFailures)+len(goErrors))
	if res.Failed > 0 {
		fmt.Fprintln(w)
		for _, v := range vetFailures {
			fmt.Fprintf(w, "=== vet finding\n%s\n", v)
		}
		for _, v := range goErrors {
			fmt.Fprintf(w, "=== failed outside any test\n%s\n", v)
		}
		testjson.PrintSummary(w, exec, testjson.SummarizeFailed|testjson.SummarizeErrors|testjson.SummarizeOutput)
	}
	fmt.Fprintf(w, "logs: %s\n", out)
	fmt.Fprintln(w, res)
	return res, nil
}

// summarize counts test cases (subtests included) from the execution. A package that failed
// without a failing test (no build, panic outside a test, timeout, TestMain exit) counts once;
// other counts failures found outside go test's packages (vet findings, go test errors).
func summarize(e *testjson.Execution, other int) result {
	r := result{Failed: other}
	if e == nil {
		return r
	}
	r.Failed += len(e.Failed()) // failed tests, plus one entry per package that failed without one
	r.Skipped = len(e.Skipped())
	var failedTests int
	for _, p := range e.Packages() {
		failedTests += len(e.Package(p).Failed)
	}
	r.Passed = e.Total() - failedTests - r.Skipped
	return r
}

// lineDiff lists the lines only in a (-) and only in b (+).
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ia, ib := in(a), in(b)
	var out strings.Builder
	for _, l := range strings.Split(a, "\n") {
		if !ib[l] {
			fmt.Fprintf(&out, "  - %s\n", l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ia[l] {
			fmt.Fprintf(&out, "  + %s\n", l)
		}
	}
	return out.String()
}

func shell(ctx context.Context, command string) ([]byte, error) {
	return exec.CommandContext(ctx, "bash", "-c", command).Output()
}

func tagArgs(tags string) []string {
	if tags == "" {
		return nil
	}
	return []string{"-tags", tags}
}

func goCmd(ctx context.Context, dir string, env, args []string, pkgs ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", append(args, pkgs...)...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

// logName names a module's files in the output directory: its path with separators replaced, so
// that sparkconnect and sparkconnect/internal/compat do not collide.
func logName(mod string) string {
	return strings.Trim(strings.NewReplacer("/", "_", string(filepath.Separator), "_").Replace(mod), "_.")
}

// scanGoTest runs go test -json in dir, copies the stream to jsonFile, prints each event through
// the formatter and adds the results to e (a new Execution when e is nil).
// It returns go test's own error output when go test failed and no package result explains it
// (a module that does not resolve, say).
func scanGoTest(ctx context.Context, dir string, env, args []string, jsonFile io.Writer, e *testjson.Execution,
	formatter testjson.EventFormatter, w io.Writer) (*testjson.Execution, string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return e, "", err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return e, "", fmt.Errorf("start go test: %w", err)
	}
	failedBefore := 0
	if e != nil {
		failedBefore = len(e.Failed())
	}
	exec, scanErr := testjson.ScanTestOutput(testjson.ScanConfig{
		Stdout:                   io.TeeReader(stdout, jsonFile),
		Handler:                  handler{formatter: formatter, w: w},
		Execution:                e,
		IgnoreNonJSONOutputLines: true,
	})
	waitErr := cmd.Wait()
	if scanErr != nil {
		return exec, "", fmt.Errorf("read go test output: %w", scanErr)
	}
	s := strings.TrimSpace(stderr.String())
	if s != "" {
		fmt.Fprintln(w, s)
	}
	if waitErr != nil && (exec == nil || len(exec.Failed()) == failedBefore) {
		if s == "" {
			s = waitErr.Error()
		}
		return exec, s, nil
	}
	return exec, "", nil
}

type handler struct {
	formatter testjson.EventFormatter
	w         io.Writer
}

func (h handler) Event(ev testjson.TestEvent, e *testjson.Execution) error {
	return h.formatter.Format(ev, e)
}

func (h handler) Err(text string) error {
	fmt.Fprintln(h.w, text)
	return nil
}
