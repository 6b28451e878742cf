// Command testrun runs `go vet` and `go test` over the workspace's modules and prints one honest
// result: every test's outcome as it finishes, then each failure with its own output, then
// `N passed, N failed, N skipped` as the last line, with an exit code that agrees with it.
//
//	testrun [-tags "integration e2e"] [-p 1] [-timeout 40m] [-out DIR] [-guard CMD] module...
//
// A package that does not build, a vet finding, a panic and a timeout each count as a failure
// (a test binary that panics or times out fails its package even where no test reports FAIL).
// With -guard, a command that prints a digest of data the tests must leave alone (the product's
// namespace: `stackctl fingerprint`) runs before and after the tests; any difference is a failure.
// The `go test -json` stream is read with gotestsum's testjson package, which also prints the
// progress lines and the failure summary.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cfg := config{}
	flag.StringVar(&cfg.tags, "tags", "", "build tags for vet and test (space or comma separated)")
	flag.IntVar(&cfg.parallel, "p", 0, "packages tested at once (go test -p); 0 = go's default")
	flag.StringVar(&cfg.timeout, "timeout", "40m", "go test -timeout of each package")
	flag.StringVar(&cfg.out, "out", "", "directory for the JSON streams and vet logs (default: a new temporary one)")
	flag.StringVar(&cfg.run, "run", "", "go test -run pattern")
	flag.Func("standalone", "a module `dir` that go.work leaves out, tested with GOWORK=off (repeatable)", func(v string) error {
		cfg.standalone = append(cfg.standalone, v)
		return nil
	})
	flag.StringVar(&cfg.guard, "guard", "", "a shell command printing a digest of data the tests must not change; run before and after, a difference is a failure")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: testrun [flags] module...\n\nRuns go vet and go test in each module directory and prints `N passed, N failed, N skipped` last.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	cfg.modules = flag.Args()
	if len(cfg.modules)+len(cfg.standalone) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testrun:", err)
		fmt.Println("0 passed, 1 failed, 0 skipped")
		os.Exit(1)
	}
	if res.Failed > 0 {
		os.Exit(1)
	}
}
