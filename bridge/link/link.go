package link

import (
	"context"
	"fmt"
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
	downMu   sync.Mutex // serialises bridge-down transitions (bridgeDown)
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
	for _, o := range e.outs {
		o.probe = o.t.Receiver()
		for _, i := range e.ins {
			if i.t == o.t {
				o.probe = nil // the pump sees the close
			}
		}
	}
	return e, nil
}

// Module returns the relay module: a catch-all handler subscribed, by a
// Consume declaration, to every channel this kernel sends over the bridge.
// Include it in the kernel's Boot; its Init resolves the channels.
func (e *Endpoint) Module() kernel.Module {
	m := kernel.Module{Name: e.cfg.Name, Version: "1",
		Handlers: []kernel.Handler{{Type: kernel.AnyType, Fn: e.relay, Name: "relay"}},
		Init:     e.init,
	}
	for _, l := range e.outs {
		s := l.ch.Spec
		m.Channels = append(m.Channels, kernel.ChanDecl{Name: s.Name, Dir: kernel.Consume, Type: s.Type,
			Mode: s.Mode, Guarantee: s.Guarantee, Slots: s.Slots, Replay: s.Replay})
	}
	return m
}

// init resolves channel ids on the booting kernel (the relay's Init hook).
func (e *Endpoint) init(c *kernel.Ctx) error {
	k := c.Kernel()
	e.k = k
	maxID := uint32(0)
	for _, l := range e.outs {
		if err := l.resolve(k); err != nil {
			return err
		}
		maxID = max(maxID, l.id)
	}
	for _, l := range e.ins {
		if err := l.resolve(k); err != nil {
			return err
		}
	}
	e.table = make([]*outLane, maxID+1)
	for _, l := range e.outs {
		e.table[l.id] = l
	}
	return nil
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
	for _, l := range e.outs {
		e.bridgeDown(l.t)
	}
	for _, l := range e.ins {
		e.bridgeDown(l.t)
	}
}

// bridgeDown closes transport t and suspends this kernel's out-channels on
// it (their in-channels suspend when their pumps have drained).
func (e *Endpoint) bridgeDown(t bridge.Transport) {
	t.Disconnect()
	e.downMu.Lock()
	defer e.downMu.Unlock()
	for _, l := range e.outs {
		if l.t == t && !l.down.Load() {
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
	})
}

// Close accounts for what is left after the kernel halted: deliveries a
// relay took after Stop are released and counted abandoned. Call it after
// the kernel's Halt; it calls Stop if needed.
func (e *Endpoint) Close() {
	e.Stop()
	for _, l := range e.outs {
		l.sweep(true)
	}
}

// Stats returns the counters of every bridge channel of this endpoint.
func (e *Endpoint) Stats() []Stats {
	out := make([]Stats, 0, len(e.outs)+len(e.ins))
	for _, l := range e.outs {
		out = append(out, l.stats())
	}
	for _, l := range e.ins {
		out = append(out, l.stats())
	}
	return out
}
