//go:build !linux

package bridge

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Without futexes a sleeper naps in short steps and re-checks; wake is a no-op.
const napStep = 50 * time.Microsecond

func (w waker) sleep(word *atomic.Uint32, val uint32, d time.Duration) {
	if word.Load() == val {
		time.Sleep(min(d, napStep))
	}
}

func (w waker) wake(*atomic.Uint32) {}

// osYield is runtime.Gosched where there is no sched_yield.
func osYield() { runtime.Gosched() }
