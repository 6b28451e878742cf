// Package publish writes record values to one Kafka topic with franz-go's idempotent producer
// (acks from all in-sync replicas, unlimited retries, compression) and counts what the broker
// acknowledged and what failed. It knows nothing about trades beyond a count per record.
//
// Keys of the form "g<N>" (see GroupKey) go to partition N mod the partition count, so that N
// key groups spread evenly over the partitions; other keys are hashed.
package publish

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"
)

// Config of the Kafka client.
type Config struct {
	Brokers     []string      // KAFKA_BOOTSTRAP_SERVERS
	Topic       string        // topic every record goes to
	Compression string        // none, gzip, snappy, lz4 or zstd (producer batch compression)
	Linger      time.Duration // kgo.ProducerLinger; 0 keeps franz-go's default (10ms)
	// DeliveryTimeout fails a record not acknowledged within it (kgo.RecordDeliveryTimeout);
	// 0 retries until the producer shuts down (the flush timeout bounds that).
	DeliveryTimeout time.Duration
	// MaxBufferedBytes bounds memory when the broker is slow or down: Publish blocks (back
	// pressure) once this many bytes wait for acknowledgement. Default 64 MiB.
	MaxBufferedBytes int
	// Observer, when set, hears about every record (the producer's metrics); nil: nobody.
	Observer Observer
}

// Observer hears about each record: once when it is handed to the client, once when the broker
// acknowledged it or it failed. Its methods run in franz-go's delivery callbacks, so they must be
// quick and safe for concurrent use.
type Observer interface {
	// Published: a record of trades trades and bytes value bytes was handed to the client.
	Published(trades, bytes int)
	// Delivered: the record was acknowledged (err nil) or failed, latency after Publish was called
	// (including any wait for buffer space).
	Delivered(trades, bytes int, latency time.Duration, err error)
}

// compressions maps the accepted Config.Compression values to franz-go codecs.
var compressions = map[string]kgo.CompressionCodec{
	"none":   kgo.NoCompression(),
	"gzip":   kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(),
	"lz4":    kgo.Lz4Compression(),
	"zstd":   kgo.ZstdCompression(),
}

// ValidCompression reports whether name is a supported compression.
func ValidCompression(name string) bool { _, ok := compressions[name]; return ok }

// GroupKey returns the record key of key group n.
func GroupKey(n int) []byte { return strconv.AppendInt([]byte{'g'}, int64(n), 10) }

// Options turns cfg into franz-go client options (exported for tests and tools).
func Options(cfg Config, logger *slog.Logger) ([]kgo.Opt, error) {
	codec, ok := compressions[cfg.Compression]
	if !ok {
		return nil, fmt.Errorf("unknown compression %q", cfg.Compression)
	}
	maxBuf := cfg.MaxBufferedBytes
	if maxBuf <= 0 {
		maxBuf = 64 << 20
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.ClientID("idxstream-producer"),
		kgo.RequiredAcks(kgo.AllISRAcks()), // required by (and the default of) idempotent writes
		kgo.ProducerBatchCompression(codec),
		kgo.RecordRetries(1 << 30),
		kgo.MaxBufferedBytes(maxBuf),
		kgo.RecordPartitioner(kgo.BasicConsistentPartitioner(func(string) func(*kgo.Record, int) int {
			return partition
		})),
		kgo.WithLogger(kslog.New(logger.With("client", "franz-go"))),
	}
	if cfg.Linger > 0 {
		opts = append(opts, kgo.ProducerLinger(cfg.Linger))
	}
	if cfg.DeliveryTimeout > 0 {
		opts = append(opts, kgo.RecordDeliveryTimeout(cfg.DeliveryTimeout))
	}
	return opts, nil
}

// partition maps key "g<N>" to N mod n; other keys are FNV-hashed; nil keys go to 0.
func partition(r *kgo.Record, n int) int {
	k := r.Key
	if len(k) > 1 && k[0] == 'g' {
		if g, err := strconv.Atoi(string(k[1:])); err == nil && g >= 0 {
			return g % n
		}
	}
	h := fnv.New32a()
	h.Write(k)
	return int(h.Sum32() % uint32(n))
}

// Stats are cumulative counts since the publisher started.
type Stats struct {
	Records      int64 // records acknowledged by the broker
	Trades       int64 // trades inside acknowledged records
	Bytes        int64 // uncompressed value bytes acknowledged
	FailedTrades int64 // trades inside records that failed
	Failed       int64 // records that failed
}

