package bench

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// ErrMismatch is the error of a scenario whose consumers did not see every item
// exactly once with the expected transform applied.
var ErrMismatch = errors.New("bench: items lost, duplicated or corrupted")

// timer is the part of *testing.B a scenario uses: ResetTimer once setup is done,
// StopTimer before teardown and checks. Tests pass a no-op.
type timer interface {
	ResetTimer()
	StopTimer()
}

// scenario runs n tasks of one case on one peer and checks what the consumers saw.
// It returns an error wrapping ErrMismatch when items were lost, duplicated or
// corrupted. It leaves no goroutine behind.
type scenario func(n int, t timer) error

// implOf adapts a scenario to an Impl whose Run fails the benchmark on error.
func implOf(peer string, s scenario) Impl {
	return Impl{Peer: peer, Run: func(b *testing.B) {
		if err := s(b.N, b); err != nil {
			b.Fatal(err)
		}
	}}
}

// item returns the i-th input task of every case: Meta0 and Meta1 both carry i,
// so a consumer can check the transform (Meta0 - Meta1) of each item it sees.
func item(i int) task.Task {
	return task.Task{Type: 1, Meta0: uint64(i), Meta1: uint64(i)}
}

// tally is a consumer's record of what it saw. It is owned by one consumer
// goroutine (or actor) while the scenario runs and read by the benchmark
// goroutine only after a channel close or receive, or an atomic, ordered it.
type tally struct {
	count int    // items seen
	sum   uint64 // sum of Meta1 (the item numbers)
	sqSum uint64 // sum of Meta1², so that a loss and a duplicate cannot cancel out
	bad   int    // items whose Meta0 was not Meta1 + the expected transform
}

// add records v, which must have gone through a transform adding offset to
// Meta0. It is what every consumer of every peer does per item, so the per-item
// consumer work is the same for all peers.
func (t *tally) add(v task.Task, offset uint64) {
	t.count++
	t.sum += v.Meta1
	t.sqSum += v.Meta1 * v.Meta1
	if v.Meta0 != v.Meta1+offset {
		t.bad++
	}
}

// merge adds o's record to t's.
func (t *tally) merge(o tally) {
	t.count += o.count
	t.sum += o.sum
	t.sqSum += o.sqSum
	t.bad += o.bad
}

// check returns nil when t saw items 0..n-1 exactly once, each with Meta0
// transformed correctly; who names the consumer in the error.
func (t tally) check(who string, n int) error {
	var want tally
	for i := range n {
		want.add(item(i), 0)
	}
	if t != want {
		return fmt.Errorf("%w: %s saw %d items (sum %d, squares %d, %d bad), want %d (sum %d, squares %d)",
			ErrMismatch, who, t.count, t.sum, t.sqSum, t.bad, want.count, want.sum, want.sqSum)
	}
	return nil
}
