package kernel

import (
	"cmp"
	"slices"

	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/task"
)

// The lane's runner: worker 0 runs a batch of the current tick between
// batches of its other work (worker.run); at a tick boundary it takes the
// inbox, drains the deterministic channels, numbers and orders the next
// tick (detAdvance). Everything here runs on worker 0, and the lane's
// runner-owned fields (detLane) are touched by nothing else; what others
// read — the task count, run count, trace hash, tick and time counters —
// is published in atomics once per batch (publish).

// runDet runs up to a batch of deterministic tasks on worker 0, advancing
// the tick when the current one ran out; it returns how many ran. An idle
// lane costs the worker's loop a few loads — no lock, no clock — and so
// does a fenced lane waiting for news from its peer (detIdle).
func (w *worker) runDet() int {
	d := w.k.det
	f := d.fence.Load()
	if d.pos == len(d.cur) && d.detIdle(f) {
		return 0
	}
	start := w.k.clock()
	mid := start
	if d.pos == len(d.cur) {
		ok := (f != nil && w.fenceTail(f)) || w.detAdvance()
		if f != nil {
			f.failed = !ok
		}
		mid = w.k.clock() // the tick boundary ends, the batch starts
		d.boundaryNS.Add(mid - start)
		if !ok {
			d.busyNS.Add(mid - start)
			d.publish()
			return 0
		}
	}
	n := 0
	for ; d.pos < len(d.cur) && n < len(w.batch); n++ {
		// In place: the handler's Ctx keeps a pointer to the task, so a
		// copy on the stack would escape (a heap allocation per task). No
		// handler touches cur; it is rebuilt only at the tick boundary.
		d.pos++
		w.runDetTask(&d.cur[d.pos-1])
	}
	d.delta -= int64(n)
	now := w.k.clock()
	d.busyNS.Add(now - start)
	if d.pos == len(d.cur) {
		w.detTickEnd(f, now)
	}
	d.publish()
	return n
}

// detIdle reports, between ticks, that trying to start the next one is
// pointless: nothing waits for it, or (fenced) the last try failed and no
// news — an arrival, a peer's mark, Unfence — came since (fenceState.wake
// counts them; the runner's own work cannot grow while no task runs).
func (d *detLane) detIdle(f *fenceState) bool {
	if f == nil {
		return len(d.next) == 0 && len(d.dirty) == 0 && d.nIn.Load() == 0
	}
	return f.failed && f.finished && f.wake.Load() == f.seen
}

// publish adds the runner's changes to the lane's task count, run count and
// trace hash: a few atomics per batch instead of some per task, emit and
// delivery. Halt reads count only once worker 0 is parked, and it parks
// after a published runDet.
func (d *detLane) publish() {
	if d.delta != 0 {
		d.count.Add(d.delta)
		d.delta = 0
	}
	if d.ran != 0 {
		d.runs.Add(d.ran)
		d.hash.Store(d.h)
		d.ran = 0
	}
}

// detTickEnd records the tick's wall time when its last task ran, and for a
// fenced lane builds the tick's tail or marks it finished.
func (w *worker) detTickEnd(f *fenceState, now int64) {
	d := w.k.det
	ns := now - d.tickStart
	d.tickNS.Store(ns)
	if ns > d.maxTickNS.Load() {
		d.maxTickNS.Store(ns)
	}
	if f = d.fence.Load(); f != nil { // loaded again: the advance may be the fence's first
		w.fenceTail(f) // the tick's tail, or its finish mark
		ns := w.k.clock() - now
		d.busyNS.Add(ns)
		d.boundaryNS.Add(ns)
	}
}

// detWork reports whether the lane has work for worker 0.
func (d *detLane) detWork() bool {
	if f := d.fence.Load(); f != nil {
		return f.work(d)
	}
	return d.pos < len(d.cur) || len(d.next) > 0 || len(d.dirty) > 0 || d.nIn.Load() > 0
}

