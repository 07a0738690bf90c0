package link

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// inLane is the consuming end of one bridge channel: a pump goroutine takes
// batches out of the ring and emits them into this kernel's channel.
//
// Concurrency: the pump goroutine owns the connection's Receiver and the
// Batcher's Poll, pend and the tracker's fifo; the counters are atomics it
// writes and Stats reads. A Reconnect replaces the connection (conn) only
// after the pump has ended (exited), and starts a new one.
type inLane struct {
	e  *Endpoint
	ch Chan

	conn   atomic.Pointer[inConn] // stored by New and Reconnect (pump not running), loaded anywhere
	exited chan struct{}          // closed when the current pump goroutine ends
	track  *tracker               // acknowledgements (a wire with an Ack cell); nil: none
	parked bool                   // Detach counted the old ring (the owner's, while no pump runs)
	parkT  uint64                 // the old connection's transfers when it parked

	// Written by resolve (the relay's Init), read-only afterwards.
	k  *kernel.Kernel
	id kernel.ChanID

	pend []kernel.Task // received, payloads in this kernel's arena, not yet emitted
	off  int           // pend[off:] is not emitted yet

	fault atomic.Pointer[error] // a gap or corrupt slot: why the pump stopped

	received, delivered, dropped, abandoned, discarded, reconns atomic.Uint64
	pending                                                     atomic.Int64
}

// inConn is an in-lane's connection to one epoch of its bridge.
type inConn struct {
	t         bridge.Transport
	b         *bridge.Batcher // Poll only
	rx        bridge.Receiver
	ack       *atomic.Uint64 // the wire's Ack cell (Reconnect hands it to the tracker)
	transfers uint64         // releases of the earlier epochs
}

func newInLane(e *Endpoint, w Wire) (*inLane, error) {
	c, err := newInConn(e, w)
	if err != nil {
		return nil, err
	}
	l := &inLane{e: e, ch: w.Chan, pend: make([]kernel.Task, 0, e.cfg.Batch.Size)}
	if w.Ack != nil {
		l.track = newTracker(w.Chan.Spec, w.Ack, e)
	}
	l.conn.Store(c)
	return l, nil
}

func newInConn(e *Endpoint, w Wire) (*inConn, error) {
	b, err := bridge.NewBatcher(w.T, e.cfg.Batch)
	if err != nil {
		return nil, err
	}
	return &inConn{t: w.T, b: b, rx: w.T.Receiver()}, nil
}

func (l *inLane) resolve(k *kernel.Kernel) (err error) {
	l.k = k
	if l.id, err = k.Chan(l.ch.Spec.Name); err != nil {
		return fmt.Errorf("link: %s: %w", l.ch, err)
	}
	return nil
}

// run is the pump: Poll a batch (payloads copied into this kernel's arena,
// references rewritten, [B3]), emit it into the channel, waiting for room
// while a lossless channel is full — the ring then fills and the sender
// waits: backpressure crosses the bridge ([B4]). A lossy channel drops to
// this kernel's sys.dropped instead, counted by the kernel ([C6]). In order:
// one goroutine, a FIFO ring with sequence numbers checked on every slot.
//
// A closed bridge is drained first — what was published before the close is
// delivered — then the channel is suspended (CHAN_CLOSED on this side).
func (l *inLane) run() {
	defer l.e.wg.Done()
	defer close(l.exited)
	c := l.conn.Load()
	for !l.e.stopping.Load() {
		if l.off == len(l.pend) {
			l.pend, l.off = l.pend[:0], 0
			if l.track != nil {
				l.track.scan()
				if l.track.room() < l.e.cfg.Batch.Size { // the handler is far behind: wait for it
					time.Sleep(10 * time.Microsecond)
					continue
				}
			}
			n, err := c.b.Poll(l.take)
			if err != nil {
				if !errors.Is(err, bridge.ErrClosed) {
					l.fault.Store(&err) // a *GapError or ErrCorrupt: a broken peer; stop rather than skip
				}
				l.e.bridgeDown(c.t)
				_ = l.k.ChanSuspend(l.id)
				break
			}
			if n == 0 {
				c.rx.Wait(l.e.cfg.Park)
				continue
			}
		}
		if !l.emit() {
			break
		}
	}
	l.finish()
	if l.track != nil {
		l.track.scan()
	}
}

// done is the kernel's report that it is done with delivery seq of the
// channel, however it ended (Endpoint.observe): the tracker marks it. Any
// worker; allocation-free.
func (l *inLane) done(_ int, seq uint32, _ kernel.Status) { l.track.done(seq) }

