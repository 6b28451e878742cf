package fingerprint

import (
	"reflect"
	"testing"
)

func TestDiff(t *testing.T) {
	before := []Line{{"mysql", "a", "rows=1"}, {"mysql", "b", "rows=2"}, {"kafka", "t", "0:0-5"}}
	after := []Line{{"mysql", "a", "rows=1"}, {"mysql", "b", "rows=3"}, {"cassandra", "c", "rows=0"}}
	want := []string{
		"cassandra c: new (rows=0)",
		"kafka t: gone (was 0:0-5)",
		"mysql b: rows=3, was rows=2",
	}
	if got := Diff(before, after); !reflect.DeepEqual(got, want) {
		t.Errorf("Diff = %q, want %q", got, want)
	}
	if got := Diff(before, before); len(got) != 0 {
		t.Errorf("Diff of equal fingerprints = %q, want nothing", got)
	}
}

func TestKafkaLinesAreSorted(t *testing.T) {
	got := Kafka(map[string]Offsets{
		"z": {Start: map[int32]int64{0: 0}, End: map[int32]int64{0: 9}},
		"a": {Start: map[int32]int64{1: 2, 0: 0}, End: map[int32]int64{1: 4, 0: 3}},
	})
	want := []Line{{"kafka", "a", "0:0-3 1:2-4"}, {"kafka", "z", "0:0-9"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Kafka = %v, want %v", got, want)
	}
}
