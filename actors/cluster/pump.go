package cluster

import (
	"errors"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/gmkernel/gmk/actors/cluster/clusterpb"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// pump is the goroutine shell around a consumer channel's inbound state: it
// takes the batches the grain received, emits their tasks on the delivery
// channel, and sends the acknowledgements. One per consumed channel and
// member, from Start to Leave; it outlives the grain's activations, like the
// delivery channel whose numbering it follows.
type pump struct {
	cs *chanState
	in *inbound

	mu    sync.Mutex // guards inbox; the grain appends, the pump takes
	inbox []inMsg

	wake chan struct{} // capacity 1: a batch arrived or a task finished

	// Set by the module's Init, before Start.
	k    *kernel.Kernel
	dcap uint32 // the delivery channel's slots
	buf  []task.Task
}

type inMsg struct {
	b    *clusterpb.Batch
	from *actor.PID
}

// fallbackWait bounds a pump's sleep while tasks are outstanding: a task that
// finished out of order (after a retry) does not wake it.
const fallbackWait = 2 * time.Millisecond

func newPump(cs *chanState) *pump {
	return &pump{cs: cs, buf: make([]task.Task, fillChunk), wake: make(chan struct{}, 1)}
}

// setKernel sizes the tracker for the delivery channel: at most its queue,
// a worker's local queue and as much again outstanding.
func (p *pump) setKernel(k *kernel.Kernel, dslots, lqcap int) {
	p.k, p.dcap = k, uint32(dslots)
	p.in = newInbound(p.cs.cfg.Name, 2*(dslots+lqcap), uint64(p.cs.m.cfg.AckEvery),
		rejects(p.cs.cfg.Type, k.Config().Tenants), p.wake)
	p.cs.in = p.in
}

// offer queues a batch for the pump (the grain's Receive).
func (p *pump) offer(b *clusterpb.Batch, from *actor.PID) {
	p.mu.Lock()
	p.inbox = append(p.inbox, inMsg{b, from})
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

func (p *pump) take(dst []inMsg) []inMsg {
	p.mu.Lock()
	dst = append(dst, p.inbox...)
	clear(p.inbox)
	p.inbox = p.inbox[:0]
	p.mu.Unlock()
	return dst
}

func (p *pump) run() {
	m := p.cs.m
	defer m.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var msgs []inMsg
	var acks []outAck
	for {
		msgs = p.take(msgs[:0])
		acks = acks[:0]
		for _, x := range msgs {
			acks = p.in.accept(x.b, x.from, acks)
		}
		clear(msgs)
		blocked, err := p.in.fill(p, p.buf)
		if err != nil && !errors.Is(err, kernel.ErrChanFull) {
			m.log.Warn("cluster delivery stopped", zap.String("channel", p.cs.cfg.Name), zap.Error(err))
		}
		acks = p.in.scan(acks)
		for _, a := range acks {
			m.sys.Root.Send(a.to, a.ack)
		}
		clear(acks)
		step := uint32(m.cfg.AckEvery)
		if blocked {
			step = max(p.dcap/4, 1) // a quarter of the delivery queue handled: room again
		}
		if !p.in.arm(step) && p.in.fhead != p.in.ftail {
			continue // the oldest outstanding task finished meanwhile
		}
		var tc <-chan time.Time
		if p.in.fhead != p.in.ftail || p.in.pending() {
			timer.Reset(fallbackWait)
			tc = timer.C
		}
		select {
		case <-p.wake:
		case <-tc:
		case <-m.stop:
			return
		}
		p.in.armed.Store(false)
		timer.Stop()
	}
}

// emit, alloc and release make the pump the inbound's emitter.
func (p *pump) emit(ts []task.Task) (int, error) { return p.k.ChanEmitBatch(p.cs.inID, ts) }

func (p *pump) alloc(t *task.Task, b []byte) error {
	h, buf, err := p.k.Alloc(int(t.Tenant), len(b))
	if err != nil {
		return err
	}
	copy(buf, b)
	t.Payload, t.PayloadLen = h, uint32(len(b))
	return nil
}

func (p *pump) release(h uint64) { _ = p.k.Release(h) }

// grain is the consumer grain of a cluster channel (kind Kind(name),
// identity name): a mailbox address for the producers' batches, which it
// hands to its member's pump.
type grain struct{ p *pump }

// Receive implements actor.Actor.
func (g *grain) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *clusterpb.Batch:
		g.p.offer(msg, ctx.Sender())
	case *actor.Started:
		g.p.cs.m.ctr.activations.Add(1)
		g.p.cs.m.log.Info("cluster channel consumer activated", zap.String("channel", g.p.cs.cfg.Name),
			zap.String("pid", ctx.Self().String()))
	}
}