// detAdvance makes the next tick from what waits for it; false when nothing
// does, or when the fence to a peer holds it (fence.go).
func (w *worker) detAdvance() bool {
	k, d := w.k, w.k.det
	f, drop, seen := w.detIntake()
	if drop != nil {
		defer w.fenceDrop(drop)
	}
	work := len(d.next) > 0 || len(d.dirty) > 0
	if f != nil {
		if f.seen = seen; !w.fenceReady(f, work) {
			return false
		}
	} else if !work {
		return false
	}
	d.tick++
	d.ticks.Store(d.tick)
	d.tickStart = k.clock()
	cur := d.cur[:0]
	if c := k.sysTick; c != nil && len(c.Subs()) > 0 {
		d.tickTask[0] = Task{Meta0: d.tick}
		cur = w.detDeliver(cur, c, d.tickTask[:]) // first of the tick, by subscriber
	}
	ticks := len(cur)
	cur = append(cur, d.next...)
	d.next = d.next[:0]
	slices.Sort(d.dirty)
	for _, id := range d.dirty {
		cur = w.detDeliver(cur, k.chans.Get(id), d.bufs[id])
		d.bufs[id] = d.bufs[id][:0]
	}
	d.dirty = d.dirty[:0]
	if !d.number(cur, ticks) {
		slices.SortFunc(cur[ticks:], canonical)
	}
	d.cur, d.pos = cur, 0
	if f != nil {
		f.started(d.tick)
	}
	return true
}

// number gives the tick's tasks their sequence numbers, in the order they
// were gathered, and reports whether cur[from:] is in canonical order
// already: the seqs ascend, so it is when (priority, type) never goes down
// — the common case of a simulation whose step type emits the next step and
// a message of a higher type. A sorted tick costs no sort.
func (d *detLane) number(cur []Task, from int) bool {
	sorted := true
	for i := range cur {
		d.seq++
		cur[i].Seq = d.seq
		if i > from && sorted {
			a, b := &cur[i-1], &cur[i]
			pa, pb := a.Priority(), b.Priority()
			sorted = pa < pb || pa == pb && a.Type <= b.Type
		}
	}
	return sorted
}

// detIntake moves what reached the inbox from outside the runner to the
// next tick's buffers — direct tasks to next, channel emits to their
// channel's buffer, a fenced lane's arrivals to the fence's pend — and
// returns the fence (nil: none, or being dropped), the one to drop once
// the tick is made (Unfence) and the fence's wake count before it looked.
//
// An unfenced lane with an empty inbox takes no lock: a fence is set only
// before any deterministic work (SetFence), and this lane has some; an
// arrival racing the load joins a later tick, as any arrival racing a
// running lane does.
func (w *worker) detIntake() (f, drop *fenceState, seen uint64) {
	d := w.k.det
	if f = d.fence.Load(); f == nil && d.nIn.Load() == 0 {
		return nil, nil, 0
	}
	d.mu.Lock()
	f = d.fence.Load() // under mu: SetFence stores under mu, before any deterministic work
	if f != nil {
		seen = f.wake.Load() // before looking: news after this wakes the runner again
	}
	if f != nil && f.off {
		f, drop = nil, f
	}
	in := d.inbox
	d.inbox, d.spare = d.spare[:0], nil // double buffer: no allocation per tick
	d.nIn.Store(0)
	d.mu.Unlock()
	for _, x := range in {
		if f != nil && f.take(x) {
			continue
		}
		if x.ch == 0 {
			d.next = append(d.next, x.t)
			continue
		}
		if int(x.ch) >= len(d.bufs) {
			d.bufs = append(d.bufs, make([][]Task, int(x.ch)+1-len(d.bufs))...)
		}
		if len(d.bufs[x.ch]) == 0 {
			d.dirty = append(d.dirty, x.ch)
		}
		d.bufs[x.ch] = append(d.bufs[x.ch], x.t)
	}
	d.spare = in[:0]
	return f, drop, seen
}

