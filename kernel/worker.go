package kernel

import (
	"math"
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/sched"
	"github.com/gmkernel/gmk/kernel/trace"
)

// worker is one worker goroutine ([S6]): gather → dispatch → park. Everything
// in it is owned by its goroutine except the atomics, which Halt and the
// metrics read.
type worker struct {
	k     *Kernel
	id    int
	l     *sched.Local
	batch []Task
	drain []Task
	fire  []uint32
	evq   *sched.EVQ[uint32] // retry/timer events: tenant<<24 | task-slab node
	ctx   Ctx
	tw    *trace.Writer
	em    channel.Emitter
	out   channel.Outbox // em.Out: deliveries to other workers' subscriptions
	fail  Failure
	timer *time.Timer

	// subs are the subscriptions homed here (copy-on-write; written under the
	// kernel's control plane, read by this worker).
	subs atomic.Pointer[[]*channel.Sub]

	lingered int   // rounds a trickle on a subscription was left to grow (lingerSpins)
	chanFed  bool  // the last work found came from subscriptions, not the shared queues (parkYields)
	now      int64 // kernel clock, read at most once per gather (clockNow)
	nowOK    bool
	iter     uint64
	rng      uint64
	pval     any // recovered panic value of the last dispatch

	subs1  subCache       // delivery → subscription (guard.go)
	gen    *atomic.Uint64 // the kernel's control generation (channel.Registry.Gen; runTask)
	chans1 chanCache      // channel id → channel, for emits (guard.go)
	plain  plainCounts    // counters of runTask's short path, not yet in the shard (plain.go)
	// The guarded dispatch (guard.go): the batch index runGuarded runs next,
	// whether its recovery is armed, and whether a handler is running.
	next    int
	guarded bool
	inFn    bool
	dozing  bool // parked, woke to look, parks again: no park or wake traced (traceWake)

	held  []heldQ // tasks waiting for room on a full channel (held.go)
	nheld int
	det   *detLane // worker 0 runs the deterministic lane (det.go); nil elsewhere

	wakes    atomic.Uint64 // incremented on every unpark (Halt's quiescence check)
	loops    atomic.Uint64 // the loop count, published each round while a module is held (hold.go)
	aside    atomic.Bool   // runs no handler now: restarting a module, paused for a snapshot, or gone (hold.go)
	holdWait []Task        // tasks of held modules (hold.go)
	holdN    atomic.Int64  // len(holdWait), for pending()
	lqDepth  atomic.Int64  // published at park: LQ, held tasks and outbox
	evqDepth atomic.Int64  // published at park
	lqHigh   atomic.Int64  // highest LQ depth seen at a batch boundary ([O1] high watermark)
	lqMax    int           // owner's copy of lqHigh
}

func newWorker(k *Kernel, id int, l *sched.Local, traceMem []byte) *worker {
	w := &worker{k: k, id: id, l: l,
		batch: make([]Task, k.cfg.BatchSize),
		drain: make([]Task, k.cfg.BatchSize),
		fire:  make([]uint32, k.cfg.EVQDrain),
		evq:   sched.NewEVQ[uint32](k.cfg.EVQCap),
		rng:   k.cfg.Seed ^ uint64(id+1)*0xBF58476D1CE4E5B9,
	}
	w.tw = trace.NewWriter(id, traceMem, k.cfg.TraceSample, w.rng)
	w.em = channel.Emitter{Worker: id, Shard: k.chanStats.Shard(id), Stats: k.chanStats, Env: w, Core: k.core, Local: l}
	w.em.Out = &w.out
	w.em.Room = w.localRoom
	w.ctx = Ctx{k: k, w: w}
	w.gen = k.chans.Gen()
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	empty := []*channel.Sub{}
	w.subs.Store(&empty)
	return w
}

