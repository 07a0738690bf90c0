package kernel

import (
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// Module holds ([X1], [X2]). A module's Fini and Init must not run while its
// handlers run on the workers — a restart is a fresh start, as in OTP, and
// Init may set state that handlers read. Holding a module stops its
// handlers: tasks that reach a held module wait on their worker and go back
// to its local queue, in order, once the hold ends. A hold waits for every
// other worker to finish the batch it is in (while a module is held, each
// worker publishes its growing loop count at the top of its loop, so a new
// value means the batch that may have begun before the hold has ended), so
// that no handler of the module is still running when it returns. The dispatch
// path pays one load of a read-mostly word while no module is held.
//
// A task that waited for a hold is re-dispatched later: a lossless
// subscription's deliveries that were in flight during a restart may run
// out of their channel order. Nothing is lost.

// HoldModule stops the handlers of the named module until ReleaseModule (the
// actor layer holds a module from its Restarting or Stopping to its Started
// or Stopped). Holds nest.
func (k *Kernel) HoldModule(name string) error {
	mod := k.modIndex(name)
	if mod <= 0 {
		return errUnknownModule(name)
	}
	k.hold(mod, -1)
	return nil
}

// ReleaseModule ends a hold of HoldModule.
func (k *Kernel) ReleaseModule(name string) error {
	mod := k.modIndex(name)
	if mod <= 0 {
		return errUnknownModule(name)
	}
	k.release(mod)
	return nil
}

// hold marks mod held and waits until no worker but self (a worker calling
// from its failure path, -1 for none) can still be running one of its
// handlers. A nested hold waits too, unless an earlier hold of the same run
// (the module held throughout) has already seen the handlers stop: a hold
// that returned at once while the first still waited would let Fini or
// Init run beside a handler. Workers in restartModule are out of every
// handler and not waited for, so that two workers restarting the module at
// once do not wait for each other; so are workers paused for a snapshot
// (which waits for the restarting worker) and workers that left their loop
// (Halt stops them without a last loop count).
func (k *Kernel) hold(mod int32, self int) {
	ms := k.modules[mod]
	ms.holdMu.Lock()
	if ms.holds.Add(1) == 1 {
		k.held.Add(1)
		k.chans.Gen().Add(1) // after the change: runTask's short path re-checks (plainNow)
	}
	quiet := ms.quiet
	ms.holdMu.Unlock()
	if quiet {
		return // its handlers stopped, and stay stopped while it is held
	}
	loops := make([]uint64, len(k.workers))
	for i, w := range k.workers {
		loops[i] = w.loops.Load()
	}
	for i, w := range k.workers {
		for i != self && !w.aside.Load() && w.loops.Load() == loops[i] && k.state.Load() != stateHalted {
			k.core.Idle.Wake(i) // a parked worker loops once and is done
			time.Sleep(20 * time.Microsecond)
		}
	}
	ms.holdMu.Lock()
	ms.quiet = true // our own hold keeps this run going until now
	ms.holdMu.Unlock()
}

func (k *Kernel) release(mod int32) {
	ms := k.modules[mod]
	ms.holdMu.Lock()
	defer ms.holdMu.Unlock()
	if ms.holds.Add(-1) == 0 {
		ms.quiet = false
		k.held.Add(-1)
		k.chans.Gen().Add(1)
	}
}

// heldMod reports whether mod's handlers are held (dispatch path).
func (k *Kernel) heldMod(mod int32) bool {
	return k.held.Load() != 0 && mod >= 0 && k.modules[mod].holds.Load() > 0
}

// waitHold keeps t on its worker until the hold of its module ends
// (releaseHolds). The list grows as needed: holds are short, and a task is
// never refused for one. It is "still queued" for the accounting.
func (w *worker) waitHold(t *Task) {
	w.holdWait = append(w.holdWait, *t)
	w.holdN.Store(int64(len(w.holdWait)))
}

// releaseHolds moves the waiting tasks whose module is no longer held back
// to the LQ, in order, as far as it has room.
func (w *worker) releaseHolds() {
	k := w.k
	n := 0
	for i := range w.holdWait {
		t := &w.holdWait[i]
		if k.heldMod(k.modOf(t)) || !w.l.LQ.PushReserve(t) {
			w.holdWait[n] = *t
			n++
		}
	}
	w.holdWait = w.holdWait[:n]
	w.holdN.Store(int64(n))
}

// modOf is the module whose handler t dispatches to (-1: none).
func (k *Kernel) modOf(t *Task) int32 {
	slot := int32(-1)
	if t.Flags&task.ChannelMsg != 0 {
		if s := k.subOf(t); s != nil {
			slot = s.Handler
		}
	} else {
		slot = k.types[t.Type].slot
	}
	if slot < 0 {
		return -1
	}
	return k.handlers[slot].mod
}
