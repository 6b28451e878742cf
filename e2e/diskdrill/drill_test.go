//go:build e2e

// Package diskdrill is the full-disk drill: a second native stack of its own, on other ports,
// whose data lives on a small loop-mounted filesystem that the drill creates, fills and removes.
// With the producer and the job running, a ballast file takes the space away twice:
//   - down to the job's own floor (JOB_DISK_STOP_FREE): the job stops cleanly by itself, exit code 3;
//   - further, with the job's floor off, until Cassandra's disk guardrail refuses writes: the job
//     stops on the refusal, exit code 3.
//
// Each time, once the ballast is gone, a new job resumes and every table holds exactly the trades
// Kafka holds. It needs root (losetup, mount); without it every test skips and says why.
package diskdrill

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"idxstream/e2e/pipeline"
	"idxstream/storage"
	"idxstream/testkit"
)

var suite = testkit.NewSuite("drill")

// The drill stack's settings: ports 1xxxx beside the product's, a small Cassandra heap, and
// Cassandra's guardrail at a few percent so that the drill's small data can reach it: usage is the
// node's data over its data plus the volume's free space, checked every second here (30 s by default).
var drillEnv = []string{
	"STACK_TOPOLOGY=single", "MYSQL_PORT=13306", "KAFKA_PORT=19092", "KAFKA_CONTROLLER_PORT=19093",
	"CASSANDRA_PORT=19042", "CASSANDRA_STORAGE_PORT=17000", "CASSANDRA_JMX_PORT=17199",
	"SPARK_MASTER_PORT=17077", "SPARK_MASTER_UI_PORT=18080", "SPARK_WORKER_UI_PORT=18081",
	"SPARK_CONNECT_PORT=25002", "SPARK_DRIVER_UI_PORT=14040",
	"CASSANDRA_HEAP=512M", "CASSANDRA_DISK_WARN_PERCENT=1", "CASSANDRA_DISK_FAIL_PERCENT=2",
	"CASSANDRA_JVM_EXTRA_OPTS=-Dcassandra.disk_usage.monitor_interval_ms=1000",
	// the programs' view of the same servers
	"KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092", "CASSANDRA_HOSTS=127.0.0.1:19042",
	"MYSQL_ADDR=127.0.0.1:13306", "SPARK_REMOTE=sc://127.0.0.1:25002",
}

const volumeSize = 3 << 30

// mnt is the drill's filesystem; empty when the drill could not make one (skip says why).
var (
	mnt     string
	skip    string
	soaking bool // the stack runs with soakEnv's short retention: the drill's exact checks do not hold
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "idxstream-drill-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "diskdrill:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		unmount, err := mountVolume(dir)
		if err != nil {
			skip = fmt.Sprintf("no small filesystem for the drill (it needs root, losetup and mkfs.ext4): %v", err)
			return m.Run()
		}
		defer unmount()
		mnt = filepath.Join(dir, "mnt")
		home := filepath.Join(mnt, "home")
		env := append(drillEnv, "STACK_HOME="+home, "JOB_DISK_DIRS="+mnt)
		if os.Getenv("SOAK_DURATION") != "" {
			soaking = true
			env = append(env, soakEnv...)
		}
		pipeline.SetEnv(env)
		stack := func(verb string) error { return pipeline.Launcher("diskdrill", verb, 6*time.Minute) }
		down := func() {
			if err := stack("down"); err != nil {
				fmt.Fprintln(os.Stderr, "diskdrill:", err)
			}
		}
		defer down()
		defer pipeline.StopOnSignal("diskdrill", func() { down(); unmount() })()
		if err := stack("up"); err != nil {
			fmt.Fprintln(os.Stderr, "diskdrill:", err)
			return 1
		}
		return suite.Run(m)
	}()
	os.Exit(code)
}

