package storage

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrFull: a store is out of disk space, or close enough that the job stopped before it was. The
// job stops cleanly on it (its checkpoints and batch log are consistent) and exits with its own
// code, so that an operator or a supervisor can tell it from a crash; restarted once space is back,
// it resumes where it stopped.
var ErrFull = errors.New("out of disk space")

// Full is the store an error text says is out of space ("" when it does not say so). The texts
// are the servers' own, as they reach the job directly or relayed by Spark:
//   - Cassandra's disk guardrail (data_disk_usage_percentage_fail_threshold), from
//     org.apache.cassandra.db.guardrails.Guardrails in 5.0: "Write request failed because disk
//     usage exceeds failure threshold" and "... exceeds failure threshold of ..., will stop
//     accepting writes";
//   - MySQL/MariaDB: ER_RECORD_FILE_FULL 1114 ("The table ... is full"), ER_DISK_FULL 1021, and
//     OS error 28 (ENOSPC) inside other messages ("Errcode: 28", "errno: 28");
//   - any process: the text of ENOSPC, "No space left on device" (for Spark it is its own disk:
//     checkpoints, shuffle files).
func Full(msg string) string {
	switch {
	case strings.Contains(msg, "disk usage exceeds failure threshold"), strings.Contains(msg, "will stop accepting writes"):
		return "cassandra"
	case strings.Contains(msg, "Error 1114"), strings.Contains(msg, "Error 1021"),
		strings.Contains(msg, "Errcode: 28"), strings.Contains(msg, "errno: 28"):
		return "mysql"
	case strings.Contains(msg, "No space left on device"):
		return "disk"
	}
	return ""
}

// FullError is err marked with ErrFull, and true, when its text says a store is out of space;
// else err and false.
func FullError(err error) (error, bool) {
	if err == nil {
		return nil, false
	}
	if errors.Is(err, ErrFull) {
		return err, true
	}
	if store := Full(err.Error()); store != "" {
		return fmt.Errorf("%w (%s): %w", ErrFull, store, err), true
	}
	return err, false
}

// Threshold is an amount of free space: a share of the volume ("5%") or bytes ("256MiB").
type Threshold struct {
	Share float64 // 0..1, when given as a percentage
	Bytes int64
}

// Under reports whether u's volume is known and has less free than t.
func (t Threshold) Under(u Usage) bool {
	if u.Total <= 0 || u.Free < 0 {
		return false
	}
	if t.Share > 0 {
		return u.FreeShare() < t.Share
	}
	return u.Free < t.Bytes
}

func (t Threshold) String() string {
	if t.Share > 0 {
		return strconv.FormatFloat(100*t.Share, 'f', -1, 64) + "%"
	}
	return FormatBytes(t.Bytes)
}

// ParseThreshold reads "5%", "256MiB", "1GiB", "500MB" or a plain number of bytes; "0" is no
// threshold.
func ParseThreshold(s string) (Threshold, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		pct, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || pct < 0 || pct >= 100 {
			return Threshold{}, fmt.Errorf("%q: want a share of the volume below 100%%, such as 5%%", s)
		}
		return Threshold{Share: pct / 100}, nil
	}
	n, err := ParseBytes(s)
	if err != nil {
		return Threshold{}, fmt.Errorf("%q: want bytes such as 256MiB or 1GiB, or a share such as 5%%", s)
	}
	return Threshold{Bytes: n}, nil
}

// ParseBytes reads a size of at least 0: a number of bytes, or one with a unit such as 512MiB,
// 1.5GiB, "2 TiB" or 500MB.
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	num := strings.TrimRight(s, "KMGTiB")
	unit := strings.TrimSpace(s[len(num):])
	mult, ok := map[string]int64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}[unit]
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if !ok || err != nil || n < 0 {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	return int64(n * float64(mult)), nil
}
