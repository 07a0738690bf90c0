package kernel

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/task"
)

// The deterministic lane ([D1], [D2]). Tasks of the types declared
// Deterministic (TypeInfo) do not go through the ready queues: they wait in
// the lane and run on worker 0, one at a time, a logical tick at a time, in
// the canonical order (priority, type, seq) — whatever the number of
// workers, while the other work of every worker runs as usual beside it.
//
// What a deterministic handler emits during tick T runs at T+1: direct
// emits (Ctx.Emit) in emit order, then the tasks that reached the lane from
// elsewhere (Submit, ChanEmit from outside or from other handlers) in
// arrival order, then the deterministic channels' buffered emits, drained
// channel by channel in ascending channel id order, each emit delivered to
// the channel's subscribers in subscriber order; sequence numbers are given
// in that order, then the tick is sorted by (priority, type, seq). The tick
// advances as soon as tick T ran out and something is waiting for T+1; at
// each advance the subscribers of sys.tick get a task whose Meta0 is the new
// tick. A deterministic RETRY or YIELD runs again at the next tick; other
// failures go to sys.error without a supervisor (whose timing is not
// deterministic). Every task the lane runs updates the trace hash
// (TraceHash) with its tick, type, seq, status and arguments (Meta0, Meta1,
// the payload's bytes) — never with wall time, a worker id or a payload
// handle.
//
// Two kernels whose lanes exchange tasks over bridge channels tie their
// lanes with a tick fence (fence.go): their ticks then run in lockstep, and
// the T → T+1 rule holds across the two.
//
// Inputs from outside the lane are deterministic when they are: a tick's
// inputs submitted together with SubmitBatch (a run of deterministic tasks
// reaches one tick), or
// tasks emitted by deterministic handlers. Inputs racing a running lane
// land in whichever tick comes next.

// SysTick is the name of the tick channel (fan-out, lossless, untyped: a
// subscriber's declaration names its handler type). In a kernel with
// deterministic types, every tick advance delivers a task with Meta0 = tick.
const SysTick = "sys.tick"

// ErrNotDeterministic reports a task flagged DETERMINISTIC whose type was not
// declared deterministic, or a non-deterministic handler subscribed to a
// deterministic channel.
var ErrNotDeterministic = errors.New("gmk: not deterministic")

type detIn struct {
	t  Task
	ch ChanID // 0: a direct task
}

type detLane struct {
	mu                sync.Mutex
	inbox             []detIn      // from outside the runner, arrival order
	spare             []detIn      // the other inbox buffer (runner-owned)
	nIn               atomic.Int64 // len(inbox)
	count             atomic.Int64 // tasks in the lane (pending and Halt's accounting)
	hash              atomic.Uint64
	ticks             atomic.Uint64
	runs              atomic.Uint64 // tasks run
	tickNS, maxTickNS atomic.Int64
	busyNS            atomic.Int64               // worker 0's time running the lane's tasks
	fence             atomic.Pointer[fenceState] // SetFence; nil: not fenced (fence.go)

	// Owned by worker 0 (the runner).
	tick      uint64
	seq       uint32
	cur       []Task // the tick's tasks, canonical order
	pos       int
	next      []Task   // direct emits of deterministic handlers, for the next tick
	bufs      [][]Task // by channel id: deterministic channel emits of this tick
	dirty     []ChanID
	h         uint64
	tickStart int64
	tickTask  [1]Task
}

// DetStats describes the deterministic lane.
type DetStats struct {
	Tick      uint64 // the current logical tick
	Ran       uint64 // deterministic tasks run
	TickNS    int64  // wall time of the last finished tick
	MaxTickNS int64
	Queued    int64  // waiting in the lane
	Hash      uint64 // the trace hash (TraceHash)
	BusyNS    int64  // worker 0's wall time running deterministic tasks: the lane's cost to the other work
	// Fenced: the lane is tied to a peer's (SetFence). FenceWaits counts
	// the ticks whose start waited for the peer, FenceWaitNS the wall time
	// worker 0 waited.
	Fenced      bool
	FenceWaits  uint64
	FenceWaitNS int64
}

// DetStats returns the lane's counters (zero without deterministic types).
func (k *Kernel) DetStats() DetStats {
	d := k.det
	if d == nil {
		return DetStats{}
	}
	s := DetStats{Tick: d.ticks.Load(), Ran: d.runs.Load(), TickNS: d.tickNS.Load(),
		MaxTickNS: d.maxTickNS.Load(), Queued: d.count.Load(), Hash: d.hash.Load(), BusyNS: d.busyNS.Load()}
	if f := d.fence.Load(); f != nil {
		s.Fenced, s.FenceWaits, s.FenceWaitNS = true, f.waits.Load(), f.waitNS.Load()
	}
	return s
}

