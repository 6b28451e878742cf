// Package envconf reads a program's settings from its environment, with one rule for every
// program of the project: a value is trimmed, an empty one means the default, and every bad value
// is collected, naming its variable, so that a program reports all of them at once.
package envconf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Env reads variables through getenv (os.Getenv, or a map's lookup in tests).
type Env struct {
	getenv func(string) string
	errs   []error
}

// New reads through getenv.
func New(getenv func(string) string) *Env { return &Env{getenv: getenv} }

// Lookup is the trimmed value of k, "" when unset or blank.
func (e *Env) Lookup(k string) string { return strings.TrimSpace(e.getenv(k)) }

// String is k's value, or def.
func (e *Env) String(k, def string) string {
	if v := e.Lookup(k); v != "" {
		return v
	}
	return def
}

// Duration is k as a Go duration (500ms, 10s, 2h), or def.
func (e *Env) Duration(k string, def time.Duration) time.Duration {
	return parse(e, k, def, "a duration (e.g. 500ms, 10s)", time.ParseDuration)
}

// Int is k as a whole number, or def.
func (e *Env) Int(k string, def int) int {
	return parse(e, k, def, "a whole number", strconv.Atoi)
}

// Int64 is k as a whole number, or def.
func (e *Env) Int64(k string, def int64) int64 {
	return parse(e, k, def, "a whole number", func(v string) (int64, error) { return strconv.ParseInt(v, 10, 64) })
}

// Uint is k as a whole number of at least 0, or def.
func (e *Env) Uint(k string, def uint64) uint64 {
	return parse(e, k, def, "a whole number of at least 0", func(v string) (uint64, error) { return strconv.ParseUint(v, 10, 64) })
}

// Float is k as a number, or def.
func (e *Env) Float(k string, def float64) float64 {
	return parse(e, k, def, "a number", func(v string) (float64, error) { return strconv.ParseFloat(v, 64) })
}

// Bool is k as 1/0, true/false (strconv.ParseBool), or def.
func (e *Env) Bool(k string, def bool) bool {
	return parse(e, k, def, "1 or 0 (true or false)", strconv.ParseBool)
}

// List is k as a comma-separated list (see List), or def's.
func (e *Env) List(k, def string) []string { return List(e.String(k, def)) }

// Add records a problem found by the caller (a value that parses but is out of range); nil is
// ignored.
func (e *Env) Add(err error) {
	if err != nil {
		e.errs = append(e.errs, err)
	}
}

// Err is every problem found so far, joined; nil when none.
func (e *Env) Err() error { return errors.Join(e.errs...) }

// parse reads k with p; a bad value is recorded and def returned.
func parse[T any](e *Env, k string, def T, want string, p func(string) (T, error)) T {
	v := e.Lookup(k)
	if v == "" {
		return def
	}
	x, err := p(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s=%q: want %s", k, v, want))
		return def
	}
	return x
}

// List splits a comma-separated list such as "host1:9042, host2", dropping blanks.
func List(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
