package envconf

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEnv(t *testing.T) {
	vars := map[string]string{"S": "  x ", "D": "2s", "BAD_D": "2 seconds", "I": "7", "BAD_I": "7.5", "F": "0.25",
		"U": "-1", "B": "true", "L": " a:1, ,b ", "BLANK": "   "}
	e := New(func(k string) string { return vars[k] })
	if got := e.String("S", "d"); got != "x" {
		t.Errorf("String trims: %q", got)
	}
	if got := e.String("BLANK", "d"); got != "d" {
		t.Errorf("a blank value is the default: %q", got)
	}
	if got := e.Duration("D", time.Second); got != 2*time.Second {
		t.Errorf("Duration: %s", got)
	}
	if got := e.Duration("BAD_D", time.Second); got != time.Second {
		t.Errorf("a bad duration keeps the default: %s", got)
	}
	if got := e.Int("I", 1); got != 7 {
		t.Errorf("Int: %d", got)
	}
	e.Int("BAD_I", 1)
	if got := e.Float("F", 1); got != 0.25 {
		t.Errorf("Float: %v", got)
	}
	e.Uint("U", 3)
	if !e.Bool("B", false) {
		t.Error("Bool")
	}
	if got := e.List("L", ""); !reflect.DeepEqual(got, []string{"a:1", "b"}) {
		t.Errorf("List: %q", got)
	}
	if got := e.Int64("UNSET", 9); got != 9 {
		t.Errorf("unset: %d", got)
	}
	err := e.Err()
	for _, want := range []string{`BAD_D="2 seconds": want a duration`, `BAD_I="7.5": want a whole number`, `U="-1": want a whole number of at least 0`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Err lacks %q: %v", want, err)
		}
	}
}
