package link

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/kernel"
)

// Chan is one bridge channel ([B1]): a channel declared identically on two
// kernels, produced on From and consumed on To.
type Chan struct {
	Spec     kernel.ChanSpec // as both kernels open it
	From, To string          // kernel identities ([K3]): producing and consuming kernel
}

func (c Chan) String() string {
	return fmt.Sprintf("%s %s→%s %s/%s", c.Spec.Name, c.From, c.To, c.Spec.Mode, c.Spec.Guarantee)
}

// Wire attaches a bridge channel to one kernel's end of a transport: the
// producing kernel sends on T.Sender(), the consuming kernel receives on
// T.Receiver(). A transport carries at most one channel per direction, so
// one transport serves a channel each way (host.rx and host.tx share one).
type Wire struct {
	Chan Chan
	T    bridge.Transport
	// Ack, when not nil, carries the consumer's acknowledgements back to
	// the producer ([B4], [F5]; see the package doc, Redelivery): the
	// consuming end stores how many of the tasks it took out of T, counted
	// in ring order from the first, were handled; the producing end keeps
	// each task it published until it is acknowledged, and publishes the
	// others again after a Reconnect. Both ends of a channel get the same
	// cell (in shared memory when they are in two processes); it starts at
	// 0, and a Reconnect brings a fresh one (or the same, reset to 0 while
	// neither end runs).
	Ack *atomic.Uint64
}

// Endpoint is one kernel's end of its bridge channels: a relay module whose
// catch-all handler takes the deliveries of the channels this kernel
// produces (Module, included at Boot), a sender goroutine per such channel,
// and a pump goroutine per channel this kernel consumes (Start).
type Endpoint struct {
	id   string
	cfg  Config
	outs []*outLane
	ins  []*inLane

	// Written by the relay's Init, before the kernel's workers start (so
	// before any relay call) and before Start (its caller's order).
	k     *kernel.Kernel
	table []*outLane // indexed by channel id: the relay's lookup

	started  atomic.Bool
	stopping atomic.Bool // Stop began: relays drop, loops leave
	stop     chan struct{}
	ctx      context.Context // cancelled by Stop: ends a pump's wait for room
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	once     sync.Once
	downMu   sync.Mutex              // serialises bridge-down transitions (bridgeDown)
	final    atomic.Pointer[[]Stats] // set by Close
	// reset: Disconnect was called (a peer reset) and no Reconnect since:
	// what the incoming rings still hold is the reconnect's to count
	// (Discarded), not Close's.
	reset atomic.Bool
}

// New returns the endpoint of kernel id (its [K3] identity) for wires; each
// wire's channel must have id as its From or its To.
func New(id string, wires []Wire, cfg Config) (*Endpoint, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Endpoint{id: id, cfg: cfg, stop: make(chan struct{})}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	seen := map[string]bool{}
	type use struct {
		t   bridge.Transport
		out bool
	}
	used := map[use]string{} // a transport direction has one user: its Sender or Receiver is single-goroutine
	for _, w := range wires {
		name := w.Chan.Spec.Name
		u := use{w.T, w.Chan.From == id}
		switch {
		case seen[name]:
			return nil, fmt.Errorf("link: %s: channel %s wired twice", id, name)
		case w.T == nil:
			return nil, fmt.Errorf("link: %s: channel %s has no transport", id, name)
		case used[u] != "":
			return nil, fmt.Errorf("link: %s: channels %s and %s share one direction of a transport", id, used[u], name)
		case w.Chan.From == id && w.Chan.To != id:
			l, err := newOutLane(e, w)
			if err != nil {
				return nil, err
			}
			e.outs = append(e.outs, l)
		case w.Chan.To == id && w.Chan.From != id:
			l, err := newInLane(e, w)
			if err != nil {
				return nil, err
			}
			e.ins = append(e.ins, l)
		default:
			return nil, fmt.Errorf("link: %s: channel %s goes %s→%s, not to or from this kernel", id, name, w.Chan.From, w.Chan.To)
		}
		seen[name] = true
		used[u] = name
	}
	outs, ins := make([]*outConn, len(e.outs)), make([]bridge.Transport, len(e.ins))
	for i, l := range e.outs {
		outs[i] = l.conn.Load()
	}
	for i, l := range e.ins {
		ins[i] = l.conn.Load().t
	}
	setProbes(outs, ins)
	for _, l := range e.ins {
		if l.track != nil {
			l.track.sizeFences()
		}
	}
	return e, nil
}