func (w *worker) run() {
	defer w.k.wg.Done()
	defer w.aside.Store(true) // gone: a hold must not wait for its loop count
	defer w.timer.Stop()
	idle := 0
	for !w.k.stopping() {
		if w.k.held.Load() != 0 {
			w.loops.Store(w.iter) // only a module hold waits for it (hold.go)
		}
		if w.k.world.req.Load() {
			w.pauseForWorld() // a snapshot (replay.go)
			continue
		}
		if w.out.Len() > 0 {
			w.out.Flush(&w.em) // what an earlier flush could not push, or emits made outside a dispatch
		}
		ran := 0
		if w.det != nil {
			ran = w.runDet() // a batch of the lane, then the worker's other work
		}
		if n := w.gather(); n > 0 {
			idle = 0
			if trace.Enabled && w.dozing {
				w.traceWake(false) // work came after all: the wake it had not recorded
			}
			w.dispatch(w.batch[:n])
			if w.iter&(flushEvery-1) == 0 {
				w.flush()
			}
			continue
		}
		if ran > 0 {
			idle = 0
			if trace.Enabled && w.dozing {
				w.traceWake(false)
			}
			continue
		}
		if idle++; idle < w.k.cfg.Spin {
			continue
		}
		if w.chanFed && idle < w.k.cfg.Spin+parkYields {
			if idle == w.k.cfg.Spin {
				w.flush() // an idle worker's counters are exact, as when it parks (flushEvery)
			}
			runtime.Gosched() // see parkYields
			continue
		}
		w.park()
		idle = 0
	}
	w.out.Flush(&w.em)
	w.flush()
	w.publishDepths()
}

// gather fills the batch ([S6]). Downstream work comes first, which keeps
// pipelines short: the homed subscriptions' deliveries move into the LQ as far
// as its watermark allows ([C10]); then the LQ; due EVQ events when the LQ ran
// short of a batch (and every 16th round, so a busy LQ cannot postpone retries
// for ever — retries are backed-off work, so they never crowd out deliveries);
// then the shared queues when less than half a batch was found (and first,
// every 16th round). A worker holding back-pressured tasks pulls no new
// shared work: that would only grow the hold (pull-based flow control).
func (w *worker) gather() int {
	w.nowOK = false
	w.iter++
	if w.nheld > 0 {
		w.releaseHeld()
	}
	if w.k.deferred.ready.Load() != 0 {
		w.applyResolved()
	}
	if len(w.holdWait) > 0 {
		w.releaseHolds()
	}
	w.drainSubs()
	n := 0
	pull := w.nheld < len(w.batch) // holding back-pressured tasks: take no new work
	if pull && w.iter&15 == 0 {
		n = w.k.core.PopShared(w.l, w.batch) // fairness: local work cannot starve the shared queues
		if n > 0 {
			w.chanFed = false
		}
	}
	n += w.l.LQ.PopBatch(w.batch[n:])
	if w.evq.Len() > 0 && (n < len(w.batch) || w.iter&15 == 0) {
		w.fireEVQ()
		n += w.l.LQ.PopBatch(w.batch[n:])
	}
	if pull && n < len(w.batch)/2 {
		// Top up from the shared queues only when local work runs low, so
		// that a pop takes a good part of a batch: the shared rings are
		// contended, and one claim per batch is what they are built for.
		m := w.k.core.PopShared(w.l, w.batch[n:])
		if m > 0 {
			w.chanFed = false
		}
		n += m
	}
	return n
}