// mountVolume makes an ext4 filesystem of volumeSize in a file under dir and mounts it at dir/mnt.
func mountVolume(dir string) (func(), error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("not root")
	}
	img, mp := filepath.Join(dir, "volume.img"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mp, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(img)
	if err != nil {
		return nil, err
	}
	err = f.Truncate(volumeSize) // sparse: costs the host nothing until written
	f.Close()
	if err != nil {
		return nil, err
	}
	run := func(name string, args ...string) error {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
	if err := run("mkfs.ext4", "-q", "-F", "-m", "0", img); err != nil {
		return nil, err
	}
	if err := run("mount", "-o", "loop", img, mp); err != nil {
		return nil, err
	}
	return func() {
		if err := run("umount", "-l", mp); err != nil {
			fmt.Fprintln(os.Stderr, "diskdrill:", err)
		}
	}, nil
}

func TestFullDiskStopsTheJobCleanlyAndItResumesExactly(t *testing.T) {
	if skip != "" {
		t.Skip(skip)
	}
	if soaking {
		t.Skip("SOAK_DURATION is set: the stack's retention is the soak's, too short for the drill")
	}
	p := pipeline.New(t, suite)

	t.Log("1. the job's own floor: it stops before the stores fill the volume")
	job := p.StartJob("JOB_DISK_STOP_FREE=1536MiB", "JOB_DISK_CHECK=1s")
	// 20 s of trades, so that the disk runs short in the middle of the stream
	producer := p.Start("producer", nil, "--rate", "400", "--interval", "250ms", "--count", "8000", p.Topic)
	waitRows(t, p.Cass, 1000, job)
	b := ballast(t, 1200<<20) // 1.2 GiB left: under the job's floor, far above the guardrail's
	if err := job.Wait(t, 3*time.Minute); err == nil || job.ExitCode() != 3 {
		t.Fatalf("the job did not stop with exit code 3 (%v):\n%s", err, job.Tail(30))
	}
	for _, want := range []string{"out of disk space", "JOB_DISK_STOP_FREE", mnt} {
		if !strings.Contains(job.Output(), want) {
			t.Errorf("the job's output does not name %q:\n%s", want, job.Tail(20))
		}
	}
	if err := producer.Wait(t, 3*time.Minute); err != nil {
		t.Fatalf("producer: %v", err)
	}
	b.remove(t)
	job = p.StartJob("JOB_DISK_STOP_FREE=0", "JOB_DISK_CHECK=1s") // phase 2 goes below any floor
	p.WaitExact(p.ConsumeTrades(), job)

	t.Log("2. Cassandra's guardrail refuses writes: the job stops on the refusal")
	producer = p.Start("producer", nil, "--rate", "400", "--interval", "250ms", "--count", "8000", p.Topic)
	waitRows(t, p.Cass, 9000, job) // not the producer: it may finish first, which is fine
	b = ballast(t, 100<<20)        // the node's few MiB of data and memtables are over 2% of what it may use
	refused(t, p, true)
	if err := job.Wait(t, 4*time.Minute); err == nil || job.ExitCode() != 3 {
		t.Fatalf("the job did not stop with exit code 3 on Cassandra's refusal (%v):\n%s", err, job.Tail(30))
	}
	if !strings.Contains(job.Output(), "disk usage exceeds failure threshold") {
		t.Errorf("the job's output does not relay Cassandra's refusal:\n%s", job.Tail(20))
	}
	if err := producer.Wait(t, 3*time.Minute); err != nil {
		t.Fatalf("producer: %v", err)
	}
	b.remove(t)
	refused(t, p, false)
	job = p.StartJob("JOB_DISK_CHECK=1s")
	want := p.ConsumeTrades()
	if len(want) != 16000 {
		t.Fatalf("Kafka holds %d trades, want the 16000 the producers were asked for", len(want))
	}
	p.WaitExact(want, job)
	if err := job.Stop(t, syscall.SIGTERM, 2*time.Minute); err != nil {
		t.Errorf("the resumed job did not stop cleanly: %v", err)
	}
}

// waitRows waits until real_time_data holds at least n rows.
func waitRows(t *testing.T, s *gocql.Session, n int, watch ...*testkit.Proc) {
	t.Helper()
	testkit.Eventually(t, 4*time.Minute, fmt.Sprintf("at least %d rows in real_time_data", n), func() error {
		var got int
		if err := s.Query("SELECT COUNT(*) FROM real_time_data").Scan(&got); err != nil {
			return err
		}
		if got < n {
			return fmt.Errorf("%d rows", got)
		}
		return nil
	}, watch...)
}

type ballastFile string

// ballast fills the drill's volume with a file until only free bytes are left.
func ballast(t *testing.T, free int64) ballastFile {
	t.Helper()
	avail := storage.Local(mnt).Free
	if avail < 0 {
		t.Fatalf("no volume at %s", mnt)
	}
	size := avail - free
	if size <= 0 {
		t.Fatalf("the volume has only %d MiB free, less than the %d MiB the step leaves", avail>>20, free>>20)
	}
	path := filepath.Join(mnt, "ballast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, size); err != nil {
		t.Fatalf("allocate %d MiB of ballast: %v", size>>20, err)
	}
	t.Logf("ballast of %d MiB: %d MiB left on the drill's volume", size>>20, free>>20)
	return ballastFile(path)
}

func (b ballastFile) remove(t *testing.T) {
	t.Helper()
	if err := os.Remove(string(b)); err != nil {
		t.Fatal(err)
	}
	t.Log("ballast removed")
}

// refused waits until Cassandra refuses (or takes again) a write of the job's role: a probe row
// in rejects under a topic of its own, which no check of the drill reads.
func refused(t *testing.T, p *pipeline.Pipeline, want bool) {
	t.Helper()
	s := p.NS.CassandraAs(t, testkit.Job)
	what := map[bool]string{true: "Cassandra refusing writes (disk guardrail)", false: "Cassandra taking writes again"}[want]
	testkit.Eventually(t, 2*time.Minute, what, func() error {
		err := s.Query(`INSERT INTO rejects (topic, kafka_partition, day, kafka_offset, element, reason, raw, rejected_at)
			VALUES ('drill-probe', 0, '2026-01-01', 0, 0, 'probe', '', toTimestamp(now()))`).Exec()
		switch {
		case want && err != nil && strings.Contains(err.Error(), "disk usage exceeds failure threshold"):
			return nil
		case !want && err == nil:
			return nil
		case err != nil:
			return fmt.Errorf("probe write: %v", err)
		}
		return fmt.Errorf("the probe write was taken")
	})
}
