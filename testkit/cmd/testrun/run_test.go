package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// module writes a throw-away module with the given files and returns its directory.
func module(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module example.com/m\n\ngo 1.26\n"
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRunCountsEveryKindOfFailure runs the real go vet and go test on small modules: a broken
// build, a vet finding, a failing test, a panic and a timeout must each be counted as a failure,
// with an exit (Failed > 0) that agrees with the closing line.
func TestRunCountsEveryKindOfFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	const pass = "package m\n\nimport \"testing\"\n\nfunc TestOK(t *testing.T) { t.Run(\"sub\", func(t *testing.T) {}) }\n"
	tests := []struct {
		name       string
		files      map[string]string
		timeout    string
		wantPassed int
		wantFailed int
		wantOutput string // must appear in the printed failures
	}{
		{name: "all pass", files: map[string]string{"a_test.go": pass}, wantPassed: 2},
		{name: "failing test", wantPassed: 2, wantFailed: 1, wantOutput: "want 2, got 3",
			files: map[string]string{"a_test.go": pass, "b_test.go": "package m\n\nimport \"testing\"\n\nfunc TestBad(t *testing.T) { t.Errorf(\"want 2, got 3\") }\n"}},
		// go vet and go test both report it.
		{name: "broken build", wantFailed: 2, wantOutput: "undefined: missing",
			files: map[string]string{"a_test.go": pass, "m.go": "package m\n\nvar x = missing\n"}},
		{name: "vet finding", wantPassed: 2, wantFailed: 1, wantOutput: "unreachable code",
			files: map[string]string{"a_test.go": pass, "m.go": "package m\n\nfunc F() int {\n\treturn 1\n\tpanic(\"never\")\n}\n"}},
		{name: "panic", wantFailed: 1, wantOutput: "panic: boom",
			files: map[string]string{"a_test.go": "package m\n\nimport \"testing\"\n\nfunc TestPanic(t *testing.T) { panic(\"boom\") }\n"}},
		// the test that was running and its package.
		{name: "timeout", timeout: "1s", wantFailed: 2, wantOutput: "test timed out",
			files: map[string]string{"a_test.go": "package m\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\nfunc TestSlow(t *testing.T) { time.Sleep(time.Minute) }\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := module(t, tt.files)
			timeout := tt.timeout
			if timeout == "" {
				timeout = "1m"
			}
			var out bytes.Buffer
			res, err := run(context.Background(), config{modules: []string{dir}, timeout: timeout, out: t.TempDir()}, &out)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			if res.Passed != tt.wantPassed || res.Failed != tt.wantFailed {
				t.Errorf("got %s, want %d passed, %d failed\n%s", res, tt.wantPassed, tt.wantFailed, out.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if last := lines[len(lines)-1]; last != res.String() {
				t.Errorf("last line %q, want the closing line %q", last, res.String())
			}
			if tt.wantOutput != "" && !strings.Contains(out.String(), tt.wantOutput) {
				t.Errorf("output does not show %q:\n%s", tt.wantOutput, out.String())
			}
		})
	}
}

// TestGuard: data that the tests change (a digest that differs after the run) is a failure.
func TestGuard(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	const pass = "package m\n\nimport \"testing\"\n\nfunc TestOK(t *testing.T) {}\n"
	state := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(state, []byte("rows=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		test       string // a test that may touch the guarded file
		wantFailed int
	}{
		{"untouched", pass, 0},
		{"changed by a test", "package m\n\nimport (\n\t\"os\"\n\t\"testing\"\n)\n\nfunc TestWrites(t *testing.T) { os.WriteFile(" +
			"\"" + state + "\", []byte(\"rows=2\\n\"), 0o644) }\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := module(t, map[string]string{"a_test.go": tt.test})
			var out bytes.Buffer
			res, err := run(context.Background(), config{modules: []string{dir}, timeout: "1m", out: t.TempDir(), guard: "cat " + state}, &out)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			if res.Failed != tt.wantFailed || res.Passed != 1 {
				t.Errorf("got %s, want 1 passed, %d failed\n%s", res, tt.wantFailed, out.String())
			}
			if tt.wantFailed > 0 && !strings.Contains(out.String(), "+ rows=2") {
				t.Errorf("the difference is not shown:\n%s", out.String())
			}
		})
	}
}
