package bridge

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Waiting policy of Sender.Wait and Receiver.Wait: a bounded spin (the other
// side is usually mid-batch), then yields for up to yieldFor, then sleeps on
// the ring's bell — a futex on Linux, short timed sleeps elsewhere — each at
// most maxSleep, so a missed wake costs latency, never progress.
//
// The yields are mostly runtime.Gosched (a peer goroutine on our P runs) and
// every fourth an OS-level sched_yield: when more threads than cores are
// runnable (other processes, or the peer process's threads), a waiter that
// only spins burns the time slice the peer needs to produce; measured here
// under load, sched_yield doubled to tripled the bridge's throughput.
//
// yieldFor is the price of a sleeping peer: each wake is a system call on both
// sides (a few µs here), and a receiver that slept after every batch cut a busy
// bridge's throughput about threefold in measurement. 50 µs covers the gap
// between two batches of a loaded sender (64 tasks at 10-100 ns, or a 10 µs
// poll interval) with room to spare.
const (
	spinChecks = 64
	yieldFor   = 50 * time.Microsecond
	maxSleep   = time.Millisecond
)

// waker puts a goroutine to sleep on a 32-bit bell word in the ring header and
// wakes it. The shared flavour works across processes (memfd mappings); the
// private one only within this process (the Go-heap region of the mem
// transport), and is cheaper for the kernel.
type waker struct{ shared bool }

// waitFor blocks until ready() holds (true) or max has passed (false).
//
// The sleep protocol pairs with Publish/Release (gmk_bridge.h, wake line): this
// side stores waiting=1, loads the bell, and re-checks ready; the other side
// stores its index, loads waiting, and if set bumps the bell and wakes it. Go's
// atomics are sequentially consistent, so either this side sees the new index
// or the other side sees waiting=1 and bumps the bell after we loaded it — and
// then the futex sleep on the old bell value returns at once.
func waitFor(ready func() bool, waiting, bell *atomic.Uint32, w waker, max time.Duration) bool {
	for range spinChecks {
		if ready() {
			return true
		}
	}
	return waitSlow(ready, waiting, bell, w, max)
}

// waitSlow is the yield-then-sleep part of waitFor.
func waitSlow(ready func() bool, waiting, bell *atomic.Uint32, w waker, max time.Duration) bool {
	start := time.Now()
	deadline, yieldEnd := start.Add(max), start.Add(min(max, yieldFor))
	for i := 0; ; i++ {
		if i%4 == 3 {
			osYield() // let a peer thread that shares our core run
		} else {
			runtime.Gosched()
		}
		if ready() {
			return true
		}
		if !time.Now().Before(yieldEnd) {
			break
		}
	}
	for {
		waiting.Store(1)
		b := bell.Load()
		if ready() {
			waiting.Store(0)
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			waiting.Store(0)
			return false
		}
		w.sleep(bell, b, min(left, maxSleep))
		waiting.Store(0)
	}
}

// ringWake bumps both bells of a ring and wakes both sides: Disconnect's way
// of making every waiter re-check the closed flag.
func ringWake(h *ringHeader, w waker) {
	h.consBell.Add(1)
	h.prodBell.Add(1)
	w.wake(&h.consBell)
	w.wake(&h.prodBell)
}

// noCopy makes `go vet` (copylocks) report a copied producer or consumer: a copy
// would share the ring but not the private indices. See sync.noCopy.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