// canonical orders a tick's tasks ([D1]).
func canonical(a, b Task) int {
	if c := cmp.Compare(a.Priority(), b.Priority()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

// detDeliver appends a copy of each of ts for each subscriber of c, in
// subscriber order, to cur (subscribers of deterministic channels and of
// sys.tick are deterministic handlers: subscribeSub checks). Without
// subscribers a task is dropped (sys.dropped), like a lossy channel's.
func (w *worker) detDeliver(cur []Task, c *channel.Channel, ts []Task) []Task {
	k := w.k
	subs := c.Subs()
	sys := c == k.sysTick
	for i := range ts {
		t := &ts[i]
		if !sys { // tick tasks were never counted in
			k.det.delta--
		}
		if len(subs) == 0 {
			w.l.Shard.Add(cEmitted, 1)
			w.drop(t, task.ChanClosed)
			continue
		}
		if t.Payload != 0 && len(subs) > 1 {
			_ = k.arena.AddRefs(alloc.Handle(t.Payload), len(subs)-1)
		}
		for _, s := range subs {
			x := *t
			x.Flags |= task.ChannelMsg | task.Deterministic
			x.Channel = c.ID() | uint32(s.Index())<<24
			if sys {
				x.Type = k.handlers[s.Handler].typ
			}
			w.l.Shard.Add(cEmitted, 1)
			cur = append(cur, x)
			k.det.delta++
		}
	}
	return cur
}

// runDetTask runs one deterministic task on worker 0 and applies its result
// without a supervisor: OK completes, YIELD and RETRY (up to the type's
// retry limit) run again at the next tick, the rest goes to sys.error.
func (w *worker) runDetTask(t *Task) {
	k, d := w.k, w.k.det
	var sub *channel.Sub
	slot := int32(-1)
	if t.Flags&task.ChannelMsg != 0 {
		if c := k.chans.Get(t.ChannelID()); c != nil {
			if sub = c.Sub(t.Subscriber()); sub != nil {
				slot = sub.Handler
			}
		}
	} else {
		slot = k.types[t.Type].slot
	}
	if slot < 0 {
		w.drop(t, task.UnknownType)
		return
	}
	w.l.Shard.Add(k.layout.deq+int(t.Tenant), 1)
	if k.types[t.Type].poisoned.Load() {
		w.toError(t, task.Poisoned, sub)
		return
	}
	h := &k.handlers[slot]
	if k.heldMod(h.mod) {
		w.detAgain(t) // its module is being re-initialised: the next tick
		return
	}
	if t.Flags&task.Snapshotted != 0 {
		k.snapStart(t)
	}
	if t.Payload != 0 { // the arguments include the payload's bytes, as the handler got them
		if p, err := k.arena.Bytes(alloc.Handle(t.Payload), int(t.PayloadLen)); err == nil {
			d.h = fnvBytes(d.h, p)
		}
	}
	w.ctx.begin(t, h.mod, sub)
	w.ctx.det = true
	st := w.call(h.fn)
	w.ctx.det, w.ctx.t = false, nil
	d.ran++
	d.h = fnvTask(d.h, d.tick, t, st) // published after the batch (publish)
	switch {
	case st == OK && w.ctx.yielded && int(t.YieldCount) >= int(k.types[t.Type].maxYields):
		w.toError(t, task.YieldLimit, sub)
	case st == OK && w.ctx.yielded:
		t.YieldCount++
		w.l.Shard.Add(cYielded, 1)
		w.detAgain(t)
	case st == OK:
		w.complete(t, sub)
	case st == Retry && int(t.Aux) < k.RetryLimit(t.Type):
		t.Aux++
		w.l.Shard.Add(cRetried, 1)
		w.l.Shard.Add(k.layout.typeOK+int(t.Type)*3+2, 1)
		w.detAgain(t)
	default:
		if st == task.Panicked {
			w.l.Shard.Add(cPanics, 1)
			w.pval = nil
		}
		if st == Retry {
			st = retryLimit
		}
		k.countFailure(t.Type, d.tick)
		w.toError(t, st, sub)
	}
}

// detAgain keeps t for the next tick (a yield or a retry); it keeps its
// channel header, so a delivery stays a delivery.
func (w *worker) detAgain(t *Task) {
	d := w.k.det
	d.next = append(d.next, *t)
	d.delta++
}
