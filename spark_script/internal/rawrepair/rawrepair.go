// Package rawrepair keeps the first copy of a conflicting trade in the raw path's Cassandra tables.
// The raw path writes every valid copy as it comes (an upsert by id, cheap and idempotent); the
// aggregate path, which decides once per id which copy was first (batchlog.Settle), hands the
// conflicts here before it commits: the first copy is written again over the later one, the later
// copy's row of trades_by_ticker is deleted when its key differs, and the later copy goes to
// rejects with its text. Every write is idempotent, so a replayed batch repeats them harmlessly.
package rawrepair

import (
	"context"
	"fmt"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"idxstream/spark_script/internal/batchlog"
	"idxstream/spark_script/internal/parse"
	"idxstream/spark_script/internal/sinkcheck"
	"idxstream/trade"
)

// Cassandra repairs the tables of Keyspace, logging in at Hosts (comma-separated) as User.
type Cassandra struct {
	Hosts, User, Password, Keyspace string
	Zone                            *time.Location // of the market date
	// Consistency is the level of every write: the job's CASSANDRA_CONSISTENCY, as the raw path's
	// writes. Set it: the zero value is gocql.Any.
	Consistency gocql.Consistency

	mu sync.Mutex
	s  *gocql.Session
}

func (c *Cassandra) session() (*gocql.Session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s != nil {
		return c.s, nil
	}
	cl := sinkcheck.Cluster(c.Hosts, c.User, c.Password, 10*time.Second)
	cl.Keyspace, cl.Consistency = c.Keyspace, c.Consistency
	s, err := cl.CreateSession()
	if err != nil {
		return nil, fmt.Errorf("cassandra at %s: %w", c.Hosts, err)
	}
	c.s = s
	return s, nil
}

// Close ends the session.
func (c *Cassandra) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s != nil {
		c.s.Close()
		c.s = nil
	}
}

// Repair writes the conflicts of topic.
func (c *Cassandra) Repair(ctx context.Context, topic string, cs []batchlog.Conflict) error {
	s, err := c.session()
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, k := range cs {
		if err := c.repair(ctx, s, topic, k, now); err != nil {
			return fmt.Errorf("repair trade %d (partition %d, offset %d, element %d): %w", k.Got.ID, k.Partition, k.Offset, k.Element, err)
		}
	}
	return nil
}

func (c *Cassandra) repair(ctx context.Context, s *gocql.Session, topic string, k batchlog.Conflict, now time.Time) error {
	raw := trade.AppendJSON(nil, k.Got)
	if len(raw) > parse.MaxRawChars {
		raw = raw[:parse.MaxRawChars]
	}
	if err := s.Query(`INSERT INTO rejects (topic, kafka_partition, day, kafka_offset, element, reason, raw, rejected_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, topic, k.Partition, dateOf(k.KafkaDay), k.Offset, k.Element,
		trade.ReasonConflict, string(raw), now).WithContext(ctx).Exec(); err != nil {
		return fmt.Errorf("record the reject: %w", err)
	}
	f := k.First
	if err := s.Query(`INSERT INTO real_time_data (id, created_at, ticker, sector, volume, market_cap, price)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, f.ID, f.CreatedAt, f.Ticker, f.Sector, f.Volume, f.MarketCap, f.Price).
		WithContext(ctx).Exec(); err != nil {
		return fmt.Errorf("restore the first copy in real_time_data: %w", err)
	}
	gotDay, firstDay := c.day(k.Got.CreatedAt), c.day(f.CreatedAt)
	// Cassandra keeps milliseconds: rows whose times differ only below that share a key.
	sameKey := k.Got.Ticker == f.Ticker && gotDay.Equal(firstDay) && k.Got.CreatedAt.Truncate(time.Millisecond).Equal(f.CreatedAt.Truncate(time.Millisecond))
	if !sameKey {
		if err := s.Query(`DELETE FROM trades_by_ticker WHERE ticker = ? AND day = ? AND created_at = ? AND id = ?`,
			k.Got.Ticker, gotDay, k.Got.CreatedAt, k.Got.ID).WithContext(ctx).Exec(); err != nil {
			return fmt.Errorf("delete the later copy from trades_by_ticker: %w", err)
		}
	}
	if err := s.Query(`INSERT INTO trades_by_ticker (ticker, day, created_at, id, price, volume) VALUES (?, ?, ?, ?, ?, ?)`,
		f.Ticker, firstDay, f.CreatedAt, f.ID, f.Price, f.Volume).WithContext(ctx).Exec(); err != nil {
		return fmt.Errorf("restore the first copy in trades_by_ticker: %w", err)
	}
	return nil
}

// day is the market date of t, as a Cassandra date.
func (c *Cassandra) day(t time.Time) time.Time { return dateOf(t.In(c.Zone)) }

func dateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
