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
// is the outbox's only consumer and owns the connection's Batcher and
// Sender, and the window (window.go). The connection is replaced only by
// the sender goroutine (adopt, on Reconnect) and published through conn for
// Stats and bridgeDown. Counters are atomics written by one side and read
// by Stats. Pause transitions happen under mu so that ChanPause calls reach
// the kernel in the order they were decided; pflag mirrors paused for the
// relay's lock-free check (stored under mu, loaded anywhere).
type outLane struct {
	e  *Endpoint
	ch Chan

	conn atomic.Pointer[outConn] // the current connection: stored by New and adopt, loaded anywhere
	c    *outConn                // the sender goroutine's copy of conn

	// win keeps what was published until the consumer acknowledges it
	// (a wire with an Ack cell); nil otherwise. Sender goroutine only; the
	// w* atomics mirror it for Stats.
	win *window

	req    chan laneReq // Detach, Reconnect → sender: park, or adopt a connection (capacity 1)
	parked bool         // sender goroutine: the lane is parked (Detach) until it adopts a connection
	parkTx bridge.Stats // sender goroutine: the old connection's counts when it parked

	// Written by resolve (the relay's Init), read-only afterwards.
	k  *kernel.Kernel
	id kernel.ChanID

	box     *ring.MPSC[kernel.Task] // relay → sender; payload references retained
	bytes   atomic.Int64            // payload bytes held (outbox, and window until acknowledged): added by the relay, taken off by the sender
	pauseAt int
	pauseB  int64
	wake    chan struct{} // the relay's kick of a sleeping sender (capacity 1)

	sleeping atomic.Bool  // the sender is about to sleep or asleep: written by the sender, read by the relay (Dekker pair with box)
	down     atomic.Bool  // the bridge disconnected: set by bridgeDown, cleared by adopt; read by relay and sender
	staged   atomic.Int64 // tasks the sender took from box and has not published (no window): written by the sender, read by Stats
	batched  atomic.Int64 // of those, the ones staged in the open batch (set once a sendAll is done): Stats' Staged

	mu     sync.Mutex
	paused bool // the subscription is paused; guarded by mu
	sub    int  // its subscriber index, learned from a delivery; guarded by mu
	pflag  atomic.Bool

	// Counters for Stats: taken by the relay; dropped by relay and sender
	// (and Stop's sweep); abandoned by the sweeps; failed by the kernel's
	// workers (ended); pauses under mu; the rest by the sender.
	taken, dropped, abandoned, failed, pauses atomic.Uint64
	// rsub is the relay's subscriber index on the channel: set by the
	// relay's Init (Endpoint.observe), read-only afterwards.
	rsub int
	// flushReq asks the sender to publish what it staged as soon as the
	// outbox is empty, without waiting out the batch interval: set by a
	// tick fence's mark when the tick's deliveries are all in the outbox.
	flushReq atomic.Bool
	// detBoxed counts the deterministic deliveries the relay put in the
	// outbox: a tick fence's send count (fence.go). Deterministic
	// deliveries run on the lane (worker 0), as does the fence's Mark that
	// reads it, so it is a plain field and plain deliveries do not touch it.
	detBoxed                          uint64
	acked, lapsed, discarded, reconns atomic.Uint64
	wLen, wPopped                     atomic.Uint64 // the window's length and this epoch's acknowledged count
}

// laneReq asks a sender goroutine to park (conn nil: stop touching the
// transport, see Endpoint.Detach) or to adopt conn (Reconnect); it closes
// done when it has.
type laneReq struct {
	conn *outConn
	done chan struct{}
}

// outConn is an out-lane's connection to one epoch of its bridge: the
// transport, what the sender goroutine uses of it, and the totals of the
// epochs before (Stats adds this epoch's own, read from the Sender).
type outConn struct {
	t     bridge.Transport
	b     *bridge.Batcher // sender goroutine only
	tx    bridge.Sender   // sender goroutine only (Wait); Stats from anyone
	ack   *atomic.Uint64  // the consumer's acknowledgements; nil: none
	probe bridge.Receiver // see newConn

	sent, transfers, redelivered uint64 // totals of the earlier epochs
	// writtenOff is how many of the tasks this connection's open batch
	// staged were counted abandoned when the bridge went down
	// (writeOffStaged). Sender goroutine only.
	writtenOff int
	// resend is how many window entries at this epoch's start had been
	// published in an earlier one: they go out first, flagged Redelivered,
	// and the first resend publications of the epoch are re-sends.
	resend uint64
}