// Publisher produces asynchronously and tracks delivery. Safe for concurrent use.
type Publisher struct {
	cl     *kgo.Client
	logger *slog.Logger
	obs    Observer

	records, trades, bytes, failedRecords, failedTrades atomic.Int64

	errOnce  sync.Once
	firstErr error
	failed   chan struct{} // closed at the first delivery error
}

// New creates the Kafka client. It does not contact the brokers; Ping does.
func New(cfg Config, logger *slog.Logger) (*Publisher, error) {
	opts, err := Options(cfg, logger)
	if err != nil {
		return nil, err
	}
	p, err := NewWithOptions(logger, opts...)
	if err != nil {
		return nil, err
	}
	p.obs = cfg.Observer
	return p, nil
}

// NewWithOptions creates a publisher from raw franz-go options (tests use it with kfake).
func NewWithOptions(logger *slog.Logger, opts ...kgo.Opt) (*Publisher, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create kafka client: %w", err)
	}
	return &Publisher{cl: cl, logger: logger, failed: make(chan struct{})}, nil
}

// Ping checks that a broker answers.
func (p *Publisher) Ping(ctx context.Context) error {
	if err := p.cl.Ping(ctx); err != nil {
		return fmt.Errorf("reach kafka brokers: %w", err)
	}
	return nil
}

// CheckTopic fails with a clear error when the topic does not exist.
func (p *Publisher) CheckTopic(ctx context.Context, topic string) error {
	tds, err := kadm.NewClient(p.cl).ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("describe topic %s: %w", topic, err)
	}
	td, ok := tds[topic]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("topic %s does not exist (the stack creates trading_data and test_topic; create others with kafka tools)", topic)
	}
	if td.Err != nil {
		return fmt.Errorf("describe topic %s: %w", topic, td.Err)
	}
	return nil
}

// Publish hands one record (value holds `trades` trades) to the client and returns at once,
// unless MaxBufferedBytes is reached, then it blocks until space frees up or ctx ends. The value
// must not be modified afterwards. ctx also governs the buffered record: cancelling it fails
// records not yet sent, so pass a context that outlives a graceful shutdown.
func (p *Publisher) Publish(ctx context.Context, key, value []byte, trades int) {
	r := &kgo.Record{Key: key, Value: value}
	var start time.Time
	if p.obs != nil {
		start = time.Now()
		p.obs.Published(trades, len(value))
	}
	p.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
		if p.obs != nil {
			p.obs.Delivered(trades, len(value), time.Since(start), err)
		}
		if err != nil {
			p.failedRecords.Add(1)
			p.failedTrades.Add(int64(trades))
			p.fail(fmt.Errorf("produce to topic %s partition %d: %w", r.Topic, r.Partition, err))
			return
		}
		p.records.Add(1)
		p.trades.Add(int64(trades))
		p.bytes.Add(int64(len(value)))
	})
}

// maxLoggedErrors bounds the error lines; the progress line and the summary count the rest.
const maxLoggedErrors = 10

func (p *Publisher) fail(err error) {
	p.errOnce.Do(func() {
		p.firstErr = err
		close(p.failed)
	})
	switch n := p.failedRecords.Load(); {
	case n <= maxLoggedErrors:
		p.logger.Error("delivery failed", "err", err, "failed_records", n)
	case n == maxLoggedErrors+1:
		p.logger.Error("more deliveries failed; counting them without logging each", "failed_records", n)
	}
}

// Failed is closed at the first delivery error.
func (p *Publisher) Failed() <-chan struct{} { return p.failed }

// Err returns the first delivery error, or nil.
func (p *Publisher) Err() error {
	select {
	case <-p.failed:
		return p.firstErr
	default:
		return nil
	}
}

// Stats returns the counts so far.
func (p *Publisher) Stats() Stats {
	return Stats{
		Records: p.records.Load(), Trades: p.trades.Load(), Bytes: p.bytes.Load(),
		Failed: p.failedRecords.Load(), FailedTrades: p.failedTrades.Load(),
	}
}

// Flush waits until every published record is acknowledged or failed, or ctx ends.
func (p *Publisher) Flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush kafka producer: %w", err)
	}
	return nil
}

// Close closes the client; records still buffered fail (call Flush first).
func (p *Publisher) Close() { p.cl.Close() }