// TraceHash returns the hash of the deterministic trace so far ([D2]): two
// runs with the same inputs have the same hash after the same work.
func (k *Kernel) TraceHash() uint64 {
	if k.det == nil {
		return fnvOffset
	}
	return k.det.hash.Load()
}

func (k *Kernel) isDet(t *Task) bool {
	return k.det != nil && (t.Flags&task.Deterministic != 0 || k.types[t.Type].info.Deterministic)
}

func (k *Kernel) detChan(c *channel.Channel) bool {
	typ := c.Spec().Type
	return k.det != nil && typ != channel.AnyType && k.types[typ].info.Deterministic
}

// detCheck rejects a DETERMINISTIC flag on a type that is not; it sets the
// flag on tasks of deterministic types.
func (k *Kernel) detCheck(t *Task) error {
	if !k.types[t.Type].info.Deterministic {
		return fmt.Errorf("%w: task type %d flagged DETERMINISTIC", ErrNotDeterministic, t.Type)
	}
	t.Flags |= task.Deterministic
	return nil
}

// detPut takes a deterministic task from outside the runner into the inbox.
func (k *Kernel) detPut(t *Task, ch ChanID, submitted bool) error {
	if err := k.detCheck(t); err != nil {
		return err
	}
	d := k.det
	f := d.fence.Load()
	if f != nil && f.fencedOut(ch) {
		return fenceErr(k.chans.Get(ch))
	}
	t.Flags &^= task.ChannelMsg
	t.Channel, t.YieldCount, t.Aux = 0, 0, 0
	d.mu.Lock()
	d.inbox = append(d.inbox, detIn{t: *t, ch: ch})
	d.nIn.Store(int64(len(d.inbox)))
	d.mu.Unlock()
	d.count.Add(1)
	if submitted {
		k.stats.AddShared(k.layout.sub+int(t.Tenant), 1)
	} else if ch == 0 {
		k.stats.AddShared(cEmitted, 1)
	}
	if f != nil {
		f.wake.Add(1)
	}
	k.core.Idle.Wake(0)
	return nil
}

// submitRuns is SubmitBatch in a kernel with a deterministic lane: each run
// of consecutive deterministic tasks reaches the lane's inbox at once (one
// tick), each run of plain tasks the ready queues; it stops at the first
// refusal, so what it admits is a prefix.
func (k *Kernel) submitRuns(ts []Task) (int, error) {
	done := 0
	for done < len(ts) {
		rest := ts[done:]
		det := k.isDet(&rest[0])
		n := 1
		for n < len(rest) && k.isDet(&rest[n]) == det {
			n++
		}
		if !det {
			m := k.core.SubmitBatch(rest[:n])
			if done += m; m < n {
				return done, errReadyFull
			}
			continue
		}
		m, err := k.detPutBatch(rest[:n])
		if done += m; err != nil {
			return done, err
		}
	}
	return done, nil
}

// detPutBatch puts deterministic tasks into the lane's inbox together: they
// reach the same tick. A DETERMINISTIC flag on a plain type refuses the
// whole run.
func (k *Kernel) detPutBatch(ts []Task) (int, error) {
	for i := range ts {
		if err := k.detCheck(&ts[i]); err != nil {
			return 0, err
		}
	}
	n := len(ts)
	d := k.det
	d.mu.Lock()
	for i := range ts[:n] {
		t := &ts[i]
		t.Flags &^= task.ChannelMsg
		t.Channel, t.YieldCount, t.Aux = 0, 0, 0
		d.inbox = append(d.inbox, detIn{t: *t})
		k.stats.AddShared(k.layout.sub+int(t.Tenant), 1)
	}
	d.nIn.Store(int64(len(d.inbox)))
	d.count.Add(int64(n))
	d.mu.Unlock()
	if f := d.fence.Load(); f != nil {
		f.wake.Add(1)
	}
	k.core.Idle.Wake(0)
	return n, nil
}

// detEmit takes a direct emit of a deterministic handler (the runner).
func (w *worker) detEmit(t *Task) error {
	k := w.k
	if err := k.detCheck(t); err != nil {
		return err
	}
	t.Flags &^= task.ChannelMsg
	t.Channel, t.YieldCount, t.Aux = 0, 0, 0
	k.det.next = append(k.det.next, *t)
	k.det.count.Add(1)
	w.l.Shard.Add(cEmitted, 1)
	return nil
}

