package chans

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/alloc"
)

// Defaults of Config.
const (
	DefaultWindow     = 1024    // credit per subscriber, in tasks
	DefaultBatch      = 256     // most tasks per Delivery
	DefaultLossyQueue = 1024    // queued tasks of a lossy subscriber before drop-slow
	DefaultMaxPending = 1 << 20 // queued tasks of a lossless subscriber before overflow
)

// Config configures the channel actors. The zero value of a field means its
// default.
type Config struct {
	Window     int // default credit of a subscription: tasks sent and not acknowledged
	Batch      int // most tasks per Delivery
	LossyQueue int // tasks a lossy subscription may queue beyond its credit; more are dropped (drop-slow)
	MaxPending int // tasks a lossless subscription may queue beyond its credit; more overflow (counted)
	MaxPayload int // largest payload accepted from actors, bytes; default and ceiling: the arena's largest block
	Logger     *zap.Logger
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.Window, DefaultWindow)
	def(&c.Batch, DefaultBatch)
	def(&c.LossyQueue, DefaultLossyQueue)
	def(&c.MaxPending, DefaultMaxPending)
	def(&c.MaxPayload, alloc.MaxBlock)
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// Validate reports a field out of range.
func (c Config) Validate() error {
	switch {
	case c.Window < 1 || c.Window > 1<<24:
		return fmt.Errorf("gmk: chans: window %d out of range [1, 16M]", c.Window)
	case c.Batch < 1 || c.Batch > 1<<16:
		return fmt.Errorf("gmk: chans: batch %d out of range [1, 64K]", c.Batch)
	case c.LossyQueue < 0 || c.MaxPending < 1:
		return fmt.Errorf("gmk: chans: lossy queue %d / max pending %d out of range", c.LossyQueue, c.MaxPending)
	case c.MaxPayload < 0 || c.MaxPayload > alloc.MaxBlock:
		return fmt.Errorf("gmk: chans: max payload %d out of range [0, %d]", c.MaxPayload, alloc.MaxBlock)
	}
	return nil
}

// Prefix is the prefix of the channel actors' names: channel "a.b" is the
// actor "gmk/chans/a.b" of the ActorSystem, and the directory, which routes
// wire messages by their channel field, is "gmk/chans".
const Prefix = "gmk/chans"

// ActorName returns the actor name of the channel named channel.
func ActorName(channel string) string { return Prefix + "/" + channel }

// Channels is the set of channel actors of one kernel in one ActorSystem.
// Its methods are safe for concurrent use.
type Channels struct {
	sys    *actor.ActorSystem
	k      *kernel.Kernel
	r      *relay
	cfg    Config
	codecs codecs
	dir    *actor.PID

	ctx    context.Context // ends with Stop: waiting emits give up
	cancel context.CancelFunc
	wg     sync.WaitGroup // goroutines of waiting emits
	stop   sync.Once

	mu      sync.Mutex
	actors  map[string]*actor.PID
	live    map[uint64]*outbox
	retired SubStats // counters of ended subscriptions
	stopped bool

	nextSub           atomic.Uint64
	emitted, rejected atomic.Uint64
}

// Start spawns the directory and one actor per channel of k ([X3]);
// channels opened later get their actor on first use (PID, or a wire
// message to the directory). k must have been booted with Module().
func Start(sys *actor.ActorSystem, k *kernel.Kernel, cfg Config) (*Channels, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v, ok := relays.Load(k)
	if !ok {
		return nil, ErrNoModule
	}
	r := v.(*relay)
	if !r.started.CompareAndSwap(false, true) {
		return nil, ErrStarted
	}
	cs := &Channels{sys: sys, k: k, r: r, cfg: cfg, actors: map[string]*actor.PID{}, live: map[uint64]*outbox{}}
	cs.ctx, cs.cancel = context.WithCancel(context.Background())
	var err error
	if cs.dir, err = sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return directory{cs} }), Prefix); err != nil {
		r.started.Store(false)
		return nil, fmt.Errorf("gmk: chans: spawn %s: %w", Prefix, err)
	}
	for id := kernel.ChanID(1); int(id) <= k.Config().MaxChannels; id++ {
		if st, err := k.ChanStats(id); err == nil {
			if _, err := cs.PID(st.Name); err != nil {
				cs.Stop()
				return nil, err
			}
		}
	}
	return cs, nil
}