// drainSubs moves deliveries of the subscriptions homed here into the LQ,
// as many as fit below its watermark ([C10]). Deliveries of a closed channel
// go to sys.dropped.
//
// Flow control: a consumer whose module declares lossless outputs ([C11]) is
// drained only as far as those outputs have room (less what the LQ already
// holds), so a pipeline stage waits for its downstream instead of failing its
// emits with CHAN_FULL.
func (w *worker) drainSubs() {
	for _, s := range *w.subs.Load() {
		queued := s.Len()
		if queued == 0 || s.Paused() {
			continue
		}
		if queued < lingerMin && w.lingered < lingerSpins {
			w.lingered++ // let a trickle become a batch (see lingerSpins)
			continue
		}
		w.lingered = 0
		room := min(w.l.LQ.Room(), len(w.drain))
		if room == 0 {
			return
		}
		if outs := w.k.modules[w.k.handlers[s.Handler].mod].outs; len(outs) > 0 {
			if room = min(room, w.heldRoom(outs)); room <= 0 {
				continue
			}
		}
		if s.Channel().Closed() {
			w.drainClosed(s, room)
			continue
		}
		// Straight into the LQ's free slots: no copy through a buffer.
		a, b := w.l.LQ.Free(room)
		m := s.Drain(a)
		if m == len(a) && len(b) > 0 {
			m += s.Drain(b)
		}
		if m == 0 {
			continue
		}
		s.Drained(m)
		w.chanFed = true
		w.wakeWaiters(s.Channel())
		w.k.core.DeliverFree(w.l, m)
		if trace.Enabled && w.k.levels.Enabled(0, trace.ChanDrain) {
			w.trace(trace.ChanDrain, &a[0], uint64(s.Channel().ID()), uint64(m))
		}
	}
}

// drainClosed drains up to room deliveries of a closed channel's
// subscription to sys.dropped ([C9]).
func (w *worker) drainClosed(s *channel.Sub, room int) {
	m := s.Drain(w.drain[:room])
	if m == 0 {
		return
	}
	w.wakeWaiters(s.Channel())
	for i := range w.drain[:m] {
		w.drop(&w.drain[i], statusChanClosed)
	}
}

// Lingering: a worker does not drain a subscription holding fewer than
// lingerMin deliveries until it has passed it over lingerSpins rounds (well
// under a microsecond when idle, a few batches when busy). A consumer that
// keeps up with its producer would otherwise take one task per drain and pay
// a cross-core cache miss for each; waiting a few rounds turns the trickle
// into batches. The bound keeps a trickle from waiting for ever behind other
// work.
const (
	lingerSpins = 8
	lingerMin   = 8
)

// heldRoom is how many deliveries a consumer with lossless outputs may take:
// the outputs' room less what the LQ already holds. At zero the worker
// registers as a waiter on the outputs and re-checks, so the consumer that
// makes room wakes it (see Channel.AddWaiter).
func (w *worker) heldRoom(outs []*channel.Channel) int {
	room := w.outRoom(outs) - w.l.LQ.Len()
	if room > 0 {
		return room
	}
	for _, c := range outs {
		c.AddWaiter(w.id)
	}
	return w.outRoom(outs) - w.l.LQ.Len()
}

// wakeWaiters wakes the workers and producers held back by c's lack of room,
// once the drains made WakeRoom of it (or c closed). Room only grows while
// they wait, up to the reserve when the queue is empty, so the wake comes.
func (w *worker) wakeWaiters(c *channel.Channel) {
	if c.Room() < c.WakeRoom() && !c.Closed() {
		return
	}
	for m := c.TakeWaiters(); m != 0; m &= m - 1 {
		w.k.wakeWorkers(bits.TrailingZeros64(m))
	}
}

// localRoom is how many deliveries of s the fast path may put straight into
// this worker's queues (channel.Emitter.Room): what drainSubs would drain of
// s's queue — its module's lossless outputs' room less the LQ's length, or
// no bound for a module without such outputs.
func (w *worker) localRoom(s *channel.Sub) int {
	outs := w.k.modules[w.k.handlers[s.Handler].mod].outs
	if len(outs) == 0 {
		return math.MaxInt32
	}
	return w.heldRoom(outs)
}

func (w *worker) outRoom(outs []*channel.Channel) int {
	room := len(w.drain)
	for _, c := range outs {
		room = min(room, c.Room())
	}
	return room
}

