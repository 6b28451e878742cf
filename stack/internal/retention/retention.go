// Package retention is the stack's storage policy: how long each store keeps what, as
// configuration (docs/operations.md, "Retention and disk"). stackctl applies it on every `make up`
// (topics and migrate) and to every test namespace, so a changed setting reaches running servers
// without a migration, and tests run on the product's own settings.
package retention

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"idxstream/storage"
)

// Policy is what each store keeps. Zero TTL means "kept" (no expiry).
type Policy struct {
	// Kafka, per topic: records older than KafkaRetention are deleted, and a partition is cut to
	// KafkaRetentionBytes (-1: no size bound). Retention deletes whole segments only, so segments
	// are a tenth of either bound (see Segment): usage overshoots a bound by at most a tenth plus
	// the active segment.
	KafkaRetention      time.Duration // KAFKA_RETENTION, default 168h
	KafkaRetentionBytes int64         // KAFKA_RETENTION_BYTES, bytes per partition, default 10 GiB

	// Cassandra, per table of the job's keyspace. real_time_data is the system of record and is
	// kept by default; the dashboard's per-day table and the rejects expire.
	TTL map[string]time.Duration // CASSANDRA_TTL_REAL_TIME_DATA, _TRADES_BY_TICKER, _REJECTS
	// GCGrace is how long an expired or deleted cell stays on disk as a tombstone before
	// compaction may drop it: long enough for hints (max_hint_window, 3h) or a repair to reach a
	// replica that missed a delete. Only tables with a TTL get it; the others keep Cassandra's 10 days.
	GCGrace time.Duration // CASSANDRA_GC_GRACE, default 3h
}

// Cassandra tables the policy covers, with the environment variable of each TTL and its default.
var tables = []struct {
	name, env string
	def       time.Duration
}{
	{"real_time_data", "CASSANDRA_TTL_REAL_TIME_DATA", 0},
	// The dashboard reads today's partition of each ticker; yesterday's stays for a day so that a
	// session that starts before the first trade still has a day to show.
	{"trades_by_ticker", "CASSANDRA_TTL_TRADES_BY_TICKER", 48 * time.Hour},
	{"rejects", "CASSANDRA_TTL_REJECTS", 30 * 24 * time.Hour},
}

// Defaults of the Kafka settings.
const (
	DefaultKafkaRetention      = 168 * time.Hour
	DefaultKafkaRetentionBytes = 10 << 30
	DefaultGCGrace             = 3 * time.Hour
)

// FromEnv reads the policy from getenv; every bad value is reported, naming its variable.
func FromEnv(getenv func(string) string) (Policy, error) {
	var errs []error
	dur := func(k string, def time.Duration) time.Duration {
		v := strings.TrimSpace(getenv(k))
		if v == "" {
			return def
		}
		d, err := parseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a duration such as 72h, 30d or 0 (kept)", k, v))
			return def
		}
		return d
	}
	p := Policy{
		KafkaRetention:      dur("KAFKA_RETENTION", DefaultKafkaRetention),
		KafkaRetentionBytes: DefaultKafkaRetentionBytes,
		GCGrace:             dur("CASSANDRA_GC_GRACE", DefaultGCGrace),
		TTL:                 map[string]time.Duration{},
	}
	if v := strings.TrimSpace(getenv("KAFKA_RETENTION_BYTES")); v != "" {
		n, err := parseBytes(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("KAFKA_RETENTION_BYTES=%q: want bytes per partition such as 10GiB, 512MiB or -1 (no size bound)", v))
		} else {
			p.KafkaRetentionBytes = n
		}
	}
	for _, t := range tables {
		p.TTL[t.name] = dur(t.env, t.def)
	}
	if p.KafkaRetention == 0 {
		errs = append(errs, errors.New("KAFKA_RETENTION=0: Kafka needs a time bound (the job recovers from an outage only while its records are kept)"))
	}
	if p.KafkaRetention > 0 && p.KafkaRetention < time.Minute {
		errs = append(errs, fmt.Errorf("KAFKA_RETENTION=%s: at least 1m", p.KafkaRetention))
	}
	if p.KafkaRetentionBytes != -1 && p.KafkaRetentionBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("KAFKA_RETENTION_BYTES=%d: at least 1MiB per partition, or -1", p.KafkaRetentionBytes))
	}
	for name, ttl := range p.TTL {
		if ttl > 0 && ttl < time.Minute {
			errs = append(errs, fmt.Errorf("the TTL of %s (%s) is below 1m", name, ttl))
		}
		if ttl.Seconds() > maxTTL {
			errs = append(errs, fmt.Errorf("the TTL of %s (%s) exceeds Cassandra's maximum of 20 years", name, ttl))
		}
	}
	return p, errors.Join(errs...)
}

