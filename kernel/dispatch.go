package kernel

import (
	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/metrics"
	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/kernel/trace"
)

const (
	statusChanClosed = task.ChanClosed
	statusChanFull   = task.ChanFull
)

func (w *worker) dispatch(batch []Task) {
	if w.k.cfg.SortBatch {
		w.dispatchSorted(batch) // sortbatch.go
		w.flushCounts()
		w.out.Flush(&w.em)
		return
	}
	w.l.StartHandoffs(handoffsPerTask * len(batch))
	w.next = 0
	for w.next < len(batch) || w.l.HandoffPending() {
		w.runGuarded(batch) // returns early only after a handler panicked
	}
	w.l.StartHandoffs(0)
	w.flushCounts()
	w.out.Flush(&w.em) // the batch's deliveries to other workers, with one push
}

// handoffsPerTask is how many handoffs (sched.Core.Handoff) a dispatch allows
// per task of its batch: enough for an item to run through a co-located
// pipeline of a few stages depth-first, while a chain that keeps emitting to
// itself still returns to the worker loop after a bounded number of runs.
const handoffsPerTask = 4

// runTask resolves the handler ([M3]: table by type, or the subscription of a
// channel delivery), runs it with panic recovery (its own, or runGuarded's
// for the whole batch) and applies its result.
//
// The commonest task of a pipeline — a delivery of a subscription homed
// here, with no payload and no flag but the channel's, while no type is
// poisoned, no module held, its channel open and its module traces no task
// events — takes a short path: what runFull, settle and complete do for
// such a task, with their other cases' checks folded into the tests here,
// and its counters accumulated (plainCount) instead of added one by one.
// Anything else, and any result but a plain OK, goes the general way.
//
// The conditions that depend on more than the task change rarely, so they
// are checked once per subscription and control generation (plainNow) and
// then trusted while the generation reads the same: one load per task
// instead of five, with the same effect — a close, hold, poisoning or level
// change increments the generation after it takes effect, so the next task
// of every subscription sees it, as it saw the conditions themselves.
func (w *worker) runTask(t *Task) {
	if t.Flags != task.ChannelMsg || t.Payload != 0 || !w.guarded {
		w.runFull(t)
		return
	}
	e := w.subEntry(t.Channel)
	if e == nil || e.gen != w.gen.Load() && !w.plainNow(e) {
		w.runFull(t) // not a plain delivery now: see plainNow
		return
	}
	sub, h := e.sub, e.plain
	sub.Begin(t.Seq)
	p := &w.plain[t.Type&uint32(len(w.plain)-1)]
	if p.typ != t.Type || p.tenant != t.Tenant {
		w.retakePlain(p, t)
	}
	p.started++
	w.ctx.begin(t, h.mod, sub)
	w.ctx.traced = false
	w.inFn = true // a panic from here to the store below is the handler's
	st := h.fn(&w.ctx)
	w.inFn = false
	if st != OK || w.ctx.yielded {
		w.flushCounts() // the counters are whole before a failure or yield is handled
		w.settle(st)
		return
	}
	p.done++
	if sub.Acks() {
		w.ack(sub, t.Seq) // a replay buffer or an observer (observe.go)
	}
	w.ctx.t = nil
}

// plainNow reports whether deliveries of e may take runTask's short path,
// and if so marks e valid for the control generation it read first
// (channel.Registry.Gen).
func (w *worker) plainNow(e *subEntry) bool {
	k := w.k
	g := w.gen.Load()
	if e.plain == nil || k.held.Load() != 0 || k.npoisoned.Load() != 0 || e.sub.Channel().Closed() ||
		trace.Enabled && k.levels.Enabled(int(e.plain.mod), trace.TaskStart) {
		return false
	}
	e.gen = g
	return true
}

