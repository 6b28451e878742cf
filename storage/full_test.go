package storage

import (
	"errors"
	"fmt"
	"testing"
)

func TestFull(t *testing.T) {
	for msg, want := range map[string]string{
		// as the job saw them: Spark relaying the connector, the MySQL driver, a JVM's ENOSPC
		"streaming query failed: ... InvalidQueryException: Guardrail replica_disk_usage violated: Write request failed because disk usage exceeds failure threshold": "cassandra",
		"Local data disk usage 91%(FULL) exceeds failure threshold of 90%, will stop accepting writes":                                                                "cassandra",
		"settle batch 2: record new trade ids: Error 1114 (HY000): The table 'trade_ids' is full":                                                                     "mysql",
		"Error 1021 (HY000): Disk full (/var/tmp/#sql_1.MAI); waiting for someone to free some space... (errno: 28 \"No space left on device\")":                      "mysql",
		"java.io.IOException: No space left on device":                       "disk",
		"Failed to open native connection to Cassandra at {127.0.0.1:19042}": "",
		"Error 1062 (23000): Duplicate entry":                                "",
	} {
		if got := Full(msg); got != want {
			t.Errorf("Full(%q) = %q, want %q", msg, got, want)
		}
	}
	err, full := FullError(fmt.Errorf("stage batch 3: %w", errors.New("Error 1114 (HY000): The table 'agg_stage' is full")))
	if !full || !errors.Is(err, ErrFull) {
		t.Errorf("FullError did not mark %v", err)
	}
	if err, full := FullError(errors.New("connection refused")); err == nil || full || errors.Is(err, ErrFull) {
		t.Error("FullError marked an outage as a full disk")
	}
}

func TestThreshold(t *testing.T) {
	u := Usage{Total: 1 << 30, Free: 100 << 20} // 100 MiB of 1 GiB free
	for in, under := range map[string]bool{"256MiB": true, "64MiB": false, "5%": false, "20%": true, "0": false, "104857601": true} {
		th, err := ParseThreshold(in)
		if err != nil {
			t.Fatalf("ParseThreshold(%q): %v", in, err)
		}
		if got := th.Under(u); got != under {
			t.Errorf("%s.Under(100 MiB free of 1 GiB) = %v, want %v", in, got, under)
		}
	}
	if (Threshold{Bytes: 1 << 30}).Under(Usage{Total: -1, Free: -1}) {
		t.Error("an unknown volume counted as under the threshold")
	}
	for _, bad := range []string{"", "MiB", "12 parsecs", "-5MiB", "100%", "x%"} {
		if _, err := ParseThreshold(bad); err == nil {
			t.Errorf("ParseThreshold(%q) accepted it", bad)
		}
	}
}
