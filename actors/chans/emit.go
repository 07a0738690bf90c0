package chans

import (
	"context"
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel"
)

// emitJob is one emit request: tasks whose payload references it owns
// (released for every task not emitted), and whom to answer.
type emitJob struct {
	tasks    []kernel.Task
	total    int   // tasks in the request; total-len(tasks) were cut off by tail
	tail     error // why the request's tasks after tasks were not made (an allocation failure)
	sender   *actor.PID
	reqID    uint64
	failFast bool
}

// emitWire emits a wire batch: every task is checked first (nothing is
// emitted when one is invalid), then the payloads are copied into the
// arena; an allocation failure cuts the batch there.
func (a *chanActor) emitWire(ctx actor.Context, m *wire.Emit) {
	b := m.GetBatch()
	j := &emitJob{total: b.Len(), sender: ctx.Sender(), reqID: m.RequestId, failFast: m.FailFast}
	if m.Channel != "" && m.Channel != a.name {
		a.reject(j.sender, j.reqID, j.total, fmt.Errorf("%w: emit on %q sent to the actor of %s", kernel.ErrChanUnknown, m.Channel, a.name))
		return
	}
	err := b.Each(func(i int, t kernel.Task, p []byte) error { return a.check(i, j.total, &t, len(p)) })
	if err != nil {
		a.reject(j.sender, j.reqID, j.total, fmt.Errorf("gmk: emit on %s: %w", a.name, err))
		return
	}
	j.tasks = make([]kernel.Task, 0, j.total)
	j.tail = b.Each(func(i int, t kernel.Task, p []byte) error {
		t.Payload, t.PayloadLen = 0, 0
		if len(p) > 0 {
			h, buf, err := a.cs.k.Alloc(int(t.Tenant), len(p))
			if err != nil {
				return fmt.Errorf("gmk: emit on %s: task %d of %d: payload of %d bytes: %w", a.name, i, j.total, len(p), err)
			}
			copy(buf, p)
			t.Payload, t.PayloadLen = h, uint32(len(p))
		}
		j.tasks = append(j.tasks, t)
		return nil
	})
	a.submit(j)
}

// emitTasks emits tasks sent as kernel.Task values (local senders only: a
// Go struct does not cross ActorSystems). Their payload references move to
// the channel actor, which releases those it does not emit.
func (a *chanActor) emitTasks(ctx actor.Context, ts []kernel.Task) {
	j := &emitJob{tasks: ts, total: len(ts), sender: ctx.Sender()}
	for i := range ts {
		if err := a.check(i, len(ts), &ts[i], 0); err != nil {
			a.cs.finish(a.name, j, 0, fmt.Errorf("gmk: emit on %s: %w", a.name, err))
			return
		}
	}
	a.submit(j)
}

// emitUser emits a user message through its type's codec: one task of the
// codec's type, tenant 0, the encoded message as payload.
func (a *chanActor) emitUser(ctx actor.Context, m proto.Message) {
	typ, c, ok := a.cs.codecs.forMessage(m)
	if !ok {
		a.reject(ctx.Sender(), 0, 1, fmt.Errorf("%w: %s got a %s", ErrNoCodec, a.name, proto.MessageName(m)))
		return
	}
	p, err := c.Encode(m)
	t := kernel.Task{Type: typ}
	if err == nil {
		err = a.check(0, 1, &t, len(p))
	}
	if err == nil && len(p) > 0 {
		var buf []byte
		t.Payload, buf, err = a.cs.k.Alloc(0, len(p))
		copy(buf, p)
		t.PayloadLen = uint32(len(p))
	}
	if err != nil {
		a.reject(ctx.Sender(), 0, 1, fmt.Errorf("gmk: emit %s on %s: %w", proto.MessageName(m), a.name, err))
		return
	}
	a.submit(&emitJob{tasks: []kernel.Task{t}, total: 1, sender: ctx.Sender()})
}

