package testkit

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is a program under test: its output is kept (and shown when the test fails), and it is
// stopped when the test ends: SIGTERM first, as an operator would, SIGKILL if it does not exit
// within StopGrace.
type Proc struct {
	Name string
	cmd  *exec.Cmd

	mu  sync.Mutex
	out bytes.Buffer

	exited chan struct{}
	err    error // the exit, once exited is closed
}

// StopGrace is how long a program gets to exit after SIGTERM at the end of a test.
const StopGrace = 2 * time.Minute

// ProcSpec says how to start a program.
type ProcSpec struct {
	Name string   // for logs
	Bin  string   // binary (see Suite.Build)
	Args []string // arguments
	Env  []string // added to os.Environ(); later entries win
	Dir  string   // working directory; default the repository root (the programs read ./.env)
}

// Start starts the program.
func Start(t testing.TB, spec ProcSpec) *Proc {
	t.Helper()
	p := &Proc{Name: spec.Name, exited: make(chan struct{})}
	if p.Name == "" {
		p.Name = spec.Bin
	}
	p.cmd = exec.Command(spec.Bin, spec.Args...)
	p.cmd.Dir = spec.Dir
	if p.cmd.Dir == "" {
		p.cmd.Dir = repoRootOrDot()
	}
	p.cmd.Env = append(os.Environ(), spec.Env...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.Name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may exit meanwhile
			select {
			case <-p.exited:
			case <-time.After(StopGrace):
				t.Errorf("%s did not exit within %s of SIGTERM; killed", p.Name, StopGrace)
				p.cmd.Process.Kill() //nolint:errcheck
				<-p.exited
			}
		}
		if t.Failed() {
			t.Logf("--- %s output (last 80 lines):\n%s", p.Name, p.Tail(80))
		}
	})
	return p
}

// Write implements io.Writer for the program's output.
func (p *Proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Output is everything the program printed so far.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Tail is the last n lines of the output.
func (p *Proc) Tail(n int) string {
	all := strings.Split(p.Output(), "\n")
	return strings.Join(all[max(0, len(all)-n):], "\n")
}

// Exited is closed when the program has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Pid is the program's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the program.
func (p *Proc) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("signal %s: %v", p.Name, err)
	}
}

// Wait waits for the exit and returns it; the test fails if the program is still running after
// within.
func (p *Proc) Wait(t testing.TB, within time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(within):
		t.Fatalf("%s still running after %s", p.Name, within)
		return nil
	}
}

// Stop sends sig and waits for the exit.
func (p *Proc) Stop(t testing.TB, sig syscall.Signal, within time.Duration) error {
	t.Helper()
	p.Signal(t, sig)
	return p.Wait(t, within)
}

// ExitCode is the exit code once the program exited (-1 when killed by a signal).
func (p *Proc) ExitCode() int {
	if p.cmd.ProcessState == nil {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Eventually polls cond every poll until it returns nil, and fails the test when within passes
// or when one of the watched programs exits meanwhile (its exit is the real failure then).
func Eventually(t testing.TB, within time.Duration, what string, cond func() error, watch ...*Proc) {
	t.Helper()
	const poll = 2 * time.Second
	deadline := time.Now().Add(within)
	var err error
	for {
		if err = cond(); err == nil {
			return
		}
		for _, p := range watch {
			select {
			case <-p.exited:
				t.Fatalf("%s: %s exited (%v) while waiting; last check: %v", what, p.Name, p.err, err)
			default:
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s: %v", what, within, err)
		}
		time.Sleep(poll)
	}
}

// FreeAddr returns a 127.0.0.1 address with a port free at the time of the call.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// StackCmd runs the project's launcher (stack/stack.sh VERB), limited to services, e.g. to stop
// and start a server during a fault test.
func StackCmd(t testing.TB, verb string, services ...string) {
	t.Helper()
	cmd := exec.Command("bash", "stack/stack.sh", verb)
	cmd.Dir = repoRootOrDot()
	cmd.Env = append(os.Environ(), "STACK_SERVICES="+strings.Join(services, " "))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stack.sh %s %v: %v\n%s", verb, services, err, out)
	}
}