// fireEVQ re-enqueues up to EVQDrain due events ([S5]).
func (w *worker) fireEVQ() {
	now := w.clockNow()
	if due, ok := w.evq.PeekDue(); !ok || due > now {
		return
	}
	n := w.evq.PopDue(now, w.fire)
	for _, ref := range w.fire[:n] {
		t := w.takeNode(ref)
		if !w.k.core.Requeue(w.l, &t) && !w.l.LQ.PushReserve(&t) {
			w.toError(&t, statusChanFull, nil)
		}
	}
}

// putNode stores t in a task-slab node of its tenant and returns the EVQ ref.
func (w *worker) putNode(t *Task) (uint32, bool) {
	s := w.k.arena.Slab(int(t.Tenant))
	idx, ok := s.Alloc()
	if !ok {
		return 0, false
	}
	*(*Task)(unsafe.Pointer(&s.Node(idx)[0])) = *t
	return uint32(t.Tenant)<<24 | idx, true
}

func (w *worker) takeNode(ref uint32) Task {
	s := w.k.arena.Slab(int(ref >> 24))
	idx := ref & (1<<24 - 1)
	t := *(*Task)(unsafe.Pointer(&s.Node(idx)[0]))
	s.Free(idx)
	return t
}

func (w *worker) drainEVQ(fn func(*Task)) {
	w.evq.Drain(func(_ int64, ref uint32) {
		t := w.takeNode(ref)
		fn(&t)
	})
}

// parkYields is how many times a worker that found no work in Spin polls
// yields its processor (runtime.Gosched) before it parks, when its last work
// came from its subscriptions (chanFed): the stages of a channel pipeline,
// which wake each other. A yielding worker stays in the Go scheduler's
// global run queue, where the next processor that schedules takes it. A
// parked one, once woken, waits in its waker's run-next slot until the
// waker blocks — and a stage's waker is the stage feeding it, which does not
// block while it has work — or until an idle processor steals it, which the
// scheduler does only after a usleep(3) back-off (that a VM's timer slack
// can stretch). With more busy goroutines than processors (two workers and
// an outside producer on two cores), the execution trace showed each worker
// runnable but not running for 18–24 % of a pipeline3 run; with the yields,
// 6–10 %. An idle kernel still parks after a few µs. A worker fed from the
// shared queues parks at once: its feeders are goroutines outside the
// kernel, which block soon after they wake it, and yielding only took
// processor time from them (mpmc2x2: 37 → 62–73 ns per task).
const parkYields = 16

// park waits for work ([S6]): publish parked, re-check, then a bounded wait
// (ParkWait, or less when an event is due sooner).
func (w *worker) park() {
	idle := w.k.core.Idle
	idle.Mark(w.id)
	w.flush()
	w.publishDepths()
	if w.hasWork() || w.k.stopping() {
		idle.Unmark(w.id)
		w.wakes.Add(1)
		return
	}
	if trace.Enabled && !w.dozing && w.k.levels.Enabled(0, trace.WorkerPark) {
		w.traceRaw(trace.WorkerPark, 0, 0, 0, 0)
	}
	d := w.k.cfg.ParkWait
	if due, ok := w.evq.PeekDue(); ok {
		if dd := time.Duration(due - w.k.clock()); dd < d {
			d = max(dd, time.Microsecond)
		}
	}
	w.timer.Reset(d)
	timedOut := false
	select {
	case <-idle.C(w.id):
	case <-w.timer.C:
		timedOut = true
	case <-w.k.stop:
	}
	w.timer.Stop()
	idle.Unmark(w.id)
	w.wakes.Add(1)
	if trace.Enabled {
		w.traceWake(timedOut)
	}
}

