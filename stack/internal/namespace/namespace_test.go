package namespace

import "testing"

func TestValid(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"itest_job_k3f9", true},
		{"itest_", false},
		{"trading", false},
		{"itest_Upper", false},
		{"itest_semi;colon", false},
		{"itest_abcdefghijabcdefghijabcdefghijabcdefghijab", true},   // 48 characters
		{"itest_abcdefghijabcdefghijabcdefghijabcdefghijabc", false}, // 49
	}
	for _, tt := range tests {
		if got := Valid(tt.name); got != tt.ok {
			t.Errorf("Valid(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func TestOwnsTopic(t *testing.T) {
	if !OwnsTopic("itest_a", "itest_a_trades") || OwnsTopic("itest_a", "itest_ab_trades") || OwnsTopic("itest_a", "trading_data") {
		t.Error("OwnsTopic must match the name and an underscore only")
	}
}
