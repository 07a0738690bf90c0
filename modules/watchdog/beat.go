package watchdog

import (
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel"
)

// Heartbeats. The CPU kernel's workers publish nothing per task that
// another goroutine may read (their counters are flushed every few batches,
// their current task is worker-owned), and the watchdog must not add
// shared state to the kernel's hot path. So the heartbeat lives at the
// module boundary, as the GPU simulator's does (gpu/sim): Wrap wraps each
// handler of a watched module so that the worker running it publishes, on
// a cache line of its own, which module it is in and a count that is odd
// while it is inside a handler. A worker whose count is odd and the same at
// two samples is inside the same handler call at both: it missed a beat.
// A worker between handlers (idle, parked, running kernel work) never
// misses one. Handlers of modules that were not wrapped are not watched.
//
// Cost: two uncontended atomic adds and a store per wrapped task, on a line
// only its worker writes; the sampler reads it once per period.

// cacheLine is the padding unit that keeps two workers' beats apart (128:
// the adjacent-line prefetcher of x86 pairs 64-byte lines).
const cacheLine = 128

// beat is one worker's heartbeat.
//
// Writer: the worker, in the wrapper only. mod is stored before n turns odd
// (atomic stores: the sampler that loads the odd n sees that mod or a later
// one). Reader: the watchdog's sampler (sample), which loads n, mod, n again
// and keeps mod only when n did not move in between.
type beat struct {
	n   atomic.Uint64 // +1 entering a wrapped handler, +1 leaving it (also by panic)
	mod atomic.Int32  // index in Watchdog.names of the running handler's module
	_   [cacheLine - 12]byte
}

// beatSample is one worker's beat as a sample saw it.
type beatSample struct {
	n   uint64
	mod int32 // valid when n is odd
}

// inHandler reports whether the worker was inside a wrapped handler.
func (s beatSample) inHandler() bool { return s.n&1 == 1 }

// sample reads every worker's beat into dst.
func sample(bs []beat, dst []beatSample) []beatSample {
	dst = dst[:0]
	for i := range bs {
		b := &bs[i]
		for {
			n := b.n.Load()
			m := b.mod.Load()
			if b.n.Load() == n { // mod belongs to call n (see beat)
				dst = append(dst, beatSample{n: n, mod: m})
				break
			}
		}
	}
	return dst
}

// wrapFn returns fn with the heartbeat of module mod around it. Before the
// watchdog's Init (no beats yet) and off a worker it calls fn alone.
func (w *Watchdog) wrapFn(fn kernel.HandlerFunc, mod int32) kernel.HandlerFunc {
	return func(c *kernel.Ctx) kernel.Status {
		bs := w.beats.Load()
		i := c.Worker()
		if bs == nil || uint(i) >= uint(len(*bs)) {
			return fn(c)
		}
		b := &(*bs)[i]
		b.mod.Store(mod)
		b.n.Add(1)
		defer b.n.Add(1) // even again, also when fn panics (the kernel recovers it)
		return fn(c)
	}
}
