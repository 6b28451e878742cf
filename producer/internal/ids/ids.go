// Package ids hands out trade ids from blocks reserved in a durable store (MySQL id_blocks), so
// that ids never collide across restarts or producer instances, whatever the consumers do.
//
// Ids are contiguous inside a block. Ids left in a block when the producer stops are never
// used (a gap), which is harmless: uniqueness, not density, is the contract.
//
// Every producer of a deployment draws from one id space (Deployment), whatever topic it writes:
// the tables key trades by id alone, so ids unique per topic would let a producer on another topic
// overwrite live trades.
package ids

import (
	"context"
	"fmt"

	"idxstream/trade"
)

// Deployment is the id space of every producer of a deployment (its row in id_blocks).
const Deployment = "*"

// Reserver reserves n consecutive ids of an id space and returns the first one.
type Reserver interface {
	Reserve(ctx context.Context, space string, n int64) (first int64, err error)
}

// Allocator assigns ids from reserved blocks. It is not safe for concurrent use.
type Allocator struct {
	r     Reserver
	topic string
	block int64
	next  int64 // next free id in the current block
	end   int64 // one past the last id of the current block
	first int64 // first id handed out, 0 if none
	last  int64 // last id handed out
}

// New returns an allocator reserving blocks of blockSize ids (> 0) of id space space
// (Deployment in the producer).
func New(r Reserver, space string, blockSize int64) *Allocator {
	return &Allocator{r: r, topic: space, block: max(blockSize, 1)}
}

// Assign sets the ID of every trade in ts, in order, reserving new blocks as needed.
func (a *Allocator) Assign(ctx context.Context, ts []trade.Trade) error {
	for i := range ts {
		if a.next == a.end {
			n := max(a.block, 1)
			first, err := a.r.Reserve(ctx, a.topic, n)
			if err != nil {
				return fmt.Errorf("reserve %d ids for topic %s: %w", n, a.topic, err)
			}
			a.next, a.end = first, first+n
		}
		ts[i].ID = a.next
		if a.first == 0 {
			a.first = a.next
		}
		a.last = a.next
		a.next++
	}
	return nil
}

// Range returns the first and last id handed out so far (0, 0 before the first).
func (a *Allocator) Range() (first, last int64) { return a.first, a.last }