// runFull is runTask for every task.
func (w *worker) runFull(t *Task) {
	k := w.k
	var sub *channel.Sub
	slot := int32(-1)
	if t.Flags&task.ChannelMsg != 0 {
		if sub = w.subOf(t.Channel); sub == nil {
			w.drop(t, task.ChanUnknown)
			return
		}
		c := sub.Channel()
		if sub.Home == w.id { // a retried delivery may run elsewhere (deferred decisions); only its home tracks begun
			sub.Begin(t.Seq)
		}
		if c.Closed() {
			w.drop(t, statusChanClosed)
			return
		}
		slot = sub.Handler
	} else if int(t.Type) < len(k.types) {
		slot = k.types[t.Type].slot
	}
	if slot < 0 {
		w.drop(t, task.UnknownType)
		return
	}
	w.l.Shard.Add(k.layout.deq+int(t.Tenant), 1)
	if k.types[t.Type].poisoned.Load() && !k.isSysSub(sub) {
		w.toError(t, task.Poisoned, sub)
		return
	}
	if t.Payload != 0 && k.arena.Refs(alloc.Handle(t.Payload)) == 0 {
		// [A5] use after free: report the task with its type; its dead
		// handle is cleared so that nothing downstream touches it again.
		w.l.Shard.Add(cPayloadMisuse, 1)
		t.Payload = 0
		w.toError(t, task.StalePayload, sub)
		return
	}
	h := &k.handlers[slot]
	if k.heldMod(h.mod) {
		w.waitHold(t) // its module is being re-initialised (hold.go)
		return
	}
	if t.Flags&task.Snapshotted != 0 {
		k.snapStart(t)
	}
	// A task's start and end are recorded ([O3]) always for EMIT_TRACE
	// tasks, else at module level ALL through the worker's sampler.
	traced := trace.Enabled && (t.Flags&EmitTrace != 0 ||
		k.levels.Enabled(int(h.mod), trace.TaskStart) && w.tw.Sample())
	if traced {
		w.trace(trace.TaskStart, t, uint64(t.Seq), uint64(w.id))
	}
	w.ctx.begin(t, h.mod, sub)
	w.ctx.traced = traced
	var st Status
	if w.guarded {
		w.inFn = true // a panic from here to the store below is the handler's
		st = h.fn(&w.ctx)
		w.inFn = false
	} else {
		st = w.call(h.fn)
	}
	w.settle(st)
}

// settle applies the result st of the task w.ctx is running: a yield,
// completion or failure ([Y1], [F1]–[F3]).
func (w *worker) settle(st Status) {
	t, sub := w.ctx.t, w.ctx.sub
	if trace.Enabled && w.ctx.traced {
		w.trace(trace.TaskEnd, t, uint64(int64(st)), uint64(t.Seq))
	}
	switch {
	case st == OK && w.ctx.yielded:
		w.yield(t, sub)
	case st == OK:
		w.complete(t, sub)
	default:
		w.failed(t, st, sub, w.ctx.mod)
	}
	w.ctx.t = nil
}

// call runs fn and turns a panic into PANICKED ([F3]: a panic is a failure,
// never the end of the worker).
func (w *worker) call(fn HandlerFunc) (st Status) {
	defer func() {
		if r := recover(); r != nil {
			w.pval = r
			st = task.Panicked
		}
	}()
	return fn(&w.ctx)
}

func (w *worker) complete(t *Task, sub *channel.Sub) {
	k := w.k
	if t.Flags&task.Snapshotted != 0 {
		k.snapEnd(t)
	}
	sh := w.l.Shard
	sh.Add(k.layout.tenOK+int(t.Tenant), 1) // Stats.Completed sums these
	if sub == nil || !k.isSysSub(sub) {     // a handled report is not a success of its type
		sh.Add(k.layout.typeOK+int(t.Type)*3, 1)
	}
	if t.Payload != 0 {
		w.release(t.Payload)
	}
	if sub != nil && sub.Acks() {
		w.ack(sub, t.Seq)
	}
}