// setProbes gives each out-lane's connection the incoming direction of its
// transport to watch for a disconnect, unless a pump of this endpoint
// receives on it (the pump sees the close).
func setProbes(outs []*outConn, ins []bridge.Transport) {
	for _, c := range outs {
		c.probe = c.t.Receiver()
		for _, t := range ins {
			if t == c.t {
				c.probe = nil
			}
		}
	}
}

// Module returns the relay module: a catch-all handler subscribed, by a
// Consume declaration, to every channel this kernel sends over the bridge.
// Include it in the kernel's Boot; its Init resolves the channels.
func (e *Endpoint) Module() kernel.Module {
	m := kernel.Module{Name: e.cfg.Name, Version: "1",
		// DETERMINISTIC: it may relay a deterministic channel (on the lane,
		// in delivery order; fence.go).
		Handlers: []kernel.Handler{{Type: kernel.AnyType, Fn: e.relay, Name: "relay", Flags: kernel.DetHandler}},
		Init:     e.init,
	}
	for _, l := range e.outs {
		s := l.ch.Spec
		m.Channels = append(m.Channels, kernel.ChanDecl{Name: s.Name, Dir: kernel.Consume, Type: s.Type,
			Mode: s.Mode, Guarantee: s.Guarantee, Slots: s.Slots, Replay: s.Replay})
	}
	return m
}

// init resolves channel ids on the booting kernel (the relay's Init hook)
// and has it tell the lanes of the deliveries it ends (observe). A restart
// of the relay module runs it again: the channels and observers stand.
func (e *Endpoint) init(c *kernel.Ctx) error {
	k := c.Kernel()
	if e.k == k {
		return nil
	}
	e.k = k
	maxID := uint32(0)
	for _, l := range e.outs {
		if err := l.resolve(k); err != nil {
			return err
		}
		maxID = max(maxID, l.id)
	}
	det := detTypes(k)
	for _, l := range e.ins {
		if err := l.resolve(k); err != nil {
			return err
		}
		if l.track != nil && det[l.ch.Spec.Type] {
			// The deterministic lane renumbers its tasks (fence.go): a
			// delivery is acknowledged when delivered.
			l.track.exact = false
		}
	}
	e.table = make([]*outLane, maxID+1)
	for _, l := range e.outs {
		e.table[l.id] = l
	}
	return e.observe(k, c.Module(), det)
}

// observe has the kernel tell the lanes of the deliveries it is done with
// (kernel.ChanObserve) — not on deterministic channels, which the kernel's
// lane renumbers. An acknowledging in-lane hears of every delivery of its
// channel (done): the kernel is done with it whether the handler
// completed it or the kernel ended it otherwise — a failure, a poisoned
// type, a yield limit, a closed channel — and never while it will run it
// again. An out-lane hears of the relay's deliveries that did not complete
// (ended): the relay failed them, or the kernel ended them before the
// relay ran; they count for the fences (passed) as published ones do.
func (e *Endpoint) observe(k *kernel.Kernel, relay string, det map[uint32]bool) error {
	for _, l := range e.ins {
		if l.track != nil && l.track.exact {
			if err := k.ChanObserve(l.id, l.done, true); err != nil {
				return fmt.Errorf("link: %s: %w", l.ch, err)
			}
		}
	}
	subs := map[kernel.ChanID]int{} // the relay's subscriber index on each channel
	for _, ci := range k.Channels() {
		for _, s := range ci.Subs {
			if s.Module == relay { // it declares no error handler
				subs[ci.Stats.ID] = s.Index
			}
		}
	}
	for _, l := range e.outs {
		if det[l.ch.Spec.Type] {
			continue
		}
		l.rsub = subs[l.id]
		if err := k.ChanObserve(l.id, l.ended, false); err != nil {
			return fmt.Errorf("link: %s: %w", l.ch, err)
		}
	}
	return nil
}

// lanes, mark and passed make the endpoint its trackers' fencer (track.go):
// a delivery of a channel this kernel sends over the bridge is done with
// once its out-lane published, dropped or abandoned it, or it failed
// (outLane.ended). mark runs on pumps, after Init.
func (e *Endpoint) lanes() int { return len(e.outs) }

func (e *Endpoint) mark(dst []uint64) {
	for i, l := range e.outs {
		st, _ := e.k.ChanStats(l.id)
		dst[i] = st.Emits - st.Drops
	}
}

