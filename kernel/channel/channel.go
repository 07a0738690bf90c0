package channel

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/metrics"
	"github.com/gmkernel/gmk/kernel/ring"
	"github.com/gmkernel/gmk/kernel/sched"
	"github.com/gmkernel/gmk/kernel/task"
)

// Per-channel counters, laid out as id*NumStats+k in the metrics set the kernel
// passes in ([O1]).
const (
	StatEmits     = iota // messages accepted by Emit (one per emit, whatever the fan-out)
	StatFull             // emits refused with CHAN_FULL
	StatDrops            // copies dropped (drop-slow, no subscriber, replay degrade)
	StatReplayOvf        // CHAN_REPLAY_OVERFLOW events
	NumStats
)

// Env is what a channel needs from its kernel on the slow paths. Calls happen on
// the emitting goroutine.
type Env interface {
	// Dropped takes ownership of an undeliverable copy and routes it to
	// sys.dropped with code ([C6], [C9]).
	// The copy is passed by value so that the fast path's copy never escapes.
	Dropped(from int, t task.Task, code task.Status)
	// AddRefs adds n references to a payload shared by fan-out copies ([A4], [C5]).
	AddRefs(payload uint64, n int)
	// Wake wakes worker w if it is parked ([S6]).
	Wake(w int)
}

// Emitter is the per-goroutine emitting context: the worker index (-1 for a
// goroutine that is not a worker) and the metrics shard it owns (nil: use the
// set's shared shard).
type Emitter struct {
	Worker int
	Shard  *metrics.Shard
	Stats  *metrics.Set
	Env    Env
	// Core and Local are the emitting worker's enqueue core and state (nil
	// outside a worker): a P2P delivery to a subscription homed on the
	// emitting worker goes straight to its local queue ([C4] fast path).
	// Concrete types, not Env methods, so the task pointer does not escape.
	Core  *sched.Core
	Local *sched.Local
	// Out, when set, batches lossless P2P deliveries to subscriptions homed
	// on other workers (see Outbox); its owner flushes it. Workers only.
	Out *Outbox
	// Room, when set, is how many deliveries of s its home worker (the
	// emitting one) may take by the fast path now: the bound its drains of
	// s's queue keep to ([C11]: the consumer's lossless outputs' room). The
	// fast path spends it as credit and asks again when it runs out; at zero
	// deliveries queue on s, where the drain meters them.
	Room func(s *Sub) int
}

func (e *Emitter) count(id uint32, k int) { e.countN(id, k, 1) }

func (e *Emitter) countN(id uint32, k, n int) {
	idx := int(id)*NumStats + k
	if e.Shard != nil {
		e.Shard.Add(idx, uint64(n))
		return
	}
	e.Stats.AddShared(idx, uint64(n))
}

// Channel is one named, typed channel ([C1]). Emit may be called from any
// goroutine; Subscribe, SetErrorHandler and Close are control-plane operations
// serialised by an internal mutex.
type Channel struct {
	id      uint32
	spec    Spec
	cap     int // per-subscriber queue capacity (power of two)
	reserve int // queue length at which non-priority-0 emits are refused ([C8])

	closed    atomic.Bool
	suspended atomic.Bool // emits refused with CHAN_CLOSED until Resume (suspend.go)
	// gen is the registry's control generation (Registry.Gen), which Close
	// increments.
	gen *atomic.Uint64

	// subs is copy-on-write and append-only, so a subscriber's index (carried in
	// delivered tasks) stays valid. Written under ctl; read lock-free by Emit and
	// dispatch. The atomic store publishes a fully built slice.
	subs    atomic.Pointer[[]*Sub]
	onError atomic.Pointer[Sub]
	ctl     sync.Mutex

	// The fields above are read on every emit and dispatch and written
	// rarely; those below are written by waiting producers and by emits. A
	// cache line apart, a producer registering as a waiter does not take the
	// line that the consumer's dispatch reads for every delivery.
	_ [cacheLinePad]byte

	// waiters is a bitmask of workers (bit w%64) holding back a consumer
	// because this channel lacked room (kernel flow control). Holders set
	// their bit and re-check the room; the subscriber's home worker takes the
	// mask after every drain and wakes them.
	waiters atomic.Uint64
	// extWait counts goroutines outside the workers waiting for room (bit
	// extWaiter of waiters is set with it); TakeWaiters hands each a token on
	// roomCh. A token left by a waiter that found room without waiting only
	// causes one spurious wake-up, which the waiter's retry loop absorbs.
	extWait atomic.Int32
	roomCh  chan struct{}

	// seq numbers lossy emits (emit side, atomic).
	seq atomic.Uint32

	// locked path (lossless fan-out, or any lossless channel with a replay
	// buffer): emitters hold emitMu, so the channel sequence and the replay
	// buffer are plain fields owned by the holder, and every subscriber sees
	// messages in the same order.
	emitMu spin
	lseq   uint32
	replay *replayBuf

	obs   Observer // new subscriptions' observer (Observe); guarded by ctl
	obsOK bool
}