// traceWake records the end of a park. A park that timed out with nothing
// to do is not recorded, nor is the next park (dozing): an idle worker
// wakes every ParkWait to look, and would otherwise fill its trace buffer,
// and sys.trace, with a park and a wake each time. A dozing worker that
// finds work after all records the wake then (run), so every run of work
// stands between a wake and a park.
func (w *worker) traceWake(timedOut bool) {
	if timedOut && !w.hasWork() && !w.eventDue() && !w.k.stopping() {
		w.dozing = true
		return
	}
	w.dozing = false
	if w.k.levels.Enabled(0, trace.WorkerWake) {
		w.traceRaw(trace.WorkerWake, 0, 0, 0, 0)
	}
}

// eventDue reports whether the worker's EVQ holds an event due now.
func (w *worker) eventDue() bool {
	due, ok := w.evq.PeekDue()
	return ok && due <= w.k.clock()
}

func (w *worker) hasWork() bool {
	if w.l.LQ.Len() > 0 || w.k.core.SharedLen() > 0 || (w.nheld > 0 && w.heldReady()) || w.outReady() || w.k.deferred.ready.Load() != 0 ||
		(len(w.holdWait) > 0 && w.k.held.Load() == 0) ||
		(w.det != nil && w.det.detWork()) {
		return true
	}
	for _, s := range *w.subs.Load() {
		if s.Len() == 0 || s.Paused() {
			continue
		}
		outs := w.k.modules[w.k.handlers[s.Handler].mod].outs
		if len(outs) == 0 || w.heldRoom(outs) > 0 {
			return true // drainable; a held-back consumer waits for its wake
		}
	}
	due, ok := w.evq.PeekDue()
	return ok && due <= w.k.clock()
}

// outReady reports whether the outbox holds deliveries its subscription's
// queue has room for now. When it has none the worker registers as a
// waiter on the channel, so the consumer's drain wakes it, and re-checks.
func (w *worker) outReady() bool {
	if w.out.Len() == 0 {
		return false
	}
	s := w.out.Sub()
	if s.Len() < s.Channel().Cap() {
		return true
	}
	s.Channel().AddWaiter(w.id)
	return s.Len() < s.Channel().Cap()
}

// flushEvery is how many busy loop rounds a worker's counters may lag: a
// flush costs one atomic store per counter touched, too much per round when
// batches are small. Going idle (parking, or the yields before it) and
// stopping flush too, so an idle or halted kernel's counters are exact.
const flushEvery = 16

// clockNow returns the kernel clock, read at most once per gather: the
// per-task path reads no clock unless something (EVQ, retries, ticks, traces)
// asks for it.
func (w *worker) clockNow() int64 {
	if !w.nowOK {
		w.now, w.nowOK = w.k.clock(), true
	}
	return w.now
}

// tickNow returns the current logical tick.
func (w *worker) tickNow() uint64 { return uint64(w.clockNow() / int64(w.k.cfg.Tick)) }

func (w *worker) flush() {
	if n := w.l.LQ.Len(); n > w.lqMax {
		w.lqMax = n
		w.lqHigh.Store(int64(n))
	}
	w.flushCounts()
	w.l.Shard.Flush()
	w.em.Shard.Flush()
}

func (w *worker) publishDepths() {
	w.lqDepth.Store(int64(w.l.LQ.Len() + w.nheld + w.out.Len()))
	w.evqDepth.Store(int64(w.evq.Len()))
}

func (w *worker) rand() uint64 { // xorshift64*
	w.rng ^= w.rng >> 12
	w.rng ^= w.rng << 25
	w.rng ^= w.rng >> 27
	return w.rng * 0x2545F4914F6CDD1D
}

// Env implementation for emits made on this worker.

func (w *worker) Wake(home int) {
	if home != w.id {
		w.k.core.Idle.Wake(home)
	}
}

func (w *worker) AddRefs(p uint64, n int) {
	if n > 0 {
		_ = w.k.arena.AddRefs(alloc.Handle(p), n)
	}
}

func (w *worker) Dropped(_ int, d Task, code Status) {
	w.k.droppedCopy(w.l.Shard, &w.em, &d, code)
}

func (k *Kernel) stopping() bool { return k.stopFlag.Load() }
