package chans

import (
	"sync"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/channel"
)

// ModuleName is the name of the relay module that Module returns.
const ModuleName = "actors.chans"

// Names of the kernel user metrics the relay keeps ([O1]).
const (
	MetricDropped  = "actors.chans.dropped"  // lossy drop-slow and lossless overflow
	MetricOrphaned = "actors.chans.orphaned" // deliveries for an ended subscription
)

// Module returns the relay module: one catch-all handler (kernel.AnyType)
// that PID subscriptions are subscribed with, so that the kernel delivers to
// it like to any consumer. Include it at kernel.Boot, then call Start. The
// handler never blocks, never fails and never yields: it copies each
// delivery into its subscription's outbox (or counts it) and returns OK.
func Module() kernel.Module {
	r := &relay{}
	return kernel.Module{
		Name:     ModuleName,
		Handlers: []kernel.Handler{{Type: kernel.AnyType, Fn: r.handle, Name: "relay"}},
		Init:     r.init,
		Fini:     r.fini,
	}
}

// relay is the kernel side of the channel actors. Its table maps a
// delivery's channel id and subscriber index to the subscription's outbox.
type relay struct {
	// tab is indexed by channel id: written once by the first Init (CAS),
	// read by the handler on every delivery (a read-shared line).
	tab atomic.Pointer[[]atomic.Pointer[chanRelay]]
	// dropped and orphaned are the kernel metric ids; written by the first
	// Init, before tab publishes.
	dropped, orphaned kernel.MetricID
	// orphans counts deliveries that found no live subscription (rare;
	// one shared atomic is fine).
	orphans atomic.Uint64
	// started is set by Start: one Channels per kernel.
	started atomic.Bool
}

// chanRelay holds one channel's subscription slots, indexed like the
// kernel's subscriber index.
type chanRelay struct {
	// subs[i] is nil until the channel actor installs subscription i, then
	// the current outbox (closed ones stay as tombstones until reused).
	// Written by the channel actor, read by the handler.
	subs [channel.MaxSubscribers]atomic.Pointer[outbox]
	// adding is the outbox of a kernel subscription being added: a delivery
	// can reach the handler before ChanSubscribe returns its index, and it
	// can only belong to the subscription being added, because the channel
	// actor adds the relay's subscriptions to its channel one at a time.
	adding atomic.Pointer[outbox]
}

// slot returns the outbox of subscriber index i, adopting the one being
// added when slot i was never used.
func (cr *chanRelay) slot(i int) *outbox {
	if i >= len(cr.subs) {
		return nil
	}
	if o := cr.subs[i].Load(); o != nil {
		return o
	}
	if a := cr.adding.Load(); a != nil && cr.subs[i].CompareAndSwap(nil, a) {
		return a
	}
	return cr.subs[i].Load()
}

func (r *relay) init(c *kernel.Ctx) error {
	k := c.Kernel()
	if r.tab.Load() == nil { // the first Init; a restart keeps the table
		var err error
		if r.dropped, err = k.Metric(MetricDropped); err != nil {
			return err
		}
		if r.orphaned, err = k.Metric(MetricOrphaned); err != nil {
			return err
		}
		tab := make([]atomic.Pointer[chanRelay], k.Config().MaxChannels+1)
		r.tab.CompareAndSwap(nil, &tab)
	}
	relays.Store(k, r)
	return nil
}

func (r *relay) fini(c *kernel.Ctx) error {
	relays.CompareAndDelete(c.Kernel(), r)
	return nil
}

// handle runs on the subscription's home worker, one delivery at a time in
// channel order.
func (r *relay) handle(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	if o := r.outbox(t.ChannelID(), t.Subscriber()); o != nil {
		switch o.take(t, c.Payload()) {
		case taken:
			return kernel.OK
		case lost:
			c.MetricInc(r.dropped, 1)
			return kernel.OK
		}
	}
	r.orphans.Add(1)
	c.MetricInc(r.orphaned, 1)
	return kernel.OK
}

func (r *relay) outbox(id kernel.ChanID, sub int) *outbox {
	tab := r.tab.Load()
	if tab == nil || int(id) >= len(*tab) {
		return nil
	}
	if cr := (*tab)[id].Load(); cr != nil {
		return cr.slot(sub)
	}
	return nil
}

// chanRelay returns (creating) channel id's slots. Channel actors only.
func (r *relay) chanRelay(id kernel.ChanID) *chanRelay {
	tab := *r.tab.Load()
	if cr := tab[id].Load(); cr != nil {
		return cr
	}
	tab[id].CompareAndSwap(nil, &chanRelay{})
	return tab[id].Load()
}

// relays maps a kernel to its relay module (set by Init, removed by Fini)
// so that Start finds the module that Boot registered.
var relays sync.Map // *kernel.Kernel → *relay