// check validates task i of n before anything is emitted.
func (a *chanActor) check(i, n int, t *kernel.Task, payload int) error {
	cfg := a.cs.k.Config()
	switch {
	case a.name == kernel.SysError || a.name == kernel.SysDropped:
		return ErrSysChannel
	case a.spec.Type != kernel.AnyType && t.Type != a.spec.Type:
		return fmt.Errorf("task %d of %d: %w: type %d, the channel carries type %d", i, n, kernel.ErrChanTypeMismatch, t.Type, a.spec.Type)
	case int(t.Type) >= cfg.MaxTypes:
		return fmt.Errorf("task %d of %d: %w: type %d, the kernel has %d", i, n, kernel.ErrUnknownType, t.Type, cfg.MaxTypes)
	case int(t.Tenant) >= cfg.Tenants:
		return fmt.Errorf("task %d of %d: %w: tenant %d, the kernel has %d", i, n, kernel.ErrBadTenant, t.Tenant, cfg.Tenants)
	case payload > a.cs.cfg.MaxPayload:
		return fmt.Errorf("task %d of %d: %w: %d bytes, at most %d", i, n, ErrPayloadTooLarge, payload, a.cs.cfg.MaxPayload)
	}
	return nil
}

// submit runs j, or queues it behind a waiting emit: emits leave the
// channel actor in the order they arrived.
func (a *chanActor) submit(j *emitJob) {
	if a.blocked {
		a.queue = append(a.queue, j)
		return
	}
	a.run(j)
}

func (a *chanActor) runQueue() {
	for len(a.queue) > 0 && !a.blocked {
		j := a.queue[0]
		a.queue[0] = nil
		a.queue = a.queue[1:]
		a.run(j)
	}
}

// run emits j. On a full lossless channel (unless j is fail-fast) the rest
// waits for room on a goroutine — never in the actor, which must keep taking
// acknowledgements — and the actor holds later emits until it is done.
func (a *chanActor) run(j *emitJob) {
	cs := a.cs
	n, err := cs.k.ChanEmitBatch(a.id, j.tasks)
	if !errors.Is(err, kernel.ErrChanFull) || j.failFast || cs.ctx.Err() != nil {
		if errors.Is(err, kernel.ErrChanFull) && cs.ctx.Err() != nil {
			err = ErrStopped
		}
		cs.finish(a.name, j, n, err)
		return
	}
	a.blocked = true
	self := a.self
	cs.wg.Add(1)
	go func() {
		defer cs.wg.Done()
		m, err := emitWait(cs.ctx, cs.k, a.id, j.tasks[n:])
		if cs.ctx.Err() != nil && err != nil {
			err = ErrStopped
		}
		cs.finish(a.name, j, n+m, err)
		cs.sys.Root.Send(self, emitDone{})
	}()
}

// emitWait emits ts, waiting while the channel is full, and returns how
// many it emitted (a prefix) and why it stopped.
func emitWait(ctx context.Context, k *kernel.Kernel, id kernel.ChanID, ts []kernel.Task) (int, error) {
	n := 0
	for n < len(ts) {
		m, err := k.ChanEmitBatch(id, ts[n:])
		n += m
		if !errors.Is(err, kernel.ErrChanFull) {
			return n, err
		}
		if err := k.ChanEmitWait(ctx, id, ts[n]); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// finish settles j after n of its tasks were emitted: the others' payloads
// are released, the counters move, and the sender (when there is one) gets
// an EmitResult. Any goroutine.
func (cs *Channels) finish(name string, j *emitJob, n int, err error) {
	for i := n; i < len(j.tasks); i++ {
		if p := j.tasks[i].Payload; p != 0 {
			_ = cs.k.Release(p)
		}
	}
	if err == nil {
		err = j.tail
	}
	cs.emitted.Add(uint64(n))
	cs.rejected.Add(uint64(j.total - n))
	if err != nil {
		cs.cfg.Logger.Debug("emit refused", zapErr(name, n, j.total, err)...)
	}
	if j.sender != nil {
		r := &wire.EmitResult{Channel: name, RequestId: j.reqID, Accepted: uint32(n), Status: wire.Status(err)}
		if err != nil {
			r.Error = err.Error()
		}
		cs.sys.Root.Send(j.sender, r)
	}
}

// reject refuses a whole request of n tasks that owns no payload.
func (a *chanActor) reject(sender *actor.PID, reqID uint64, n int, err error) {
	a.cs.finish(a.name, &emitJob{total: n, sender: sender, reqID: reqID}, 0, err)
}