// maxTTL is Cassandra's largest TTL in seconds (Attributes.MAX_TTL, 20 years).
const maxTTL = 630720000

// Segment returns the segment size and age for a topic: a tenth of each retention bound, within
// Kafka's sensible range (1 MiB–1 GiB, 1 min–7 days), so retention frees space in tenths.
func (p Policy) Segment() (bytes int64, age time.Duration) {
	bytes = 1 << 30
	if p.KafkaRetentionBytes > 0 {
		bytes = min(max(p.KafkaRetentionBytes/10, 1<<20), 1<<30)
	}
	age = min(max(p.KafkaRetention/10, time.Minute), 7*24*time.Hour)
	return bytes, age
}

// TopicConfigs is the topic-level configuration of the policy, as Kafka names it.
func (p Policy) TopicConfigs() map[string]string {
	seg, age := p.Segment()
	return map[string]string{
		"retention.ms":    strconv.FormatInt(p.KafkaRetention.Milliseconds(), 10),
		"retention.bytes": strconv.FormatInt(p.KafkaRetentionBytes, 10),
		"segment.bytes":   strconv.FormatInt(seg, 10),
		"segment.ms":      strconv.FormatInt(age.Milliseconds(), 10),
	}
}

// Table is the policy of one Cassandra table, as CQL table options.
type Table struct {
	Name       string
	TTL        time.Duration     // default_time_to_live
	GCGrace    time.Duration     // gc_grace_seconds
	Compaction map[string]string // the compaction option map; "class" is the short class name
}

// Tables returns the options of every table the policy covers. A table with a TTL uses
// time-window compaction: its sstables hold one window of writes each, so a whole sstable expires
// at once and is dropped without being rewritten; about twenty windows per TTL keep the number of
// sstables small. A table without one uses size-tiered compaction (real_time_data with the
// settings its migration 003 explains).
func (p Policy) Tables() []Table {
	out := make([]Table, 0, len(tables))
	for _, t := range tables {
		ttl := p.TTL[t.name]
		tab := Table{Name: t.name, TTL: ttl, GCGrace: 10 * 24 * time.Hour}
		switch {
		case ttl > 0:
			tab.GCGrace = p.GCGrace
			size, unit := window(ttl / 20)
			check := min(max(int64(ttl/20/time.Second), 60), 600)
			tab.Compaction = map[string]string{
				"class":                  "TimeWindowCompactionStrategy",
				"compaction_window_unit": unit,
				"compaction_window_size": strconv.Itoa(size),
				"expired_sstable_check_frequency_seconds": strconv.FormatInt(check, 10),
			}
		case t.name == "real_time_data":
			tab.Compaction = map[string]string{"class": "SizeTieredCompactionStrategy", "min_threshold": "8", "max_threshold": "32"}
		default:
			tab.Compaction = map[string]string{"class": "SizeTieredCompactionStrategy", "min_threshold": "4", "max_threshold": "32"}
		}
		out = append(out, tab)
	}
	return out
}

// window expresses d as a whole number of TWCS units (days, hours or minutes; at least 1 minute).
func window(d time.Duration) (int, string) {
	switch {
	case d >= 24*time.Hour:
		return int(d / (24 * time.Hour)), "DAYS"
	case d >= time.Hour:
		return int(d / time.Hour), "HOURS"
	default:
		return max(int(d/time.Minute), 1), "MINUTES"
	}
}

// Describe is the policy in one line per store, for logs and `stackctl disk`.
func (p Policy) Describe() []string {
	kb := "no size bound"
	if p.KafkaRetentionBytes > 0 {
		kb = storage.FormatBytes(p.KafkaRetentionBytes) + " per partition"
	}
	lines := []string{fmt.Sprintf("kafka topics: %s or %s, whichever comes first", formatDuration(p.KafkaRetention), kb)}
	for _, t := range p.Tables() {
		keep := "kept"
		if t.TTL > 0 {
			keep = "expire after " + formatDuration(t.TTL)
		}
		lines = append(lines, fmt.Sprintf("cassandra %s: %s", t.Name, keep))
	}
	return lines
}

// parseDuration accepts Go durations and a whole number of days ("30d").
func parseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil {
			return 0, err
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// parseBytes is a size (storage.ParseBytes) above 0, or -1 for no bound.
func parseBytes(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	n, err := storage.ParseBytes(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("not a positive size: %q", s)
	}
	return n, nil
}

func formatDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