// PID returns the actor of the channel named name, spawning it on first use.
// An unknown name is kernel.ErrChanUnknown.
func (cs *Channels) PID(name string) (*actor.PID, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.stopped {
		return nil, ErrStopped
	}
	if pid := cs.actors[name]; pid != nil {
		return pid, nil
	}
	id, err := cs.k.Chan(name)
	if err != nil {
		return nil, err
	}
	spec, err := cs.k.ChanSpec(id)
	if err != nil {
		return nil, err
	}
	a := &chanActor{cs: cs, name: name, id: id, spec: spec, cr: cs.r.chanRelay(id),
		subs: map[uint64]*outbox{}, byPID: map[string]*outbox{}}
	// The producer returns the same instance, so a restart keeps the
	// subscriptions (the relay's table points at their outboxes).
	pid, err := cs.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return a }), ActorName(name))
	if err != nil {
		return nil, fmt.Errorf("gmk: chans: spawn %s: %w", ActorName(name), err)
	}
	cs.actors[name] = pid
	return pid, nil
}

// Directory returns the directory actor: it forwards Emit, Subscribe,
// Unsubscribe and Ack to the actor of their channel field, and answers an
// unknown channel name with CHAN_UNKNOWN.
func (cs *Channels) Directory() *actor.PID { return cs.dir }

// RegisterCodec makes c the codec of task type typ: an actor may then send
// c's message type to a channel actor (emitted as a task of type typ, tenant
// 0, with the encoded message as payload), and a subscriber that asked for
// decode receives such tasks as decoded messages.
func (cs *Channels) RegisterCodec(typ uint32, c Codec) error {
	if int(typ) >= cs.k.Config().MaxTypes {
		return fmt.Errorf("%w: codec for type %d, kernel has %d types", kernel.ErrUnknownType, typ, cs.k.Config().MaxTypes)
	}
	return cs.codecs.register(typ, c)
}

// Stop stops the channel actors: waiting emits end with ErrStopped (their
// payloads released), subscriptions end (queued deliveries counted as
// abandoned), and later deliveries of the relay's kernel subscriptions are
// counted as orphaned. It waits until the actors and their goroutines are
// gone. Stop the channels before halting the kernel to count every
// delivery; the other order is safe too.
func (cs *Channels) Stop() {
	cs.stop.Do(func() {
		cs.cancel()
		cs.mu.Lock()
		cs.stopped = true
		pids := []*actor.PID{cs.dir}
		for _, pid := range cs.actors {
			pids = append(pids, pid)
		}
		cs.mu.Unlock()
		for _, pid := range pids {
			_ = cs.sys.Root.StopFuture(pid).Wait()
		}
		cs.wg.Wait() // no actor is left to start another waiting emit
		cs.r.started.Store(false)
	})
}

// SubStats are a subscription's counters. Taken = Sent + Dropped +
// Overflow + Abandoned + Pending: every delivery the relay took for a
// subscription is sent, lost (counted) or still queued.
type SubStats struct {
	Taken     uint64 // deliveries the relay took from the kernel
	Sent      uint64 // tasks sent to the subscriber
	Acked     uint64 // tasks acknowledged
	Dropped   uint64 // lossy drop-slow
	Overflow  uint64 // lossless overflow beyond Config.MaxPending
	Abandoned uint64 // queued when the subscription ended
	Pending   uint64 // queued now
}

func (s *SubStats) add(o SubStats) {
	s.Taken += o.Taken
	s.Sent += o.Sent
	s.Acked += o.Acked
	s.Dropped += o.Dropped
	s.Overflow += o.Overflow
	s.Abandoned += o.Abandoned
	s.Pending += o.Pending
}

// Stats are the channel actors' counters. Every delivery of the relay's
// kernel subscriptions is in Taken or Orphaned, and every task an actor
// asked to emit is in Emitted or Rejected.
type Stats struct {
	SubStats             // totals over every subscription, live and ended
	Subscriptions int    // live subscriptions
	Orphaned      uint64 // deliveries that found their subscription ended
	Emitted       uint64 // tasks emitted onto kernel channels
	Rejected      uint64 // tasks refused (each answered to its sender, when it had one)
}

// Stats returns the counters.
func (cs *Channels) Stats() Stats {
	cs.mu.Lock()
	s := Stats{SubStats: cs.retired, Subscriptions: len(cs.live)}
	live := make([]*outbox, 0, len(cs.live))
	for _, o := range cs.live {
		live = append(live, o)
	}
	cs.mu.Unlock()
	for _, o := range live {
		s.add(o.stats())
	}
	s.Orphaned, s.Emitted, s.Rejected = cs.r.orphans.Load(), cs.emitted.Load(), cs.rejected.Load()
	return s
}

func (cs *Channels) addLive(o *outbox) {
	cs.mu.Lock()
	cs.live[o.id] = o
	cs.mu.Unlock()
}

// retire moves an ended subscription's final counters to the totals.
func (cs *Channels) retire(o *outbox, final SubStats) {
	cs.mu.Lock()
	delete(cs.live, o.id)
	cs.retired.add(final)
	cs.mu.Unlock()
}
