package lease

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHeldErrorNamesTheHolder(t *testing.T) {
	err := (&HeldError{Name: "trading_data", Holder: "vm:4242", Since: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC), Token: 7}).Error()
	for _, want := range []string{"trading_data", "vm:4242", "2026-12-02T01:00:00Z", "token 7", "--take-over"} {
		if !strings.Contains(err, want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestDeadLocal(t *testing.T) {
	host, _ := os.Hostname()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no `true` to run")
	}
	gone := host + ":" + strconv.Itoa(cmd.Process.Pid)
	tests := []struct {
		holder string
		dead   bool
	}{
		{host + ":" + strconv.Itoa(os.Getpid()), false}, // this process runs
		{gone, true},           // exited (its pid is free again)
		{"elsewhere:1", false}, // another host: cannot tell, not dead
		{"garbage", false},
	}
	for _, tt := range tests {
		if got := deadLocal(tt.holder); got != tt.dead {
			t.Errorf("deadLocal(%q) = %v, want %v", tt.holder, got, tt.dead)
		}
	}
}

func TestHeld(t *testing.T) {
	tests := []struct {
		name    string
		renewed time.Duration // ago
		lost    bool
		want    bool
	}{
		{"renewed just now", 0, false, true},
		{"last renewal older than the TTL", time.Minute, false, false},
		{"a renewal found another holder", 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Lease{ttl: 30 * time.Second}
			l.renewed.Store(time.Now().Add(-tt.renewed).UnixNano())
			l.lost.Store(tt.lost)
			if got := l.Held(); got != tt.want {
				t.Errorf("Held = %v, want %v", got, tt.want)
			}
		})
	}
}
