package kernel

import (
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/task"
)

// The guarded dispatch: one deferred recovery per batch instead of one per
// task. A deferred call with recover costs a few nanoseconds, which a
// co-located pipeline paid once per stage per item; here runGuarded arms one
// recovery and runs the batch (and the deliveries handed off meanwhile) with
// plain calls. A handler panic unwinds to it, ends the running task as
// PANICKED exactly as worker.call would have ([F3]), and dispatch resumes the
// batch after that task. A panic outside a handler (w.inFn false) is the
// kernel's own and is not recovered.

// runGuarded runs batch[w.next:], each task followed by the deliveries its
// handler handed off (Core.Handoff), until the batch is done or a handler
// panics; dispatch calls it again after a panic. The handoff slot is emptied
// before the next batch task, as the slot's FIFO contract requires, also
// after a panic (the panicking handler may have handed a delivery off).
func (w *worker) runGuarded(batch []Task) {
	w.guarded = true
	defer w.recoverTask()
	for {
		for t := w.l.TakeHandoff(); t != nil; t = w.l.TakeHandoff() {
			w.runTask(t) // a delivery its handler made for this worker
		}
		if w.next >= len(batch) {
			break
		}
		i := w.next
		w.next++ // a panic of batch[i] resumes after it
		w.runTask(&batch[i])
	}
	w.guarded = false
}

// recoverTask is runGuarded's deferred recovery. It recovers only a panic of
// a handler, which it turns into the PANICKED result of the running task;
// a panic elsewhere goes on unwinding (recover is not called).
func (w *worker) recoverTask() {
	if !w.inFn {
		w.guarded = false
		return
	}
	r := recover()
	w.inFn, w.guarded = false, false
	if r == nil {
		return // runtime.Goexit in a handler: the worker ends, as with call
	}
	w.pval = r
	w.flushCounts() // the counters are whole before the failure is handled
	w.settle(task.Panicked)
}

// subCache is a worker's direct-mapped cache from a delivery's channel field
// (channel id and subscriber index) to its subscription, so that a dispatch
// need not chase registry → channel → subscriber list → subscription. An
// entry never goes stale: channels are never removed, a channel's subscriber
// list only grows and its error handler is set at most once, so the
// subscription of a channel field, once found, is the same for ever. Key 0
// (an empty entry) matches no delivery: channel id 0 is never used. Owner
// only.
type subCache [subCacheSize]subEntry

type subEntry struct {
	key uint32
	sub *channel.Sub
	// plain is the handler of the subscription's deliveries when runTask's
	// short path may take them, as far as the subscription alone decides:
	// homed here, with a handler, of a channel that is not a system one —
	// all fixed when the subscription is made. Else nil.
	plain *handlerEntry
	// gen is the control generation (channel.Registry.Gen) under which the
	// short path's other conditions last held for these deliveries
	// (plainNow); 0, which no generation equals, until they have.
	gen uint64
}

// subCacheSize is a power of two above the number of channels a worker's hot
// loop usually touches (a pipeline's stages).
const subCacheSize = 16

// subOf returns the subscription a delivery with channel field ch is
// addressed to, or nil when there is none.
func (w *worker) subOf(ch uint32) *channel.Sub {
	if e := w.subEntry(ch); e != nil {
		return e.sub
	}
	return nil
}

// subEntry returns the cache entry of channel field ch, filled, or nil when
// no subscription has that field.
func (w *worker) subEntry(ch uint32) *subEntry {
	if e := &w.subs1[ch&(subCacheSize-1)]; e.key == ch {
		return e
	}
	return w.subEntrySlow(ch)
}

func (w *worker) subEntrySlow(ch uint32) *subEntry {
	k := w.k
	t := Task{Channel: ch}
	c := k.chans.Get(t.ChannelID())
	if c == nil {
		return nil
	}
	s := c.Sub(t.Subscriber())
	if s == nil {
		return nil
	}
	e := &w.subs1[ch&(subCacheSize-1)]
	e.key, e.sub, e.plain, e.gen = ch, s, nil, 0
	if s.Home == w.id && s.Handler >= 0 && c != k.sysError && c != k.sysDropped {
		e.plain = &k.handlers[s.Handler]
	}
	return e
}
