package hosttest

import (
	"cmp"
	"errors"
	"time"
)

// ErrNoCgo is returned by every entry point in a build without cgo.
var ErrNoCgo = errors.New("hosttest: built without cgo: the device structures cannot be compiled as C")

// Config sizes one run. Each entry point documents the fields it reads; zero
// fields take that entry point's defaults.
type Config struct {
	Producers int           // producing threads: pushers, posters, allocating threads
	Consumers int           // consuming threads (MPMC)
	Items     int           // items per producer, or iterations per thread
	Capacity  int           // ring slots, slab blocks, EVQ entries, bump bytes
	Block     int           // slab block size in bytes; bridge staging bytes
	Seed      uint64        // every thread's random stream derives from it
	Timeout   time.Duration // hang guard: a run that makes no progress for this long fails (default 60s)
}

// Stats is what a run saw. The meaning of each count is documented per entry
// point.
type Stats struct {
	Ops   int64 // items moved, or blocks or bytes handed out
	Full  int64 // a producer found the structure full (an allocator empty)
	Empty int64 // a consumer found the structure empty
	Aux   int64 // an entry-point-specific count
}

// structure selects the C entry point of a run.
type structure int

const (
	mpmcRing structure = iota
	slabAlloc
	bumpAlloc
	eventQueue
	bridgeRing
	bridgeLLRing
	hangGuard // the harness's hang guard alone (guardRun)
)

// guardRun runs the harness's hang guard with no structure under test
// (ht_guard.c): a waiter retries until it has seen marks progress marks,
// which a second thread makes, one every step, when trickle is set (else
// none comes). window is the guard's: how long without progress fails the
// run.
func guardRun(window, step time.Duration, marks int, trickle bool) (Stats, error) {
	p := 0
	if trickle {
		p = 1
	}
	return run(hangGuard, Config{Producers: p, Items: marks, Block: int(step.Milliseconds()), Timeout: window})
}

// MPMC stresses the batch-claiming MPMC task ring, gmk_mpmc.h ([R1], [S3],
// [G2]). Config: Producers × Consumers threads (default 8 × 8) push and pop
// random batches of 1..32; Items tasks per producer (default 20000); Capacity
// slots (default 64, a power of two: small, so the ring wraps and is often
// full and empty). Positions start just below 2^32.
//
// It checks the empty/full boundaries single-threaded, then that every task
// arrives exactly once with every field intact, that each consumer sees each
// producer's tasks in sequence order, and that the ring ends empty. Stats:
// Ops tasks consumed, Full short pushes, Empty empty pops, Aux laps of the
// ring.
func MPMC(c Config) (Stats, error) {
	return run(mpmcRing, c.withDefaults(Config{Producers: 8, Consumers: 8, Items: 20000, Capacity: 64}))
}

// Slab stresses the lock-free fixed-size block allocator, gmk_slab.h ([A2],
// [A3], [G2]). Config: Producers threads (default 8); Capacity blocks
// (default 64: tiny, so the Treiber stack's ABA case is frequent) of Block
// bytes (default 64; a size that is not a power of two takes the division
// path); Items alloc-or-free steps per thread (default 200000: enough that
// a Treiber stack without its ABA tag fails this test).
//
// It checks single-threaded that blocks come out in order, that exhaustion
// returns NONE and counts it, and that frees of offsets that are not block
// starts and double frees are rejected (and the same for the batch calls
// gmk_slab_alloc_n / gmk_slab_free_n); then under contention: exhaustion
// hands out exactly Capacity distinct blocks; a random churn of single and
// batch calls, with ownership words and marks written into the blocks,
// never gives one block to two holders; in 100 rounds of racing frees each block's free succeeds
// exactly once; and every block comes back. Stats: Ops blocks handed out in
// the churn, Full allocations that found the slab empty, Aux double frees
// rejected in the races ((Producers-1) × Capacity × 100).
func Slab(c Config) (Stats, error) {
	return run(slabAlloc, c.withDefaults(Config{Producers: 8, Items: 200000, Capacity: 64, Block: 64}))
}