func (e *Endpoint) passed(at []uint64) bool {
	for i, l := range e.outs {
		if l.conn.Load().tx.Stats().Tasks+l.dropped.Load()+l.abandoned.Load()+l.failed.Load() < at[i] {
			return false
		}
	}
	return true
}

// Start starts the senders and pumps on k, the kernel booted with Module.
// Deliveries the relay took before Start wait in its outboxes.
func (e *Endpoint) Start(k *kernel.Kernel) error {
	if e.k != k {
		return fmt.Errorf("link: %s: Start with a kernel that was not booted with this endpoint's module", e.id)
	}
	if !e.started.CompareAndSwap(false, true) {
		return fmt.Errorf("link: %s: started twice", e.id)
	}
	for _, l := range e.outs {
		e.wg.Add(1)
		go l.run()
	}
	for _, l := range e.ins {
		l.exited = make(chan struct{})
		e.wg.Add(1)
		go l.run()
	}
	return nil
}

// Disconnect takes every bridge of this endpoint down ([B4]): both
// directions of each transport close, the channels this kernel produces
// refuse emits with CHAN_CLOSED at once (ChanSuspend), the ones it consumes
// once the pump has delivered what was published before; the peer's pumps
// and senders see the close and do the same on their kernel. Deliveries the
// relay still takes go to sys.dropped. Safe from any goroutine, more than
// once.
func (e *Endpoint) Disconnect() {
	e.reset.Store(true)
	for _, l := range e.outs {
		e.bridgeDown(l.conn.Load().t)
	}
	for _, l := range e.ins {
		e.bridgeDown(l.conn.Load().t)
	}
}

// bridgeDown closes transport t and suspends this kernel's out-channels on
// it (their in-channels suspend when their pumps have drained). A transport
// a Reconnect has replaced affects no lane any more.
func (e *Endpoint) bridgeDown(t bridge.Transport) {
	t.Disconnect()
	e.downMu.Lock()
	defer e.downMu.Unlock()
	for _, l := range e.outs {
		if l.conn.Load().t == t && !l.down.Load() {
			l.down.Store(true)
			if e.k != nil {
				_ = e.k.ChanSuspend(l.id)
			}
			l.resume() // queued deliveries drain to the relay, which drops them
			l.kick()
		}
	}
}

// Stop ends the senders and pumps and waits for them; the bridges stay
// connected. A sender publishes what it staged; what an outbox or a pump
// still holds goes to sys.dropped (or is released and counted abandoned
// when the kernel is halting). Later relay calls drop to sys.dropped. Call
// it once the system is quiescent for a loss-free stop (gpu/system does).
func (e *Endpoint) Stop() {
	e.once.Do(func() {
		e.stopping.Store(true)
		e.cancel()
		close(e.stop)
		e.wg.Wait()
		for _, l := range e.outs {
			l.resume()
			l.sweep(false)
		}
		for _, l := range e.ins {
			l.finish() // what a Detach salvaged and no pump delivered
		}
	})
}

// Close accounts for what is left after the kernel halted: deliveries a
// relay took after Stop are released and counted abandoned, and so are the
// window's tasks that were never published; the payloads of the published,
// unacknowledged ones are released (they stay counted Unacked); what the
// peer published into the incoming rings after the pumps stopped is taken
// out and counted received and abandoned — unless the bridge was
// disconnected (a peer reset) and not reconnected since: then a Reconnect's
// Discarded counts it. Call it after the kernel's Halt, once the peer's
// senders have stopped too; it calls Stop if needed.
func (e *Endpoint) Close() {
	e.Stop()
	for _, l := range e.outs {
		l.sweep(true)
		if l.win != nil {
			l.releaseWindow()
		}
	}
	if !e.reset.Load() {
		for _, l := range e.ins {
			l.drainAbandoned()
		}
	}
	st := e.Stats()
	e.final.Store(&st) // the transports may be unmapped next: Stats must not read their rings any more
}

// Stats returns the counters of every bridge channel of this endpoint;
// after Close, their final values.
func (e *Endpoint) Stats() []Stats {
	if f := e.final.Load(); f != nil {
		return slices.Clone(*f)
	}
	out := make([]Stats, 0, len(e.outs)+len(e.ins))
	for _, l := range e.outs {
		out = append(out, l.stats())
	}
	for _, l := range e.ins {
		out = append(out, l.stats())
	}
	return out
}