func newOutLane(e *Endpoint, w Wire) (*outLane, error) {
	c, err := newOutConn(e, w)
	if err != nil {
		return nil, err
	}
	// The outbox holds what the relay takes after it paused: at most the
	// home worker's local queue (what it drained before the pause) plus a
	// batch. 4 × PauseAt (at least 8192) covers the kernel's default local
	// queue of 1024; the relay's slow path waits should it ever fill.
	l := &outLane{e: e, ch: w.Chan, c: c,
		box: ring.NewMPSC[kernel.Task](max(4*e.cfg.PauseAt, 8192)), pauseAt: e.cfg.PauseAt, pauseB: int64(e.cfg.PauseBytes),
		wake: make(chan struct{}, 1), req: make(chan laneReq, 1)}
	if w.Ack != nil {
		l.win = newWindow()
	}
	l.conn.Store(c)
	return l, nil
}

// newOutConn makes the connection of a wire. Its probe is set by the
// endpoint (New, Reconnect) once it knows whether a pump of its own watches
// the transport.
func newOutConn(e *Endpoint, w Wire) (*outConn, error) {
	b, err := bridge.NewBatcher(w.T, e.cfg.Batch)
	if err != nil {
		return nil, err
	}
	return &outConn{t: w.T, b: b, tx: w.T.Sender(), ack: w.Ack}, nil
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
	if l.down.Load() && l.win == nil || e.stopping.Load() { // a window keeps it for the reconnect
		l.bytes.Add(-int64(x.PayloadLen))
		l.dropped.Add(1)
		c.Drop(x, task.ChanClosed) // the bridge is gone: nothing is lost silently
		return kernel.OK
	}
	if l.box.Push(&x) || l.pushSlow(c, &x) {
		if t.Flags&task.Deterministic != 0 {
			l.detBoxed++
		}
	}
	if (l.box.Len() >= l.pauseAt || l.bytes.Load() >= l.pauseB) && !l.pflag.Load() {
		l.pause(t.Subscriber())
	}
	if l.sleeping.Load() {
		l.kick()
	}
	return kernel.OK
}

// ended is the kernel's report of a delivery of the channel that did not
// complete ([C9]; Endpoint.observe): the relay failed it — a payload over
// MaxPayload (ALLOC_FAIL) or a stale one, to sys.error — or the kernel
// ended it before the relay ran (a poisoned type, the channel closed). The
// relay's are counted (Stats.Failed): never taken, they are done with, and
// a tracker's fence passes them as it passes published ones. Any worker;
// allocation-free.
func (l *outLane) ended(sub int, _ uint32, _ kernel.Status) {
	if sub == l.rsub {
		l.failed.Add(1)
	}
}

// pushSlow waits for room in a full outbox. The pause bounds the outbox
// (newOutLane), so this runs only if that bound is broken; it waits for the
// sender rather than lose a task of a lossless channel, and gives up to
// sys.dropped when the bridge goes down (without a window) or the endpoint
// stops (false).
func (l *outLane) pushSlow(c *kernel.Ctx, x *kernel.Task) bool {
	for !l.box.Push(x) {
		if l.down.Load() && l.win == nil || l.e.stopping.Load() {
			l.bytes.Add(-int64(x.PayloadLen))
			l.dropped.Add(1)
			c.Drop(*x, task.ChanClosed)
			return false
		}
		l.kick()
		runtime.Gosched()
	}
	return true
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
	c := l.conn.Load()
	s := Stats{Chan: l.ch.Spec.Name, Dir: Out, Kernel: l.ch.From, Peer: l.ch.To, Transport: c.t.Kind(),
		Down: l.down.Load(), Taken: l.taken.Load(), Failed: l.failed.Load(), Dropped: l.dropped.Load(), Abandoned: l.abandoned.Load(),
		Queued: uint64(l.box.Len()) + uint64(max(l.staged.Load(), 0)), Staged: uint64(max(l.batched.Load(), 0)), Pauses: l.pauses.Load(),
		Discarded: l.discarded.Load(), Reconnects: l.reconns.Load()}
	tx := c.tx.Stats()
	s.Sent, s.Transfers = c.sent+tx.Tasks, c.transfers+tx.Transfers
	if l.win == nil {
		return s
	}
	// The window: its front entries — max(resend, this epoch's
	// publications) of them, less this epoch's acknowledged ones — were
	// published; the rest never were (Queued). See window.go.
	s.Acks = true
	s.Redelivered = c.redelivered + min(tx.Tasks, c.resend)
	pub := max(c.resend, tx.Tasks) - min(l.wPopped.Load(), max(c.resend, tx.Tasks))
	n := l.wLen.Load()
	pub = min(pub, n)
	s.Unacked, s.Queued = pub, s.Queued+n-pub
	s.Acked, s.Lapsed = l.acked.Load(), l.lapsed.Load()
	return s
}
