// Package offsets plans the Kafka offset range of each aggregate micro-batch and reads the
// topic's offsets from the brokers. Planning is a pure function so that it can be tested alone.
package offsets

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Offsets maps a partition to an offset.
type Offsets map[int32]int64

// Plan is the range of one batch: Start inclusive, End exclusive, per partition.
type Plan struct {
	Start, End Offsets
	// Skipped counts, per partition, records that retention deleted before they were read.
	Skipped Offsets
}

// Records is the number of Kafka records in the plan.
func (p Plan) Records() int64 {
	var n int64
	for part, e := range p.End {
		n += e - p.Start[part]
	}
	return n
}

// Next plans the batch after prevEnd (nil on the first run: start at the earliest offset), up
// to the topic's current end, with at most max records spread over the partitions in proportion
// to their backlog.
func Next(prevEnd, logStart, logEnd Offsets, max int64) Plan {
	p := Plan{Start: Offsets{}, End: Offsets{}, Skipped: Offsets{}}
	backlog := Offsets{}
	var total int64
	for part, end := range logEnd {
		s, ok := prevEnd[part]
		if !ok { // first run, or a partition added since
			s = logStart[part]
		}
		if s < logStart[part] {
			p.Skipped[part] = logStart[part] - s
			s = logStart[part]
		}
		if s > end { // cannot happen with a healthy topic; never plan backwards
			end = s
		}
		p.Start[part] = s
		backlog[part] = end - s
		total += end - s
	}
	if total <= max {
		for part := range backlog {
			p.End[part] = p.Start[part] + backlog[part]
		}
		return p
	}
	parts := make([]int32, 0, len(backlog))
	for part := range backlog {
		parts = append(parts, part)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	left := max
	for _, part := range parts {
		share := backlog[part] * max / total
		p.End[part] = p.Start[part] + share
		left -= share
	}
	for _, part := range parts { // hand out what rounding left over
		if left == 0 {
			break
		}
		if p.End[part]-p.Start[part] < backlog[part] {
			p.End[part]++
			left--
		}
	}
	return p
}

// SparkJSON renders offsets as the Kafka source's startingOffsets/endingOffsets option.
func SparkJSON(topic string, o Offsets) string {
	byPart := make(map[string]int64, len(o))
	for part, off := range o {
		byPart[strconv.Itoa(int(part))] = off
	}
	b, _ := json.Marshal(map[string]map[string]int64{topic: byPart}) // cannot fail: plain maps
	return string(b)
}

// Encode and Decode store offsets in the batch log.
func (o Offsets) Encode() string {
	b, _ := json.Marshal(o) // cannot fail: map of numbers
	return string(b)
}

// Decode parses what Encode wrote.
func Decode(s string) (Offsets, error) {
	o := Offsets{}
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return nil, fmt.Errorf("decode offsets %q: %w", s, err)
	}
	return o, nil
}

// Reader reads a topic's earliest and latest offsets from the brokers.
type Reader struct{ adm *kadm.Client }

// NewReader connects lazily to brokers; Close releases the connections.
func NewReader(brokers []string, opts ...kgo.Opt) (*Reader, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return &Reader{adm: kadm.NewClient(cl)}, nil
}

// Close closes the client.
func (r *Reader) Close() { r.adm.Close() }

// Admin is the underlying client, for other reads of the cluster (package diskwatch).
func (r *Reader) Admin() *kadm.Client { return r.adm }

// Bounds returns the earliest and the latest (next to be written) offsets of every partition.
func (r *Reader) Bounds(ctx context.Context, topic string) (start, end Offsets, err error) {
	s, err := r.adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, nil, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	e, err := r.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	if start, err = toOffsets(s, topic); err != nil {
		return nil, nil, err
	}
	if end, err = toOffsets(e, topic); err != nil {
		return nil, nil, err
	}
	return start, end, nil
}

func toOffsets(l kadm.ListedOffsets, topic string) (Offsets, error) {
	if err := l.Error(); err != nil {
		return nil, fmt.Errorf("offsets of %s: %w", topic, err)
	}
	parts, ok := l[topic]
	if !ok || len(parts) == 0 {
		return nil, fmt.Errorf("topic %s has no partitions (does it exist?)", topic)
	}
	o := Offsets{}
	for part, lo := range parts {
		o[part] = lo.Offset
	}
	return o, nil
}
