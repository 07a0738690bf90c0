package kernel

import (
	"unsafe"

	"github.com/gmkernel/gmk/kernel/alloc"
)

// Peer kernels ([B1]-[B4], [K2]). A bridge channel carries tasks between two
// kernels: on the producing kernel a relay handler takes the deliveries and a
// sender goroutine copies their payloads into the bridge; on the consuming
// kernel a pump emits them. These are the few things such a bridge needs
// from a kernel beyond the channel API: the bytes of a payload it holds a
// reference to, a way to hand a task it cannot deliver to sys.dropped, and
// the kernel's quiescence, from which a system of kernels finds the moment
// it is idle as a whole.

// PayloadBytes returns the first n bytes of payload h from outside a
// handler — a bridge sender copying a payload it retained into the ring's
// staging ([B3]). The bytes stay valid while the caller holds its reference.
// ErrStalePayload (counted as misuse) reports a handle that is not live.
func (k *Kernel) PayloadBytes(h uint64, n int) ([]byte, error) {
	b, err := k.arena.Bytes(alloc.Handle(h), n)
	if err != nil {
		k.stats.AddShared(cPayloadMisuse, 1)
		return nil, err
	}
	return b, nil
}

// Drop routes t to sys.dropped with status code as a task that could not be
// delivered ([C9]): counted as created and dropped, its payload reference
// (which the caller owned) moving to the report copies or released. Use it
// from outside the workers; a handler uses Ctx.Drop. It returns ErrClosed
// once Halt began, and then the caller keeps the reference.
func (k *Kernel) Drop(t Task, code Status) error {
	g, ok := k.enter(unsafe.Pointer(&t))
	defer g.Add(-1)
	if !ok {
		return ErrClosed
	}
	k.droppedCopy(nil, &k.extEm, &t, code)
	return nil
}

// Drop routes t, a task the handler owns (a copy of the current task with a
// retained payload, or a new one), to sys.dropped with status code, like
// Kernel.Drop. The current task itself still ends by the handler's result.
func (c *Ctx) Drop(t Task, code Status) {
	if c.w == nil {
		if c.k.Drop(t, code) != nil && t.Payload != 0 {
			_ = c.k.Release(t.Payload)
		}
		return
	}
	c.k.droppedCopy(c.w.l.Shard, &c.w.em, &t, code)
}

// Quiescent reports whether the kernel has nothing to do right now: every
// worker parked, no task queued anywhere, and no worker woke during the
// check — the condition Halt waits for. Tasks that a peer kernel or a bridge
// holds are not the kernel's to see: a system of kernels is idle when each
// kernel is quiescent and its bridges carry nothing (gpu/system).
func (k *Kernel) Quiescent() bool {
	w0 := k.wakeSum()
	return k.core.Idle.Parked() == len(k.workers) && k.pending() == 0 && k.wakeSum() == w0
}