func (w *worker) release(p uint64) {
	if w.k.arena.Release(alloc.Handle(p)) != nil {
		w.l.Shard.Add(cPayloadMisuse, 1)
	}
}

// yield re-enqueues a yielded task ([Y1]–[Y3]).
func (w *worker) yield(t *Task, sub *channel.Sub) {
	k := w.k
	t.YieldCount++
	if int(t.YieldCount) > int(k.types[t.Type].maxYields) {
		w.failed(t, task.YieldLimit, sub, w.ctx.mod)
		return
	}
	if !k.core.Yield(w.l, t) {
		// [Y2] LQ, its reserve and the overflow queue are full.
		if trace.Enabled && w.traceEvent(trace.TaskFail, w.ctx.mod, t) {
			w.trace(trace.TaskFail, t, codeArg(task.YieldOverflow), uint64(t.YieldCount))
		}
		w.toError(t, task.YieldOverflow, sub)
		return
	}
	w.l.Shard.Add(cYielded, 1)
	if trace.Enabled && w.traceEvent(trace.TaskYield, w.ctx.mod, t) {
		w.trace(trace.TaskYield, t, uint64(t.YieldCount), t.Meta0)
	}
}

// failed applies the supervisor's decision to a failed dispatch ([F1]–[F3]).
func (w *worker) failed(t *Task, st Status, sub *channel.Sub, mod int32) {
	k := w.k
	if st == task.Panicked {
		w.l.Shard.Add(cPanics, 1)
	}
	if st == Retry && w.ctx.full != nil && w.hold(t, w.ctx.full) {
		return // backpressure: held until the channel has room (held.go)
	}
	if st != Retry {
		k.countFailure(t.Type, w.tickNow())
	}
	if trace.Enabled && w.traceEvent(trace.TaskFail, mod, t) {
		w.trace(trace.TaskFail, t, uint64(int64(st)), uint64(t.Aux))
	}
	f := &w.fail
	*f = Failure{Task: *t, Status: st, Panic: w.pval, Module: k.modName(mod), Worker: w.id,
		Retries: int(t.Aux), Now: w.clockNow(), Rand: w.rand()}
	w.pval = nil
	d, ok := w.decide(f, t, st, mod)
	f.Panic = nil
	if !ok {
		return // parked until Resolve (deferred.go)
	}
	w.apply(t, st, d, sub, mod)
}

// apply carries out a supervisor's decision for a failed task.
func (w *worker) apply(t *Task, st Status, d Decision, sub *channel.Sub, mod int32) {
	k := w.k
	switch d.Action {
	case ActRetry:
		w.retry(t, d.Delay.Nanoseconds(), sub)
	case ActRestart:
		k.restartModule(mod, w.id)
		w.retry(t, d.Delay.Nanoseconds(), sub)
	case ActPoison:
		k.poisonModule(mod)
		w.toError(t, task.Poisoned, sub)
	default:
		code := d.Code
		if code == 0 {
			code = st
		}
		if st == Retry {
			k.countFailure(t.Type, w.tickNow()) // out of retries: a failure for [F3]
		}
		w.toError(t, code, sub)
	}
}

// retry parks the task on the EVQ for delay ns ([F2]); its retry count lives in
// the runtime-owned Aux field.
func (w *worker) retry(t *Task, delay int64, sub *channel.Sub) {
	t.Aux++
	w.l.Shard.Add(cRetried, 1)
	w.l.Shard.Add(w.k.layout.typeOK+int(t.Type)*3+2, 1)
	if trace.Enabled && w.traceEvent(trace.TaskRetry, w.ctx.mod, t) {
		w.trace(trace.TaskRetry, t, uint64(t.Aux), uint64(delay))
	}
	ref, ok := w.putNode(t)
	if !ok {
		w.toError(t, task.AllocFail, sub)
		return
	}
	if !w.evq.Push(w.clockNow()+delay, ref) {
		w.takeNode(ref)
		w.toError(t, task.AllocFail, sub)
	}
}

