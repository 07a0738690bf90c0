package cluster

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/eventstream"
	"go.uber.org/zap"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// ModuleName is the name of the kernel module that Member.Module returns.
const ModuleName = "gmk.cluster"

// Member is a GMK kernel's membership of a protoactor cluster ([X5]): it
// relays the kernel's cluster channels to their consumer grains on other
// members and delivers the channels it consumes to its kernel. See the
// package documentation for the protocol and the concurrency rules.
type Member struct {
	cfg    Config
	log    *zap.Logger
	lim    limits
	window uint64
	chans  []*chanState
	byName map[string]*chanState

	k   atomic.Pointer[kernel.Kernel] // set by the module's Init
	tab atomic.Pointer[[]*chanState]  // by kernel channel id; set by Init

	// Set by Start, read-only afterwards.
	sys     *actor.ActorSystem
	c       *cluster.Cluster
	stream  string
	topoSub *eventstream.Subscription
	stop    chan struct{}
	wg      sync.WaitGroup // pumps, the ticker, resolutions

	state atomic.Int32 // memberNew → memberStarted → memberLeaving → memberLeft
	ctr   counters

	members atomic.Pointer[[]string] // the topology's addresses, sorted; stored by Start and the topology subscriber (placement.go)
}

const (
	memberNew     int32 = iota
	memberStarted       // Start returned
	memberLeaving       // Leave is draining: streams still flow
	memberLeft          // detached: the relay abandons tasks
)

// chanState is one cluster channel on this member. outID, inID and in are
// written by the module's Init before it publishes tab and k (atomic
// stores), and only read afterwards. sender and senderActive are written by
// Start (before the actor can receive) and Leave, read by the relay; kicked
// is set by the relay (CAS) and cleared by the sender actor.
type chanState struct {
	m            *Member
	cfg          Channel
	outID, inID  kernel.ChanID // the local channel and the delivery channel
	out          *outbound
	sender       atomic.Pointer[actor.PID] // the sender actor
	senderActive atomic.Bool               // the sender actor takes kicks
	kicked       atomic.Bool               // a kick is on its way to the sender
	consumer     atomic.Pointer[actor.PID] // the grain activation the sender streams to (nil: none); the sender stores, Placement loads
	in           *inbound                  // consumer channels only
	p            *pump                     // consumer channels only
}

// ErrNotBooted is returned by Start when the kernel has not booted with the
// member's Module, and ErrStarted when Start was called already.
var (
	ErrNotBooted = errors.New("gmk/cluster: the member's module is not booted")
	ErrStarted   = errors.New("gmk/cluster: member already started")
)

// New returns a member for the channels of cfg. Boot the kernel with
// Module() (and every consumer module wrapped by Consumer), add Kinds() to
// the protoactor cluster's configuration, start the cluster member, then call
// Start — or let Join do the last three steps.
func New(cfg Config) (*Member, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Member{cfg: cfg, log: cfg.Logger, window: uint64(cfg.Window), byName: map[string]*chanState{},
		lim:  limits{batchTasks: cfg.BatchTasks, batchBytes: cfg.BatchBytes, inflightBytes: cfg.InflightBytes, minBatch: cfg.MinBatch},
		stop: make(chan struct{})}
	for _, ch := range cfg.Channels {
		cs := &chanState{m: m, cfg: ch, out: newOutbound(2 * cfg.Window)}
		if ch.Consume {
			cs.p = newPump(cs) // cs.in is set by the module's Init
		}
		m.chans = append(m.chans, cs)
		m.byName[ch.Name] = cs
	}
	return m, nil
}

// Module returns the member's kernel module: a catch-all handler that
// consumes every cluster channel's local end (the relay) and is the error
// handler of every delivery channel. Boot the kernel with it.
func (m *Member) Module() kernel.Module {
	mod := kernel.Module{Name: ModuleName, Init: m.init,
		Handlers: []kernel.Handler{{Type: kernel.AnyType, Fn: m.handle, Name: "relay"}}}
	for _, cs := range m.chans {
		c := cs.cfg
		mod.Channels = append(mod.Channels, kernel.ChanDecl{Name: c.Name, Dir: kernel.Consume, Type: c.Type,
			Guarantee: kernel.Lossless, Slots: c.Slots})
		if c.Consume {
			mod.Channels = append(mod.Channels, kernel.ChanDecl{Name: DeliveryName(c.Name), Dir: kernel.Consume,
				Type: c.Type, Guarantee: kernel.Lossless, Slots: c.Slots, OnError: true})
		}
	}
	return mod
}

// Consumer returns mod as the consumer of this member's Consume channels:
// its Consume declarations of such a channel's Name are renamed to the
// delivery channel (DeliveryName), and its handlers report each task they
// finish — returned OK without yielding — so that the member acknowledges
// it. A task whose handler fails for good goes to the member's error handler,
// which counts it (Stats.Failed) and acknowledges it too.
func (m *Member) Consumer(mod kernel.Module) kernel.Module {
	mod.Channels = slices.Clone(mod.Channels)
	for i, d := range mod.Channels {
		if cs := m.byName[d.Name]; cs != nil && cs.cfg.Consume && d.Dir == kernel.Consume && !d.OnError {
			mod.Channels[i].Name = DeliveryName(d.Name)
		}
	}
	mod.Handlers = slices.Clone(mod.Handlers)
	for i := range mod.Handlers {
		fn := mod.Handlers[i].Fn
		mod.Handlers[i].Fn = func(c *kernel.Ctx) kernel.Status {
			st := fn(c)
			if st == kernel.OK && !c.Yielded() {
				m.finished(c.Task())
			}
			return st
		}
	}
	return mod
}

// finished reports t as finished when it is a delivery of a cluster channel.
func (m *Member) finished(t *task.Task) {
	if t.Flags&task.ChannelMsg == 0 {
		return
	}
	if cs := m.lookup(t.ChannelID()); cs != nil && cs.in != nil && t.ChannelID() == cs.inID {
		cs.in.done(t.Seq)
	}
}

// Kinds returns the cluster kinds this member hosts: one per channel it
// consumes. Add them to the cluster's configuration (cluster.WithKinds).
func (m *Member) Kinds() []*cluster.Kind {
	var ks []*cluster.Kind
	for _, cs := range m.chans {
		if cs.p != nil {
			p := cs.p
			ks = append(ks, cluster.NewKind(Kind(cs.cfg.Name),
				actor.PropsFromProducer(func() actor.Actor { return &grain{p: p} })))
		}
	}
	return ks
}

// Cluster returns the protoactor cluster the member started in (nil before
// Start).
func (m *Member) Cluster() *cluster.Cluster {
	if m.state.Load() == memberNew {
		return nil
	}
	return m.c
}

// Kernel returns the kernel the member's module was booted in (nil before).
func (m *Member) Kernel() *kernel.Kernel { return m.k.Load() }

// Chan returns the local channel of the cluster channel name: the channel
// producers on this member emit on.
func (m *Member) Chan(name string) (kernel.ChanID, error) {
	cs := m.byName[name]
	if cs == nil || m.k.Load() == nil {
		return 0, fmt.Errorf("%w: no cluster channel %q on this member", kernel.ErrChanUnknown, name)
	}
	return cs.outID, nil
}

// lookup returns the channel whose local or delivery channel is id.
func (m *Member) lookup(id kernel.ChanID) *chanState {
	tab := m.tab.Load()
	if tab == nil || int(id) >= len(*tab) {
		return nil
	}
	return (*tab)[id]
}