// ID returns the channel's id (never 0).
func (c *Channel) ID() uint32 { return c.id }

// Spec returns the channel's specification (with defaults applied).
func (c *Channel) Spec() Spec { return c.spec }

// Name returns the channel's name.
func (c *Channel) Name() string { return c.spec.Name }

// Closed reports whether Close was called.
func (c *Channel) Closed() bool { return c.closed.Load() }

// Close makes further emits fail with CHAN_CLOSED; tasks still queued are
// routed to sys.dropped by the kernel when drained ([C9]).
func (c *Channel) Close() {
	c.closed.Store(true)
	c.gen.Add(1) // after the store: see Registry.Gen
	c.signalRoom()
}

// Subs returns the current subscribers (do not modify the slice).
func (c *Channel) Subs() []*Sub {
	if p := c.subs.Load(); p != nil {
		return *p
	}
	return nil
}

// Sub returns subscriber i, the error handler for ErrorSub, or nil.
func (c *Channel) Sub(i int) *Sub {
	if i == ErrorSub {
		return c.onError.Load()
	}
	if s := c.Subs(); i < len(s) {
		return s[i]
	}
	return nil
}

// Depth returns the number of tasks queued for subscribers.
func (c *Channel) Depth() int {
	n := 0
	for _, s := range c.Subs() {
		n += s.q.Len()
	}
	return n
}

// Room returns how many more tasks of any priority every non-degraded
// subscriber can take (its queue up to the priority reserve). Kernels use it
// to hold back consumers whose declared lossless outputs are congested.
func (c *Channel) Room() int {
	subs := c.Subs()
	if len(subs) == 0 && c.spec.Guarantee == Lossless {
		return 0 // a lossless channel without subscribers refuses with CHAN_FULL
	}
	room := c.reserve
	for _, s := range subs {
		if s.degraded.Load() {
			continue
		}
		if r := c.reserve - s.q.Len(); r < room {
			room = r
		}
	}
	return room
}

// extWaiter is the waiters bit of goroutines that are not workers.
const extWaiter = 63

// AddWaiter records that worker w waits for room on c. Workers share bits
// modulo 63; a spurious wake is harmless.
func (c *Channel) AddWaiter(w int) {
	bit := uint64(1) << (uint(w) % extWaiter)
	if c.waiters.Load()&bit == 0 {
		c.waiters.Or(bit)
	}
}

// RoomSignal registers the caller (not a worker) as waiting for room and
// returns the channel on which it gets a token when a subscriber of c next
// drains with room to spare (or c closes). The caller must re-check for room
// after RoomSignal and before waiting: that order makes a lost wake-up
// impossible. No allocation.
func (c *Channel) RoomSignal() <-chan struct{} {
	c.extWait.Add(1)
	c.waiters.Or(1 << extWaiter)
	return c.roomCh
}

// TakeWaiters returns and clears the waiting workers' mask, and hands a token
// to every waiting goroutine that is not a worker.
func (c *Channel) TakeWaiters() uint64 {
	if c.waiters.Load() == 0 {
		return 0
	}
	m := c.waiters.Swap(0)
	if m&(1<<extWaiter) != 0 {
		c.signalRoom()
	}
	return m &^ (1 << extWaiter)
}

func (c *Channel) signalRoom() {
	for n := c.extWait.Swap(0); n > 0; n-- {
		select {
		case c.roomCh <- struct{}{}:
		default:
			return // the buffer holds tokens enough for everyone still waiting
		}
	}
}

// WakeRoom is the room at which a subscriber's drain wakes waiting producers:
// a quarter of the queue, so that each wake-up lets a producer emit a good
// batch instead of one task (hysteresis).
func (c *Channel) WakeRoom() int { return c.cap / 4 }

// Cap returns the per-subscriber queue capacity.
func (c *Channel) Cap() int { return c.cap }

