package diskwatch

import (
	"errors"
	"strings"
	"testing"

	"idxstream/storage"
)

func TestShortStopsOnlyOnAWatchedLocalVolume(t *testing.T) {
	dir := t.TempDir()
	local := storage.Local(dir)
	if local.Total <= 0 {
		t.Fatalf("no volume for %s: %+v", dir, local)
	}
	kafka := storage.Usage{Store: "kafka", What: "broker 1", Total: 100, Free: 1} // nearly full, but not the job's to stop on
	w := &Watch{StopFree: storage.Threshold{Bytes: local.Free + 1}}
	err := w.short(Report{Stores: []storage.Usage{kafka, local}})
	if !errors.Is(err, storage.ErrFull) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "JOB_DISK_STOP_FREE") {
		t.Fatalf("short with %s below the threshold: %v", dir, err)
	}
	w.StopFree = storage.Threshold{}
	if err := w.short(Report{Stores: []storage.Usage{kafka, local}}); err != nil {
		t.Fatalf("short without a threshold: %v", err)
	}
}
