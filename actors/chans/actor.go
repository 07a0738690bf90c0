package chans

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel"
)

// chanActor is one channel's actor ([X3]). Its state is its own (the actor
// runs one message at a time); the outboxes it shares with the relay
// handler synchronise themselves.
type chanActor struct {
	cs   *Channels
	name string
	id   kernel.ChanID
	spec kernel.ChanSpec
	cr   *chanRelay
	self *actor.PID // set on Started

	subs  map[uint64]*outbox // by subscription id
	byPID map[string]*outbox // by subscriber

	blocked bool       // an emit waits for room (its goroutine sends emitDone)
	queue   []*emitJob // emits behind it, in arrival order
	scratch []item
}

// flushMsg asks the channel actor to send an outbox's queued tasks. Local
// only: the relay handler sends it.
type flushMsg struct{ o *outbox }

// emitDone tells the channel actor that its waiting emit finished.
type emitDone struct{}

func (a *chanActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *flushMsg:
		a.flush(ctx, m.o)
	case *wire.Ack:
		if o := a.subs[m.Sub]; o != nil && o.ack(m.Seq) {
			a.flush(ctx, o)
		}
	case *wire.Emit:
		a.emitWire(ctx, m)
	case kernel.Task:
		a.emitTasks(ctx, []kernel.Task{m})
	case *kernel.Task:
		a.emitTasks(ctx, []kernel.Task{*m})
	case []kernel.Task:
		a.emitTasks(ctx, append([]kernel.Task(nil), m...))
	case emitDone:
		a.blocked = false
		a.runQueue()
	case *wire.Subscribe:
		a.subscribe(ctx, m)
	case *wire.Unsubscribe:
		a.unsubscribe(ctx, m)
	case *actor.Terminated:
		if o := a.byPID[pidKey(m.Who)]; o != nil {
			a.end(o) // [X3]: a subscriber that terminates is unsubscribed
		}
	case *actor.Stopping:
		a.stopping()
	case *actor.Started:
		a.self = ctx.Self()
	case *actor.Stopped, *actor.Restarting, *actor.ReceiveTimeout:
	case proto.Message:
		if proto.MessageName(m).Parent() == "actor" {
			return // protoactor's own messages (PoisonPill and the like)
		}
		a.emitUser(ctx, m)
	default:
		a.reject(ctx.Sender(), 0, 1, fmt.Errorf("%w: %s got a %T", ErrNoCodec, a.name, m))
	}
}

// subscribe answers Subscribe with the subscription's id, or the error.
func (a *chanActor) subscribe(ctx actor.Context, m *wire.Subscribe) {
	res := &wire.Subscribed{Channel: a.name}
	o, err := a.addSub(ctx, m)
	if err != nil {
		res.Status, res.Error = wire.Status(err), err.Error()
	} else {
		res.Sub = o.id
	}
	if ctx.Sender() != nil {
		ctx.Respond(res)
	}
}

func (a *chanActor) addSub(ctx actor.Context, m *wire.Subscribe) (*outbox, error) {
	if m.Channel != "" && m.Channel != a.name {
		return nil, fmt.Errorf("%w: subscribe to %q sent to the actor of %s", kernel.ErrChanUnknown, m.Channel, a.name)
	}
	pid := m.Subscriber.Actor()
	if pid == nil {
		pid = ctx.Sender()
	}
	if pid == nil {
		return nil, fmt.Errorf("%w: subscribe to %s", ErrNoSubscriber, a.name)
	}
	if o := a.byPID[pidKey(pid)]; o != nil {
		return o, nil // subscribing twice is one subscription
	}
	cfg := a.cs.cfg
	o := &outbox{id: a.cs.nextSub.Add(1), channel: a.name, pid: pid,
		lossless: a.spec.Guarantee == kernel.Lossless, autoAck: m.AutoAck || m.Decode, decode: m.Decode,
		window: uint64(cfg.Window), limit: cfg.LossyQueue}
	if m.Window > 0 {
		o.window = uint64(min(m.Window, 1<<24))
	}
	if o.lossless {
		o.limit = cfg.MaxPending
		o.pauseAt = max(int(o.window), 64)
		k, id := a.cs.k, a.id
		o.pause = func(p bool) { _ = k.ChanPause(id, int(o.sub.Load()), p) }
	}
	self, kick := ctx.Self(), &flushMsg{o}
	o.kick = func() { a.cs.sys.Root.Send(self, kick) }
	if err := a.place(o); err != nil {
		return nil, err
	}
	ctx.Watch(pid)
	a.subs[o.id], a.byPID[pidKey(pid)] = o, o
	a.cs.addLive(o)
	return o, nil
}