func (c *Channel) lockedPath() bool {
	return c.spec.Guarantee == Lossless && (c.spec.Mode == FanOut || c.replay != nil)
}

// Emit offers t to the channel ([C3]–[C8]). It returns OK (delivered, or for a
// lossy channel accepted with counted drops), CHAN_FULL (lossless only; nothing
// was delivered and the caller keeps the payload reference), CHAN_CLOSED or
// CHAN_TYPE_MISMATCH. delivered is the number of copies placed on subscriber
// queues; copies routed to sys.dropped are handed to Env.Dropped.
//
// On OK the payload reference the caller held moves to the copies.
func (c *Channel) Emit(e *Emitter, t *task.Task) (st task.Status, delivered int) {
	if c.refusing() {
		return task.ChanClosed, 0
	}
	if c.spec.Type != AnyType && t.Type != c.spec.Type {
		return task.ChanTypeMismatch, 0
	}
	p := c.subs.Load()
	if p == nil || len(*p) == 0 {
		return c.emitNoSub(e, t)
	}
	subs := *p
	if c.lockedPath() {
		return c.emitLocked(e, t, subs)
	}
	if len(subs) == 1 {
		return c.emitOne(e, t, subs[0])
	}
	return c.emitLossyFan(e, t, subs)
}

// EmitBatch emits a prefix of ts and returns its status and length n, with
// Emit's results: on a P2P channel without a replay buffer, when every task
// has priority 0, the batch goes to the subscriber's queue with one ring
// publication; otherwise task by task. The runtime-owned header fields of ts
// are overwritten. A fan-out emit delivers copies; n counts tasks, not copies.
func (c *Channel) EmitBatch(e *Emitter, ts []task.Task) (st task.Status, n, delivered int) {
	p := c.subs.Load()
	if c.refusing() || p == nil || e.Worker >= 0 || !c.batchable(ts) {
		return c.emitEach(e, ts)
	}
	if c.lockedPath() {
		if c.replay != nil {
			return c.emitEach(e, ts)
		}
		return c.emitLockedBatch(e, ts, *p)
	}
	if len(*p) != 1 {
		return c.emitEach(e, ts)
	}
	for i := range ts {
		c.stamp(&ts[i], 0)
	}
	s := (*p)[0]
	if c.spec.Guarantee == Lossy {
		base := c.seq.Add(uint32(len(ts))) - uint32(len(ts))
		for i := range ts {
			ts[i].Seq = base + uint32(i) + 1
		}
	}
	n = s.q.PushBatch(ts)
	if n > 0 {
		e.countN(c.id, StatEmits, n)
		e.Env.Wake(s.Home)
	}
	if n == len(ts) {
		return task.OK, n, n
	}
	if c.spec.Guarantee == Lossless {
		e.count(c.id, StatFull)
		return task.ChanFull, n, n
	}
	st, m, d := c.emitEach(e, ts[n:]) // lossy: the rest drops one by one
	return st, n + m, n + d
}

// batchable reports whether every task of ts has priority 0 and the
// channel's type (the batch paths skip the per-task reserve and type checks).
func (c *Channel) batchable(ts []task.Task) bool {
	for i := range ts {
		if ts[i].Priority() != 0 || (c.spec.Type != AnyType && ts[i].Type != c.spec.Type) {
			return false
		}
	}
	return true
}

// emitLockedBatch is the lossless fan-out path for a batch from outside the
// workers: under emitMu it takes as many messages as every subscriber has
// room for, numbers them, and pushes them to each subscriber with one ring
// publication per subscriber (the channel field names the subscriber, so ts
// is re-stamped per subscriber). All-or-nothing holds per message.
func (c *Channel) emitLockedBatch(e *Emitter, ts []task.Task, subs []*Sub) (task.Status, int, int) {
	c.emitMu.lock()
	n := len(ts)
	for _, s := range subs {
		if !s.degraded.Load() {
			n = min(n, c.cap-s.q.Len())
		}
	}
	if n <= 0 {
		c.emitMu.unlock()
		e.count(c.id, StatFull)
		return task.ChanFull, 0, 0
	}
	batch := ts[:n]
	for i := range batch {
		c.lseq++
		batch[i].Seq = c.lseq
		if batch[i].Payload != 0 {
			e.Env.AddRefs(batch[i].Payload, len(subs)-1)
		}
	}
	for j, s := range subs {
		for i := range batch {
			c.stamp(&batch[i], j)
		}
		for rest := batch; len(rest) > 0; {
			rest = rest[s.q.PushBatch(rest):] // room was checked; see pushLocked
			if len(rest) > 0 {
				runtime.Gosched()
			}
		}
	}
	c.emitMu.unlock()
	for _, s := range subs {
		e.Env.Wake(s.Home)
	}
	e.countN(c.id, StatEmits, n)
	st := task.OK
	if n < len(ts) {
		e.count(c.id, StatFull)
		st = task.ChanFull
	}
	return st, n, n * len(subs)
}

