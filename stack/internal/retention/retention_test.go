package retention

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	p, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.TopicConfigs()
	want := map[string]string{"retention.ms": "604800000", "retention.bytes": "10737418240", "segment.bytes": "1073741824", "segment.ms": "60480000"}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("%s = %s, want %s", k, cfg[k], v)
		}
	}
	byName := map[string]Table{}
	for _, tab := range p.Tables() {
		byName[tab.Name] = tab
	}
	if rt := byName["real_time_data"]; rt.TTL != 0 || rt.Compaction["class"] != "SizeTieredCompactionStrategy" || rt.Compaction["min_threshold"] != "8" {
		t.Errorf("real_time_data is the system of record, kept with migration 003's compaction: %+v", rt)
	}
	tb := byName["trades_by_ticker"]
	if tb.TTL != 48*time.Hour || tb.GCGrace != 3*time.Hour || tb.Compaction["class"] != "TimeWindowCompactionStrategy" ||
		tb.Compaction["compaction_window_unit"] != "HOURS" || tb.Compaction["compaction_window_size"] != "2" {
		t.Errorf("trades_by_ticker: %+v", tb)
	}
	if rj := byName["rejects"]; rj.TTL != 30*24*time.Hour || rj.Compaction["compaction_window_unit"] != "DAYS" || rj.Compaction["compaction_window_size"] != "1" {
		t.Errorf("rejects: %+v", rj)
	}
}

func TestShortPolicyForASoak(t *testing.T) {
	p, err := FromEnv(env(map[string]string{
		"KAFKA_RETENTION": "5m", "KAFKA_RETENTION_BYTES": "64MiB",
		"CASSANDRA_TTL_REAL_TIME_DATA": "10m", "CASSANDRA_GC_GRACE": "1m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	seg, age := p.Segment()
	if seg != 64<<20/10 || age != time.Minute {
		t.Errorf("segment = %d bytes, %s; want a tenth of 64MiB and the 1m floor", seg, age)
	}
	for _, tab := range p.Tables() {
		if tab.Name != "real_time_data" {
			continue
		}
		if tab.TTL != 10*time.Minute || tab.GCGrace != time.Minute || tab.Compaction["compaction_window_unit"] != "MINUTES" ||
			tab.Compaction["compaction_window_size"] != "1" || tab.Compaction["expired_sstable_check_frequency_seconds"] != "60" {
			t.Errorf("real_time_data with a TTL: %+v", tab)
		}
	}
}

func TestEveryBadValueIsNamed(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		"KAFKA_RETENTION": "soon", "KAFKA_RETENTION_BYTES": "lots", "CASSANDRA_TTL_REJECTS": "-3h",
		"CASSANDRA_TTL_TRADES_BY_TICKER": "30s",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"KAFKA_RETENTION=\"soon\"", "KAFKA_RETENTION_BYTES=\"lots\"", "CASSANDRA_TTL_REJECTS=\"-3h\"", "trades_by_ticker (30s) is below 1m"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := FromEnv(env(map[string]string{"KAFKA_RETENTION": "0"})); err == nil || !strings.Contains(err.Error(), "needs a time bound") {
		t.Errorf("KAFKA_RETENTION=0: %v", err)
	}
}

func TestBytes(t *testing.T) {
	for in, want := range map[string]int64{"-1": -1, "1048576": 1 << 20, "512MiB": 512 << 20, "10GiB": 10 << 30, "2 TiB": 2 << 40} {
		got, err := parseBytes(in)
		if err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}