// place puts o into a slot of the relay's table: an ended subscription's
// slot when there is one (the kernel has no unsubscribe, so the relay's
// kernel subscriptions are reused), else a new kernel subscription.
func (a *chanActor) place(o *outbox) error {
	used := 0
	for i := range a.cr.subs {
		old := a.cr.subs[i].Load()
		if old == nil {
			continue
		}
		used++
		if old.isClosed() && a.cr.subs[i].CompareAndSwap(old, o) {
			o.sub.Store(int32(i))
			return nil
		}
	}
	if a.spec.Mode == kernel.P2P && used > 0 {
		return fmt.Errorf("%w: %s", kernel.ErrChanAlreadyBound, a.name)
	}
	a.cr.adding.Store(o)
	idx, err := a.cs.k.ChanSubscribe(a.id, ModuleName, kernel.AnyType)
	if err == nil && idx < len(a.cr.subs) {
		a.cr.subs[idx].CompareAndSwap(nil, o) // unless a delivery adopted it first
	}
	a.cr.adding.Store(nil)
	if err != nil {
		return fmt.Errorf("gmk: subscribe to %s: %w", a.name, err)
	}
	if idx >= len(a.cr.subs) || a.cr.subs[idx].Load() != o {
		panic(fmt.Sprintf("chans: kernel subscription %d of %s is not the one added", idx, a.name))
	}
	o.sub.Store(int32(idx))
	return nil
}

func (a *chanActor) unsubscribe(ctx actor.Context, m *wire.Unsubscribe) {
	res := &wire.Unsubscribed{Channel: a.name}
	pid := m.Subscriber.Actor()
	if pid == nil {
		pid = ctx.Sender()
	}
	switch o := a.byPID[pidKey(pid)]; {
	case pid == nil:
		res.Status, res.Error = wire.Status(ErrNoSubscriber), ErrNoSubscriber.Error()
	case o == nil:
		err := fmt.Errorf("%w: %s/%s to %s", ErrNotSubscribed, pid.Address, pid.Id, a.name)
		res.Status, res.Error = wire.Status(err), err.Error()
	default:
		res.Sub = o.id
		a.end(o)
		ctx.Unwatch(pid)
	}
	if ctx.Sender() != nil {
		ctx.Respond(res)
	}
}

// end ends a subscription: the outbox closes (queued tasks abandoned,
// counted) and stays in its slot as a tombstone until a new subscription
// reuses the slot; deliveries meanwhile are counted as orphaned.
func (a *chanActor) end(o *outbox) {
	final := o.close()
	delete(a.subs, o.id)
	delete(a.byPID, pidKey(o.pid))
	a.cs.retire(o, final)
}

// flush sends up to a batch of o's queued tasks as far as its credit goes,
// and asks for the next batch through the mailbox, so acknowledgements and
// emits interleave with a long flush.
func (a *chanActor) flush(ctx actor.Context, o *outbox) {
	items, first, lostN, more := o.next(a.scratch, a.cs.cfg.Batch)
	if o.decode {
		a.sendDecoded(ctx, o, items, first, lostN)
	} else if len(items) > 0 {
		ctx.Request(o.pid, a.delivery(o, items, first, lostN))
	}
	clear(items) // drop the payload copies
	a.scratch = items[:0]
	if more {
		ctx.Send(ctx.Self(), &flushMsg{o})
	}
}

func (a *chanActor) delivery(o *outbox, items []item, first, lostN uint64) *wire.Delivery {
	n := 0
	for i := range items {
		n += len(items[i].p)
	}
	b := &wire.TaskBatch{FirstSeq: first, Tasks: make([]byte, 0, len(items)*wire.RecordSize), Payloads: make([]byte, 0, n)}
	for i := range items {
		b.Append(items[i].t, items[i].p)
	}
	return &wire.Delivery{Channel: a.name, Sub: o.id, Batch: b, Dropped: lostN}
}

// sendDecoded sends each task with a codec as its decoded message, and the
// runs of other tasks (or of payloads that do not decode) as Deliveries, in
// order.
func (a *chanActor) sendDecoded(ctx actor.Context, o *outbox, items []item, first, lostN uint64) {
	run := 0
	for i := range items {
		c := a.cs.codecs.forType(items[i].t.Type)
		if c == nil {
			continue
		}
		m, err := c.Decode(items[i].p)
		if err != nil {
			continue
		}
		if run < i {
			ctx.Request(o.pid, a.delivery(o, items[run:i], first+uint64(run), lostN))
		}
		ctx.Request(o.pid, m)
		run = i + 1
	}
	if run < len(items) {
		ctx.Request(o.pid, a.delivery(o, items[run:], first+uint64(run), lostN))
	}
}

func (a *chanActor) stopping() {
	for _, o := range a.subs {
		a.end(o)
	}
	for _, j := range a.queue {
		a.cs.finish(a.name, j, 0, ErrStopped)
	}
	a.queue = nil
}

func pidKey(p *actor.PID) string {
	if p == nil {
		return ""
	}
	return p.Address + "\x00" + p.Id
}