func (c *Channel) emitEach(e *Emitter, ts []task.Task) (task.Status, int, int) {
	delivered := 0
	for i := range ts {
		st, d := c.Emit(e, &ts[i])
		if st != task.OK {
			return st, i, delivered
		}
		delivered += d
	}
	return task.OK, len(ts), delivered
}

// emitOne is the P2P path ([C4]): one subscriber, no lock, one ring push —
// or, when the emitter is the subscriber's home worker and nothing is queued
// in the ring, straight into that worker's local queue (FIFO holds: every
// earlier delivery is already there or done); or, for a lossless delivery
// from another worker, into that worker's outbox (see Outbox).
func (c *Channel) emitOne(e *Emitter, t *task.Task, s *Sub) (task.Status, int) {
	lossless := c.spec.Guarantee == Lossless
	if e.Worker == s.Home && e.Local != nil && s.q.Len() == 0 && !s.Paused() && e.Local.LQ.Room() > 0 {
		if c.deliverLocal(e, t, s, lossless) {
			e.count(c.id, StatEmits)
			return task.OK, 1
		}
	}
	if lossless && e.Out != nil && e.Worker != s.Home {
		if st, n, ok := c.emitOut(e, t, s); ok {
			return st, n
		}
	}
	d := c.header(t, 0)
	if !lossless {
		d.Seq = c.seq.Add(1)
	}
	if (d.Priority() == 0 || s.q.Len() < c.reserve) && s.q.Push(&d) {
		e.count(c.id, StatEmits)
		e.Env.Wake(s.Home)
		return task.OK, 1
	}
	if lossless {
		e.count(c.id, StatFull)
		return task.ChanFull, 0
	}
	e.count(c.id, StatEmits)
	e.count(c.id, StatDrops)
	e.Env.Dropped(e.Worker, d, task.ChanFull)
	return task.OK, 0
}

// deliverLocal is the home-worker fast path of emitOne: the delivery is
// stamped in place (t is the emitter's own copy) and pushed to the worker's
// LQ, which the caller saw with room, through the enqueue core. The home
// worker owns s.next (see Drain).
//
// When every earlier delivery of s has begun (s.begun == s.next) and the
// worker is dispatching, the delivery goes to the handoff slot instead and
// runs right after the emitting handler (sched.Core.Handoff): nothing of s
// waits ahead of it, so FIFO holds.
func (c *Channel) deliverLocal(e *Emitter, t *task.Task, s *Sub, lossless bool) bool {
	if s.credit <= 0 && !s.refill(e) {
		return false
	}
	if lossless && s.numbered && s.begun == s.next && c.handoff(e, t, s) {
		return true
	}
	c.stamp(t, 0)
	if lossless {
		t.Seq = s.next + 1
	} else {
		t.Seq = c.seq.Add(1)
	}
	if !e.Core.DeliverLocal(e.Local, t) {
		return false
	}
	if lossless {
		s.next++
	}
	s.credit--
	return true
}

// emitLossyFan copies the header to every subscriber; a full one loses its copy
// to sys.dropped while the others still receive it ([C5], [C6]).
func (c *Channel) emitLossyFan(e *Emitter, t *task.Task, subs []*Sub) (task.Status, int) {
	if t.Payload != 0 {
		e.Env.AddRefs(t.Payload, len(subs)-1) // one reference per copy, delivered or dropped
	}
	seq := c.seq.Add(1)
	n := 0
	for i, s := range subs {
		d := c.header(t, i)
		d.Seq = seq
		if (d.Priority() == 0 || s.q.Len() < c.reserve) && s.q.Push(&d) {
			n++
			e.Env.Wake(s.Home)
			continue
		}
		e.count(c.id, StatDrops)
		e.Env.Dropped(e.Worker, d, task.ChanFull)
	}
	e.count(c.id, StatEmits)
	return task.OK, n
}

