package link

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/ring"
	"github.com/gmkernel/gmk/kernel/task"
)

// outLane is the producing end of one bridge channel: the relay handler
// takes the channel's deliveries into the outbox, the sender goroutine
// (sender.go) moves them into the ring.
//
// Concurrency. The relay runs on the subscription's home worker (one
// delivery at a time, in channel order); the outbox is an MPSC ring so that
// even a delivery run elsewhere (a retry) stays safe. The sender goroutine
// is the outbox's only consumer and owns the bridge Sender and Batcher.
// Counters are atomics written by one side and read by Stats. Pause
// transitions happen under mu so that ChanPause calls reach the kernel in
// the order they were decided; pflag mirrors paused for the relay's
// lock-free check (stored under mu, loaded anywhere).
type outLane struct {
	e  *Endpoint
	ch Chan
	t  bridge.Transport
	b  *bridge.Batcher // sender goroutine only
	tx bridge.Sender   // sender goroutine only (Wait); Stats from anyone
	// probe is the transport's unused incoming direction when no pump of
	// this endpoint receives on it: the idle sender peeks it to notice a
	// disconnect without a task to send (sender goroutine only; nil when a
	// pump watches the transport).
	probe bridge.Receiver

	// Written by resolve (the relay's Init), read-only afterwards.
	k  *kernel.Kernel
	id kernel.ChanID

	box     *ring.MPSC[kernel.Task] // relay → sender; payload references retained
	bytes   atomic.Int64            // payload bytes in box: added by the relay, taken off by the sender
	pauseAt int
	pauseB  int64
	wake    chan struct{} // the relay's kick of a sleeping sender (capacity 1)

	sleeping atomic.Bool  // the sender is about to sleep or asleep: written by the sender, read by the relay (Dekker pair with box)
	down     atomic.Bool  // the bridge disconnected: set once by bridgeDown, read by relay and sender
	staged   atomic.Int64 // tasks the sender took from box and has not published: written by the sender, read by Stats

	mu     sync.Mutex
	paused bool // the subscription is paused; guarded by mu
	sub    int  // its subscriber index, learned from a delivery; guarded by mu
	pflag  atomic.Bool

	// Counters for Stats: taken by the relay; dropped by relay and sender
	// (and Stop's sweep); abandoned by the sweeps; pauses under mu.
	taken, dropped, abandoned, pauses atomic.Uint64
}

func newOutLane(e *Endpoint, w Wire) (*outLane, error) {
	b, err := bridge.NewBatcher(w.T, e.cfg.Batch)
	if err != nil {
		return nil, err
	}
	// The outbox holds what the relay takes after it paused: at most the
	// home worker's local queue (what it drained before the pause) plus a
	// batch. 4 × PauseAt (at least 8192) covers the kernel's default local
	// queue of 1024; the relay's slow path waits should it ever fill.
	return &outLane{e: e, ch: w.Chan, t: w.T, b: b, tx: w.T.Sender(),
		box: ring.NewMPSC[kernel.Task](max(4*e.cfg.PauseAt, 8192)), pauseAt: e.cfg.PauseAt, pauseB: int64(e.cfg.PauseBytes),
		wake: make(chan struct{}, 1)}, nil
}

func (l *outLane) resolve(k *kernel.Kernel) (err error) {
	l.k = k
	if l.id, err = k.Chan(l.ch.Spec.Name); err != nil {
		return fmt.Errorf("link: %s: %w", l.ch, err)
	}
	return nil
}