// Bump stresses the bump allocator, gmk_bump.h ([A2], [A3], [G2]). Config:
// Producers threads (default 8); Capacity bytes (default 64 KiB); Items
// rounds (default 50) of: every thread allocates random sizes (1..256) at
// random alignments (1..512) until it gets NONE, then the owner resets.
//
// It checks single-threaded the init rounding, the rejected requests (zero
// size, an alignment that is not a power of two, too large), exact fit and
// reset; then each round that the allocations are in bounds, aligned and
// disjoint, and that reset empties the allocator. Stats: Ops allocations,
// Full NONE results, Aux bytes handed out.
func Bump(c Config) (Stats, error) {
	return run(bumpAlloc, c.withDefaults(Config{Producers: 8, Items: 50, Capacity: 64 << 10}))
}

// EVQ stresses the per-worker event queue, gmk_evq.h ([S5], [S6], [G1],
// [G2]). Config: Producers posting threads (default 8); Items events per
// poster in the concurrent phase (default 4000); Capacity entries (default
// 64, a power of two: small, so posts often find the queue full).
//
// It checks single-threaded the full and empty edges, next_due and (due,
// post) order; then posters filling the queue concurrently, popped with a
// stepping clock: every event once, never early, in due order, ties in each
// poster's post order; then posters and the owner together, the owner also
// posting to its own queue: every event once, never early, and of two events
// of one poster the earlier-posted with the no-later due pops first. Stats:
// Ops events popped in the concurrent phase, Full posts refused as full, Aux
// events the owner posted to itself.
func EVQ(c Config) (Stats, error) {
	return run(eventQueue, c.withDefaults(Config{Producers: 8, Items: 4000, Capacity: 64}))
}

// Bridge runs the bridge ring's C producer and consumer, gmk_bridge_ring.h
// ([B2], [B3], [B4]), on two threads over a ring in malloc'd memory. Config:
// Items tasks (default 100000); Capacity slots (default 64); Block staging
// bytes (default 16 KiB, a power of two). Payloads are random: a quarter
// inline, the rest 1..Block/2 bytes; the producer publishes random batches of
// 1..32, the consumer releases random batches.
//
// It checks that an oversized payload is refused, then that every task
// arrives once and in order with its sequence number gapless and its payload
// bytes intact, and that the consumer drains the ring and sees it closed.
// Stats: Ops tasks received, Full stage attempts refused for want of room,
// Empty peeks that found nothing, Aux batches published.
func Bridge(c Config) (Stats, error) {
	return run(bridgeRing, c.withDefaults(Config{Items: 100000, Capacity: 64, Block: 16 << 10}))
}

// BridgeLL is Bridge over an LL ring (gmk_bridge.h, LL RINGS): the producer
// stages with gmk_bridge_ll_stage, each slot visible at once by the tags of its
// words, and publishes with gmk_bridge_ll_publish; the consumer polls with
// gmk_bridge_ll_poll. The same Config, checks and Stats as Bridge; then the
// single-threaded LL checks of ht_bridge_ll.c: zeroed and previous-lap slots
// are not tasks, a torn slot is taken only once complete, foreign tags are
// GAP or CORRUPT and consume nothing, the reserved flag is refused, a waiting
// consumer is woken, and CLOSED comes after the drain.
func BridgeLL(c Config) (Stats, error) {
	return run(bridgeLLRing, c.withDefaults(Config{Items: 100000, Capacity: 64, Block: 16 << 10}))
}

// withDefaults fills zero fields of c from d.
func (c Config) withDefaults(d Config) Config {
	c.Producers = cmp.Or(c.Producers, d.Producers)
	c.Consumers = cmp.Or(c.Consumers, d.Consumers)
	c.Items = cmp.Or(c.Items, d.Items)
	c.Capacity = cmp.Or(c.Capacity, d.Capacity)
	c.Block = cmp.Or(c.Block, d.Block)
	c.Seed = cmp.Or(c.Seed, d.Seed, 1)
	c.Timeout = cmp.Or(c.Timeout, d.Timeout, 60*time.Second)
	return c
}
