package testkit

import "testing"

func TestWithDatabase(t *testing.T) {
	got := withDatabase("jdbc:mysql://mysql:3306/trading?sslMode=DISABLED&connectionTimeZone=UTC", "itest_x")
	if want := "jdbc:mysql://mysql:3306/itest_x?sslMode=DISABLED&connectionTimeZone=UTC"; got != want {
		t.Errorf("withDatabase = %q, want %q", got, want)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"TestJobExactlyOnce/sub_1": "testjobexactlyonces", "": "x", "ÄÖ": "x"} {
		if got := slug(in, 19); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