// relay is the relay module's catch-all handler: it takes one delivery of a
// bridge channel this kernel produces. It never blocks on the peer, never
// yields and never retries: the delivery's payload reference is retained
// for the sender (which releases it once the bytes are in the ring, [B3]),
// the task goes to the outbox, and a full enough outbox pauses the
// subscription (backpressure, [B4]).
func (e *Endpoint) relay(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	var l *outLane
	if id := t.ChannelID(); int(id) < len(e.table) {
		l = e.table[id]
	}
	if l == nil {
		return kernel.FailCode(int32(task.ChanUnknown)) // subscribed to a channel it does not bridge
	}
	if e.cfg.MaxPayload > 0 && int(t.PayloadLen) > e.cfg.MaxPayload {
		return kernel.FailCode(int32(task.AllocFail)) // never fits the staging: sys.error ([B4])
	}
	x := *t
	x.Payload = 0
	if x.PayloadLen > 0 {
		h, err := c.PayloadRetain()
		if err != nil {
			return kernel.FailCode(int32(task.StalePayload))
		}
		x.Payload = h
		l.bytes.Add(int64(x.PayloadLen))
	}
	l.taken.Add(1)
	if l.down.Load() || e.stopping.Load() {
		l.bytes.Add(-int64(x.PayloadLen))
		l.dropped.Add(1)
		c.Drop(x, task.ChanClosed) // the bridge is gone: nothing is lost silently
		return kernel.OK
	}
	if !l.box.Push(&x) {
		l.pushSlow(c, &x)
	}
	if (l.box.Len() >= l.pauseAt || l.bytes.Load() >= l.pauseB) && !l.pflag.Load() {
		l.pause(t.Subscriber())
	}
	if l.sleeping.Load() {
		l.kick()
	}
	return kernel.OK
}

// pushSlow waits for room in a full outbox. The pause bounds the outbox
// (newOutLane), so this runs only if that bound is broken; it waits for the
// sender rather than lose a task of a lossless channel, and gives up to
// sys.dropped when the bridge goes down or the endpoint stops.
func (l *outLane) pushSlow(c *kernel.Ctx, x *kernel.Task) {
	for !l.box.Push(x) {
		if l.down.Load() || l.e.stopping.Load() {
			l.bytes.Add(-int64(x.PayloadLen))
			l.dropped.Add(1)
			c.Drop(*x, task.ChanClosed)
			return
		}
		l.kick()
		runtime.Gosched()
	}
}

// kick wakes the sender if it sleeps (never blocks).
func (l *outLane) kick() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// pause pauses the channel subscription sub (the relay, on a full outbox).
func (l *outLane) pause(sub int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.paused || l.down.Load() || l.e.stopping.Load() {
		return
	}
	l.paused, l.sub = true, sub
	l.pflag.Store(true)
	l.pauses.Add(1)
	_ = l.k.ChanPause(l.id, sub, true)
}

// resume resumes a paused subscription (the sender, once the outbox drained
// to half the pause mark; bridgeDown and Stop, so queued deliveries drain).
func (l *outLane) resume() {
	if !l.pflag.Load() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.paused {
		l.paused = false
		l.pflag.Store(false)
		_ = l.k.ChanPause(l.id, l.sub, false)
	}
}

// sweep empties the outbox after the sender stopped: each task goes to
// sys.dropped while the kernel runs, else (halted, or final) its payload
// reference is released and it is counted abandoned.
func (l *outLane) sweep(final bool) {
	var buf [64]kernel.Task
	for {
		n := l.box.PopBatch(buf[:])
		if n == 0 {
			return
		}
		for i := range buf[:n] {
			l.strand(&buf[i], final)
		}
	}
}

// strand accounts for a task the bridge cannot carry.
func (l *outLane) strand(x *kernel.Task, final bool) {
	l.bytes.Add(-int64(x.PayloadLen))
	if !final && l.k.Drop(*x, task.ChanClosed) == nil {
		l.dropped.Add(1)
		return
	}
	if x.Payload != 0 {
		_ = l.k.Release(x.Payload)
	}
	l.abandoned.Add(1)
}

func (l *outLane) stats() Stats {
	s := Stats{Chan: l.ch.Spec.Name, Dir: Out, Kernel: l.ch.From, Peer: l.ch.To, Transport: l.t.Kind(),
		Down: l.down.Load(), Taken: l.taken.Load(), Dropped: l.dropped.Load(), Abandoned: l.abandoned.Load(),
		Queued: uint64(l.box.Len()) + uint64(l.staged.Load()), Pauses: l.pauses.Load()}
	tx := l.tx.Stats()
	s.Sent, s.Transfers = tx.Tasks, tx.Transfers
	return s
}
