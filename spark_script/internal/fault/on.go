//go:build faulthook

package fault

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// armed is JOB_FAULT, read once: the point and the hit that kills.
var armed = sync.OnceValues(func() (Point, int) {
	v := os.Getenv("JOB_FAULT")
	if v == "" {
		return "", 0
	}
	name, nth, _ := strings.Cut(v, ":")
	n := 1
	if nth != "" {
		var err error
		if n, err = strconv.Atoi(nth); err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "fault: JOB_FAULT=%q: the count after ':' must be a positive number\n", v)
			os.Exit(2)
		}
	}
	return Point(name), n
})

var (
	mu   sync.Mutex
	hits = map[Point]int{}
)

// Hit marks that the job reached point p, and kills the process with SIGKILL on the hit that
// JOB_FAULT names.
func Hit(p Point) {
	point, n := armed()
	if p != point {
		return
	}
	mu.Lock()
	hits[p]++
	h := hits[p]
	mu.Unlock()
	if h == n {
		fmt.Fprintf(os.Stderr, "fault: killing the job at %s (hit %d), as JOB_FAULT asks\n", p, h)
		syscall.Kill(os.Getpid(), syscall.SIGKILL) //nolint:errcheck // the process ends here
		select {}
	}
}
