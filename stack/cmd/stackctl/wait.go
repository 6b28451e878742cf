package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"idxstream/stack/internal/cassadmin"
	"idxstream/stack/internal/config"
	"idxstream/stack/internal/kafkaadmin"
	"idxstream/stack/internal/mysqladmin"
	"idxstream/stack/internal/sparkprobe"
)

// errProcessExited ends a wait -pid whose process is gone: waiting longer cannot help.
var errProcessExited = errors.New("the server's process exited")

func runWait(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	if cfg.Pid > 0 {
		var stop context.CancelFunc
		ctx, stop = watchProcess(ctx, cfg.Pid, 500*time.Millisecond)
		defer stop()
	}
	start := time.Now()
	detail, err := waitFor(ctx, cfg, cfg.Service, logger)
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, errProcessExited) {
		return cause
	}
	if err != nil {
		return err
	}
	logger.Info(cfg.Service+" answers", "detail", detail, "waited", time.Since(start).Round(time.Millisecond))
	return nil
}

// waitFor blocks until service answers a real request or ctx ends, and describes the answer.
// It is the one readiness check of the stack: the launcher's start-up, Docker's stack-init and
// init all wait through it.
func waitFor(ctx context.Context, cfg config.Config, service string, logger *slog.Logger) (string, error) {
	switch service {
	case config.SvcKafka:
		adm, err := kafkaadmin.New(cfg.KafkaBrokers, logger)
		if err != nil {
			return "", err
		}
		defer adm.Close()
		n, err := adm.Wait(ctx)
		return fmt.Sprintf("%d brokers", n), err
	case config.SvcCassandra:
		v, err := cassadmin.Wait(ctx, cassadmin.WithLogin(cassadmin.Cluster(cfg.CassandraHosts, cfg.CassandraPort), login(cfg.CassandraAdmin)))
		return "release " + v, err
	case config.SvcMySQL:
		return "", mysqladmin.Wait(ctx, cfg.MySQLAdminDSN)
	case config.SvcSpark:
		return "SELECT 1", sparkprobe.Wait(ctx, cfg.SparkRemote, config.SparkSecretHeader, cfg.SparkSecret)
	case config.SvcSparkMaster:
		m, err := sparkprobe.WaitMaster(ctx, cfg.SparkMasterUI, 0)
		return m.URL + " " + m.Status, err
	case config.SvcSparkWorker:
		if cfg.SparkWorkerUI != "" {
			_, err := sparkprobe.WaitWorkerAt(ctx, cfg.SparkMasterUI, cfg.SparkWorkerUI)
			return "the worker at " + cfg.SparkWorkerUI + " ALIVE at the master", err
		}
		m, err := sparkprobe.WaitMaster(ctx, cfg.SparkMasterUI, 1)
		return fmt.Sprintf("%d ALIVE at the master", m.AliveWorkers()), err
	}
	return "", fmt.Errorf("unknown service %q", service)
}

// watchProcess returns a context that ends, with a cause wrapping errProcessExited, once process
// pid is gone (or a zombie), checked every interval.
func watchProcess(ctx context.Context, pid int, interval time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if !processAlive(pid) {
				cancel(fmt.Errorf("%w (pid %d)", errProcessExited, pid))
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return ctx, func() { cancel(context.Canceled) }
}

// processAlive reports whether pid runs: it exists (kill -0; EPERM is someone else's live
// process) and is not a zombie waiting for its parent.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no procfs: kill -0 is all there is
	}
	// pid (comm) S ...: the state follows the last ')', since comm may hold one
	if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}