// emitNoSub handles a channel nobody consumes yet: lossless applies
// backpressure, lossy drops (counted, to sys.dropped).
func (c *Channel) emitNoSub(e *Emitter, t *task.Task) (task.Status, int) {
	if c.spec.Guarantee == Lossless {
		e.count(c.id, StatFull)
		return task.ChanFull, 0
	}
	d := c.header(t, 0)
	e.count(c.id, StatEmits)
	e.count(c.id, StatDrops)
	e.Env.Dropped(e.Worker, d, task.ChanClosed)
	return task.OK, 0
}

// header builds the delivered copy for subscriber i: runtime-owned fields reset
// (except on untyped system channels, whose reports keep them),
// CHANNEL_MSG set, channel and subscriber recorded.
func (c *Channel) header(t *task.Task, i int) task.Task {
	d := *t
	c.stamp(&d, i)
	return d
}

// stamp sets the runtime-owned fields of a delivery in place.
func (c *Channel) stamp(d *task.Task, i int) {
	d.Flags |= task.ChannelMsg
	d.SetChannel(c.id, i)
	if c.spec.Type != AnyType {
		// System channels keep the report's status code and yield count.
		d.YieldCount, d.Aux = 0, 0
	}
}

// room reports whether s can take one more task of priority p.
func (c *Channel) room(s *Sub, p int) bool {
	if p == 0 {
		return s.q.Len() < c.cap
	}
	return s.q.Len() < c.reserve
}

// emitLocked is the lossless fan-out path ([C7]): under emitMu it checks that
// every (non-degraded) subscriber has room, numbers the message, records it in
// the replay buffer and pushes a copy to each. Consumers only ever make room,
// so the check stays true until the pushes.
func (c *Channel) emitLocked(e *Emitter, t *task.Task, subs []*Sub) (task.Status, int) {
	c.emitMu.lock()
	p := t.Priority()
	for _, s := range subs {
		if !s.degraded.Load() && !c.room(s, p) {
			c.emitMu.unlock()
			e.count(c.id, StatFull)
			return task.ChanFull, 0
		}
	}
	c.lseq++
	seq := c.lseq
	if c.replay != nil {
		c.recordReplay(e, t, seq, subs)
	}
	if t.Payload != 0 {
		e.Env.AddRefs(t.Payload, len(subs)-1)
	}
	n := 0
	for i, s := range subs {
		d := c.header(t, i)
		d.Seq = seq
		if c.pushLocked(s, &d, p) {
			n++
			e.Env.Wake(s.Home)
			continue
		}
		e.count(c.id, StatDrops) // only a degraded subscriber gets here
		e.Env.Dropped(e.Worker, d, task.ChanReplayOvf)
	}
	c.emitMu.unlock()
	e.count(c.id, StatEmits)
	return task.OK, n
}

// pushLocked pushes to a subscriber checked by room. The holder of emitMu is
// the only producer of the channel's subscriber queues and the consumer only
// makes room, so the push succeeds; the loop is a guard, not a wait. A
// degraded subscriber without room is not pushed to.
func (c *Channel) pushLocked(s *Sub, d *task.Task, p int) bool {
	if s.degraded.Load() && !c.room(s, p) {
		return false
	}
	for spins := 0; !s.q.Push(d); spins++ {
		if spins > 64 {
			runtime.Gosched()
		}
	}
	return true
}

// String describes the channel for logs and errors.
func (c *Channel) String() string {
	return fmt.Sprintf("%s(#%d %s %s type=%d slots=%d)", c.spec.Name, c.id, c.spec.Mode, c.spec.Guarantee, c.spec.Type, c.cap)
}

// spin is a tiny test-and-test-and-set lock for the short lossless fan-out
// critical section (a few ring pushes). Holders never block inside.
type spin struct{ v atomic.Uint32 }

func (l *spin) lock() {
	for i := 0; ; i++ {
		if l.v.Load() == 0 && l.v.CompareAndSwap(0, 1) {
			return // the CAS acquires: everything the previous holder wrote is visible
		}
		if i > 32 {
			runtime.Gosched()
		}
	}
}

func (l *spin) unlock() { l.v.Store(0) } // releases: publishes the holder's writes

// newRing is the subscriber queue constructor: many emitters, one consumer
// (the home worker), so an MPSC ring whose consumer publishes once per batch.
var newRing = ring.NewMPSC[task.Task]