// detChanEmit buffers an emit on a deterministic channel until the tick
// boundary. A buffer holds at most the channel's slots: then a lossless
// channel answers CHAN_FULL and a lossy one drops the task.
func (k *Kernel) detChanEmit(w *worker, c *channel.Channel, t *Task) error {
	if w == nil || !w.ctx.det {
		return k.detPut(t, c.ID(), false)
	}
	if err := k.detCheck(t); err != nil {
		return err
	}
	if c.Closed() {
		return fmt.Errorf("%w: %s", ErrChanClosed, c.Name())
	}
	d := k.det
	id := c.ID()
	for int(id) >= len(d.bufs) {
		d.bufs = append(d.bufs, nil)
	}
	if len(d.bufs[id]) >= c.Spec().Slots {
		if c.Spec().Guarantee == Lossless {
			return fmt.Errorf("%w: %s", ErrChanFull, c.Name())
		}
		w.drop(t, task.ChanFull)
		return nil
	}
	if len(d.bufs[id]) == 0 {
		d.dirty = append(d.dirty, id)
	}
	t.Flags &^= task.ChannelMsg
	t.Channel, t.YieldCount, t.Aux = 0, 0, 0
	d.bufs[id] = append(d.bufs[id], *t)
	d.count.Add(1)
	return nil
}

// runDet runs up to a batch of deterministic tasks on worker 0, advancing
// the tick when the current one ran out; it returns how many ran.
func (w *worker) runDet() int {
	d := w.k.det
	f := d.fence.Load()
	if d.pos == len(d.cur) && (f == nil || !w.fenceTail(f)) && !w.detAdvance() {
		return 0
	}
	n := 0
	start := w.k.clock() // one clock read per lane batch, only when the lane runs
	for ; d.pos < len(d.cur) && n < len(w.batch); n++ {
		t := d.cur[d.pos]
		d.pos++
		d.count.Add(-1)
		w.runDetTask(&t)
	}
	now := w.k.clock()
	d.busyNS.Add(now - start)
	if d.pos == len(d.cur) {
		ns := now - d.tickStart
		d.tickNS.Store(ns)
		if ns > d.maxTickNS.Load() {
			d.maxTickNS.Store(ns)
		}
		if f := d.fence.Load(); f != nil { // loaded again: the advance may be the fence's first
			w.fenceTail(f) // the tick's tail, or its finish mark
		}
	}
	return n
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
	var seen uint64
	d.mu.Lock()
	f := d.fence.Load() // under mu: SetFence stores under mu, before any deterministic work
	if f != nil {
		seen = f.wake.Load() // before looking: news after this wakes the runner again
	}
	if f != nil && f.off {
		f = nil
		defer w.fenceDrop(d.fence.Load())
	}
	in := d.inbox
	d.inbox, d.spare = d.spare[:0], nil // double buffer: no allocation per tick
	d.nIn.Store(0)
	d.mu.Unlock()
	defer func() { d.spare = in[:0] }()
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
	for i := range cur {
		d.seq++
		cur[i].Seq = d.seq
	}
	slices.SortFunc(cur[ticks:], canonical)
	d.cur, d.pos = cur, 0
	if f != nil {
		f.started(d.tick)
	}
	return true
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
		k.det.count.Add(-1)
		if sys {
			k.det.count.Add(1) // tick tasks were never counted in
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
			k.det.count.Add(1)
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
	d.runs.Add(1)
	d.h = fnvTask(d.h, d.tick, t, st)
	d.hash.Store(d.h)
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
	d.count.Add(1)
}

// FNV-1a (over 64-bit words) of the deterministic fields of a run ([D2]).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvBytes folds p into h eight bytes at a time (FNV-1a over 64-bit words:
// the hash only has to be stable, and a word step is eight times cheaper than
// a byte step).
func fnvBytes(h uint64, p []byte) uint64 {
	for len(p) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(p)) * fnvPrime
		p = p[8:]
	}
	for _, b := range p {
		h = (h ^ uint64(b)) * fnvPrime
	}
	return h
}

func fnvTask(h, tick uint64, t *Task, st Status) uint64 {
	return fnvWords(h, tick, uint64(t.Type), uint64(t.Seq), uint64(int64(st)), t.Meta0, t.Meta1,
		uint64(t.PayloadLen), uint64(t.Flags&^(task.ChannelMsg|task.Snapshotted)))
}

// fnvWords folds vs into h (FNV-1a over 64-bit words).
func fnvWords(h uint64, vs ...uint64) uint64 {
	for _, v := range vs {
		h = (h ^ v) * fnvPrime
	}
	return h
}

// drainDet counts and releases what is still in the lane (Halt; the workers
// have stopped).
func (k *Kernel) drainDet(release func(*Task)) {
	d := k.det
	if d == nil {
		return
	}
	for i := d.pos; i < len(d.cur); i++ {
		release(&d.cur[i])
	}
	for i := range d.next {
		release(&d.next[i])
	}
	for _, b := range d.bufs {
		for i := range b {
			release(&b[i])
		}
	}
	for i := range d.inbox {
		release(&d.inbox[i].t)
	}
	if f := d.fence.Load(); f != nil {
		for _, p := range f.pend {
			for i := range p {
				release(&p[i])
			}
		}
	}
	d.cur, d.pos, d.next, d.bufs, d.dirty, d.inbox = nil, 0, nil, nil, nil, nil
	d.count.Store(0)
}