// toError ends a failed task ([F1], [C9]): the channel's error handler when the
// task came from a channel that has one, else sys.error.
func (w *worker) toError(t *Task, code Status, sub *channel.Sub) {
	k := w.k
	w.ended(t, code)
	if t.Flags&task.Snapshotted != 0 {
		k.snapEnd(t)
		t.Flags &^= task.Snapshotted // the report is a new task
	}
	if sub != nil && sub.Index() != channel.ErrorSub && !k.isSysSub(sub) &&
		sub.Channel().DeliverError(&w.em, t, code) {
		return
	}
	sh := w.l.Shard
	sh.Add(cErrored, 1)
	sh.Add(k.layout.tenErr+int(t.Tenant), 1)
	sh.Add(k.layout.typeOK+int(t.Type)*3+1, 1)
	if k.isSysSub(sub) {
		w.release(t.Payload) // an error of an error report: counted, not re-reported
		return
	}
	// Published before the report goes out (the slow path can afford it):
	// whoever handles the report then sees the failure in the counters.
	w.flushCounts()
	sh.Flush()
	k.toSys(sh, &w.em, k.sysError, t, code)
}

// drop routes an undeliverable task to sys.dropped ([M3], [C9]), telling
// the observer of its subscription, if any (ended).
func (w *worker) drop(t *Task, code Status) {
	k := w.k
	w.ended(t, code)
	if t.Flags&task.Snapshotted != 0 {
		k.snapEnd(t)
		t.Flags &^= task.Snapshotted
	}
	w.l.Shard.Add(cDropped, 1)
	if trace.Enabled && w.traceEvent(trace.ChanDrop, 0, t) {
		w.trace(trace.ChanDrop, t, uint64(int64(code)), uint64(t.ChannelID()))
	}
	if t.Flags&task.ChannelMsg != 0 && k.isSysChan(t.ChannelID()) {
		w.release(t.Payload)
		return
	}
	k.toSys(w.l.Shard, &w.em, k.sysDropped, t, code)
}

// toSys delivers copies of a terminal task to the subscribers of a system
// channel; the copies are new tasks. With no subscriber the payload reference
// is released at once.
func (k *Kernel) toSys(sh *metrics.Shard, em *channel.Emitter, c *channel.Channel, t *Task, code Status) {
	t.Aux = uint16(int16(code))
	if len(c.Subs()) == 0 {
		k.releaseShared(sh, t.Payload)
		return
	}
	if _, n := c.Emit(em, t); n > 0 {
		k.add(sh, cEmitted, uint64(n))
	}
}

// droppedCopy takes a copy a channel could not deliver ([C6]): it was created
// by the emit, and is dropped now. Copies of system-channel reports are
// released and counted as lost reports instead.
func (k *Kernel) droppedCopy(sh *metrics.Shard, em *channel.Emitter, d *Task, code Status) {
	if k.isSysChan(d.ChannelID()) {
		k.add(sh, cSysLost, 1)
		k.releaseShared(sh, d.Payload)
		return
	}
	k.add(sh, cEmitted, 1)
	k.add(sh, cDropped, 1)
	k.toSys(sh, em, k.sysDropped, d, code)
}

func (k *Kernel) releaseShared(sh *metrics.Shard, p uint64) {
	if p != 0 && k.arena.Release(alloc.Handle(p)) != nil {
		k.add(sh, cPayloadMisuse, 1)
	}
}

func (k *Kernel) add(sh *metrics.Shard, idx int, d uint64) {
	if sh != nil {
		sh.Add(idx, d)
		return
	}
	k.stats.AddShared(idx, d)
}

func (k *Kernel) isSysChan(id uint32) bool {
	return id == k.sysError.ID() || id == k.sysDropped.ID()
}

func (k *Kernel) isSysSub(s *channel.Sub) bool {
	if s == nil {
		return false
	}
	c := s.Channel()
	return c == k.sysError || c == k.sysDropped
}
