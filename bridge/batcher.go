package bridge

import (
	"errors"
	"fmt"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// BatchConfig configures a Batcher ([B2]).
type BatchConfig struct {
	// Size is the most tasks per transfer: a batch is published when it holds
	// Size tasks, and Poll hands at most Size tasks per release. Zero means
	// DefaultBatch. 1 publishes every task on its own.
	Size int
	// Interval is the poll interval: a partial batch is published by the first
	// Tick at least Interval after the first Tick that found it open — that
	// is, Interval after the sending loop ran out of tasks to add. Zero means
	// DefaultInterval.
	Interval time.Duration
	// Now is the clock (tests inject one). Nil means time.Now. Only Tick reads
	// it; Add never does (a clock read costs more than staging a task).
	Now func() time.Time
}

// Defaults of BatchConfig (GMK.md, Defaults; [B2]).
const (
	DefaultBatch    = 64
	DefaultInterval = 10 * time.Microsecond
)

// Validate reports whether c (with defaults filled in) is usable.
func (c BatchConfig) Validate() error {
	if c.Size < 0 {
		return fmt.Errorf("bridge: batch Size %d < 0", c.Size)
	}
	if c.Interval < 0 {
		return fmt.Errorf("bridge: batch Interval %v < 0", c.Interval)
	}
	return nil
}

// Batcher moves tasks over a Transport in batches, both directions ([B2]):
// tasks added on the sending side are staged in the ring and published when
// Size are staged or, by Tick, when the sender has been idle with a partial
// batch for Interval;
// Poll hands received tasks to a function at most Size at a time and releases
// each batch with one transfer.
//
// Add, Flush, Tick and Deadline belong to the sending goroutine; Poll to the
// receiving goroutine (it may be another one); Stats may be called by anyone.
// The Batcher does not start goroutines: its owner's loop calls Tick when it
// has no more tasks to add, and waits with Deadline (see doc.go).
type Batcher struct {
	tx       Sender
	rx       Receiver
	size     int
	interval time.Duration
	now      func() time.Time

	idleSince time.Time // first Tick that found the open batch; zero: none yet. Sending side
	in        []Msg     // Poll's buffer; receiving side
}

// NewBatcher returns a Batcher over t.
func NewBatcher(t Transport, c BatchConfig) (*Batcher, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Size == 0 {
		c.Size = DefaultBatch
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Batcher{
		tx: t.Sender(), rx: t.Receiver(), size: c.Size, interval: c.Interval, now: c.Now,
		in: make([]Msg, c.Size),
	}, nil
}

// Add stages one task (its payload is copied now) and publishes the batch when
// it is full. When the ring is full it first publishes the staged tasks, so the
// receiver can make room, and tries once more. Errors are Stage's: on ErrFull
// (or ErrStagingFull) nothing was staged — Wait on the Sender and add again.
func (b *Batcher) Add(t *task.Task, payload []byte) error {
	err := b.tx.Stage(t, payload)
	if err != nil {
		if !errors.Is(err, ErrFull) || b.tx.Staged() == 0 {
			return err
		}
		b.Flush()
		if err = b.tx.Stage(t, payload); err != nil {
			return err
		}
	}
	if b.tx.Staged() >= b.size {
		b.Flush()
	}
	return nil
}

// Flush publishes the staged tasks now and returns how many.
func (b *Batcher) Flush() int {
	b.idleSince = time.Time{}
	return b.tx.Publish()
}

// Tick publishes the open batch once the sender has been idle with it for
// Interval, and returns how many tasks it published. The sending loop calls it
// whenever it has nothing more to add; the first such Tick starts the interval.
func (b *Batcher) Tick() int {
	if b.tx.Staged() == 0 {
		return 0
	}
	now := b.now()
	if b.idleSince.IsZero() {
		b.idleSince = now
	}
	if now.Sub(b.idleSince) < b.interval {
		return 0
	}
	return b.Flush()
}

// Deadline returns when the open batch is due for a Tick, and false when no
// batch is open. A zero time means now: no Tick has started its interval yet.
func (b *Batcher) Deadline() (time.Time, bool) {
	if b.tx.Staged() == 0 {
		return time.Time{}, false
	}
	if b.idleSince.IsZero() {
		return time.Time{}, true
	}
	return b.idleSince.Add(b.interval), true
}

// Poll peeks up to Size received tasks, calls fn with them and releases them in
// one transfer; it returns how many. fn must copy what it keeps: the payload
// views die with the release. Errors are Peek's (ErrClosed once closed and
// drained, a *GapError, ErrCorrupt); fn is not called then.
func (b *Batcher) Poll(fn func([]Msg)) (int, error) {
	n, err := b.rx.Peek(b.in)
	if n == 0 {
		return 0, err
	}
	fn(b.in[:n]) // the payload views left in b.in are overwritten by the next Peek, never read
	b.rx.Release()
	return n, nil
}

// Stats returns the counts of both directions: sent (this side's publications)
// and received (this side's releases).
func (b *Batcher) Stats() (sent, received Stats) { return b.tx.Stats(), b.rx.Stats() }
