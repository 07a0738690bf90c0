//go:build linux

package bridge

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations (linux/futex.h). The private flag tells the kernel the word
// is not shared with another process, which skips the page lookup.
const (
	futexWait    = 0
	futexWake    = 1
	futexPrivate = 128
)

func (w waker) op(base uintptr) uintptr {
	if w.shared {
		return base
	}
	return base | futexPrivate
}

// sleep blocks while *word == val, at most d, or until woken. Spurious and
// early returns are fine: the caller re-checks its condition.
func (w waker) sleep(word *atomic.Uint32, val uint32, d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), w.op(futexWait),
		uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// wake wakes the sleepers on word (at most one per side in an SPSC ring).
func (w waker) wake(word *atomic.Uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), w.op(futexWake), 1<<30, 0, 0, 0)
}

// osYield gives up the CPU to another runnable thread (sched_yield).
func osYield() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
