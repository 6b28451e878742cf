//go:build integration

package jobtest

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"idxstream/testkit"
	"idxstream/trade"
)

// TestOneJobAtATime: a second job on the same topic exits non-zero at once and names the holder;
// one started with take-over fences the first, which stops; the totals stay exact.
func TestOneJobAtATime(t *testing.T) {
	s := connect(t)
	topic := s.newTopic(t, 3)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	all := makeTrades(4000, rng)
	s.produce(t, topic, all[:2000], 50)

	ttl := "JOB_LEASE_TTL=6s" // renewed every 2 s: a take-over lands within seconds
	first := s.startJob(t, topic, ttl)
	testkit.Eventually(t, 3*time.Minute, "the first job holds the lease", func() error {
		if !strings.Contains(first.Output(), "holding the job lease") {
			return errNotYet
		}
		return nil
	}, first)

	second := s.startJob(t, topic, ttl)
	err := second.Wait(t, 2*time.Minute)
	if err == nil || second.ExitCode() == 0 {
		t.Fatalf("a second job on the same topic exited %v (code %d), want a refusal", err, second.ExitCode())
	}
	out := second.Output()
	if !strings.Contains(out, "another job holds the lease") || !strings.Contains(out, ":"+strconv.Itoa(first.Pid())) {
		t.Fatalf("the refusal does not name the holder (pid %d):\n%s", first.Pid(), second.Tail(20))
	}

	taker := s.startJob(t, topic, ttl, "JOB_TAKE_OVER=1")
	if err := first.Wait(t, 3*time.Minute); err == nil {
		t.Fatal("the first job exited 0 after a take-over; want it to stop with an error")
	}
	if !strings.Contains(first.Output(), "taken over") {
		t.Errorf("the first job does not say it lost the lease:\n%s", first.Tail(20))
	}
	s.produce(t, topic, all[2000:], 50)
	waitConsistent(t, s, taker, append([]trade.Trade{}, all...))
	if err := taker.Stop(t, syscall.SIGTERM, 3*time.Minute); err != nil {
		t.Fatalf("the job that took over did not exit 0 on SIGTERM: %v", err)
	}
}