// take copies one polled batch out of the ring: runtime header fields are
// cleared (the channel stamps its own), payloads move into this kernel's
// arena ([B3]). An arena momentarily full makes it wait — the ring keeps the
// rest, which is backpressure too; a tenant this kernel lacks drops the task.
func (l *inLane) take(ms []bridge.Msg) {
	l.received.Add(uint64(len(ms)))
	for i := range ms {
		m := &ms[i]
		x := m.Task
		x.Flags &^= task.ChannelMsg
		x.Channel, x.Seq, x.YieldCount, x.Aux, x.Payload = 0, 0, 0, 0, 0
		if len(m.Payload) > 0 {
			h, ok := l.alloc(&x, m.Payload)
			if !ok {
				continue
			}
			x.Payload = h
		}
		if l.track != nil {
			l.track.took(false)
		}
		l.pend = append(l.pend, x)
	}
	l.pending.Store(int64(len(l.pend)))
}

// alloc copies a payload into the arena, waiting while it is full.
func (l *inLane) alloc(x *kernel.Task, p []byte) (uint64, bool) {
	for spins := 0; ; spins++ {
		h, b, err := l.k.Alloc(int(x.Tenant), len(p))
		if err == nil {
			copy(b, p)
			return h, true
		}
		if !errors.Is(err, kernel.ErrAllocFail) || l.e.stopping.Load() {
			x.PayloadLen = 0 // the payload cannot be placed: report the task without it
			l.drop(*x, task.AllocFail)
			if l.track != nil {
				l.track.took(!l.e.stopping.Load()) // never placeable: its end; a stop's is not (it comes again)
			}
			return 0, false
		}
		if spins < 64 {
			runtime.Gosched()
		} else {
			time.Sleep(10 * time.Microsecond) // consumers free blocks as they finish
		}
	}
}

// emit emits pend[off:] in order; false when the pump must stop (channel
// closed or suspended, kernel halting, Stop).
func (l *inLane) emit() bool {
	for l.off < len(l.pend) {
		n, err := l.k.ChanEmitBatch(l.id, l.pend[l.off:])
		l.advance(n)
		if err == nil {
			continue
		}
		if errors.Is(err, kernel.ErrChanFull) { // lossless and full: wait for room for the next one
			if err = l.k.ChanEmitWait(l.e.ctx, l.id, l.pend[l.off]); err == nil {
				l.advance(1)
				continue
			}
		}
		if errors.Is(err, kernel.ErrChanClosed) {
			if l.track != nil {
				l.track.refused(len(l.pend) - l.off) // done with: no later acknowledgement waits for them
			}
			l.finish() // closed (or suspended) here: in-flight tasks go to sys.dropped ([C9])
			return true
		}
		return false // the kernel halts, or Stop
	}
	return true
}

func (l *inLane) advance(n int) {
	if l.track != nil {
		l.track.emitted(n)
	}
	l.off += n
	l.delivered.Add(uint64(n))
	l.pending.Add(-int64(n))
}

// finish accounts for what the pump holds when it stops: to sys.dropped
// while the kernel runs, else released and counted abandoned.
func (l *inLane) finish() {
	for ; l.off < len(l.pend); l.off++ {
		l.drop(l.pend[l.off], task.ChanClosed)
		l.pending.Add(-1)
	}
}

// drainAbandoned takes what is left in the ring after the pump stopped and
// counts it received and abandoned (Close).
func (l *inLane) drainAbandoned() {
	c := l.conn.Load()
	for {
		n, _ := c.b.Poll(func(ms []bridge.Msg) {
			l.received.Add(uint64(len(ms)))
			l.abandoned.Add(uint64(len(ms)))
		})
		if n == 0 {
			return
		}
	}
}

func (l *inLane) drop(x kernel.Task, code task.Status) {
	if l.k.Drop(x, code) == nil {
		l.dropped.Add(1)
		return
	}
	if x.Payload != 0 {
		_ = l.k.Release(x.Payload)
	}
	l.abandoned.Add(1)
}

func (l *inLane) stats() Stats {
	c := l.conn.Load()
	s := Stats{Chan: l.ch.Spec.Name, Dir: In, Kernel: l.ch.To, Peer: l.ch.From, Transport: c.t.Kind(),
		Down: l.k != nil && l.k.ChanSuspended(l.id), Received: l.received.Load(), Delivered: l.delivered.Load(),
		Dropped: l.dropped.Load(), Abandoned: l.abandoned.Load(), Pending: uint64(max(l.pending.Load(), 0)),
		Transfers: c.transfers + c.rx.Stats().Transfers, Discarded: l.discarded.Load(), Reconnects: l.reconns.Load()}
	if l.track != nil {
		s.Acks, s.Acked = true, l.track.acked.Load()
	}
	if f := l.fault.Load(); f != nil {
		s.Fault = (*f).Error()
	}
	return s
}
