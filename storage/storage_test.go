package storage

import (
	"strings"
	"testing"
)

func TestLowAndWarning(t *testing.T) {
	u := Usage{Store: "kafka", What: "broker 1", Dir: "/data", Total: 100 << 30, Free: 5 << 30}
	if !u.Low(0.10) || u.Low(0.05) {
		t.Errorf("5%% free: Low(10%%) = %v, Low(5%%) = %v", u.Low(0.10), u.Low(0.05))
	}
	if w := u.Warning(0.10); !strings.Contains(w, "kafka broker 1 (/data): 5.0 GiB free of 100.0 GiB (5%), below 10%") {
		t.Errorf("warning: %s", w)
	}
	if (Usage{Total: -1, Free: -1}).Low(0.5) {
		t.Error("an unknown volume is never low")
	}
}

func TestAdd(t *testing.T) {
	var u Usage
	u.add("a", 3)
	u.add("b", 4)
	u.add("a", 1)
	if u.Bytes != 8 || u.Parts["a"] != 4 {
		t.Errorf("%+v", u)
	}
}

func TestVolumeOfThisHost(t *testing.T) {
	dir, total, free := volume(t.TempDir())
	if dir == "" || total <= 0 || free < 0 || free > total {
		t.Errorf("volume = %q %d %d", dir, total, free)
	}
	if _, total, _ := volume("/no/such/dir"); total != -1 {
		t.Error("a missing dir has a volume")
	}
}
