package system

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// The GPU kernel as an actor ([X6]): a PID for gpu.0 in a protoactor
// ActorSystem. A message sent to it becomes a task on a bridge channel to
// the GPU kernel (ActorConfig.In); the GPU kernel's outputs on another
// bridge channel (ActorConfig.Out) come back as messages to the sender.
//
// The PID's actor lives in the host's ActorSystem for every backend —
// in-process or the GPU daemon — because a message to the GPU kernel must
// travel over the bridge: its task joins the bridge channel's window, is
// acknowledged by the GPU kernel and re-sent after a reset like any other
// ([B4], [F5]). With remote started on that ActorSystem the PID is remote
// too: any actor reaches it as actor.NewPID(address, name). (The daemon's
// own actor is its control path: boot, heartbeats, halt.)
//
// Correlation: an output goes back to the sender of the task whose Meta0
// it carries — the request key, which GPU modules that serve actors keep
// (echo, xform, hang do). A key sent twice before its output came back is
// answered in order. An output whose key no sender waits for — the second
// output of a task handled twice across a reset — is counted as orphaned.

// ActorConfig makes the GPU kernel an actor (Config.Actor).
type ActorConfig struct {
	System *actor.ActorSystem // where the PID lives
	Name   string             // the actor's name; default the GPU kernel's identity ("gpu.0")
	// In is the bridge channel a message's tasks go out on (CPU → GPU), Out
	// the one whose tasks come back as messages (GPU → CPU). The GPU
	// modules declare them (In consumed, Out produced); the system's CPU
	// side of both is the actor's. Default "host.rx" and "host.tx".
	In, Out string
}

// ActorStats counts the GPU kernel actor's traffic.
type ActorStats struct {
	Requests uint64 // tasks emitted onto In for senders
	Rejected uint64 // tasks refused (wrong type, CHAN_FULL, CHAN_CLOSED …): answered in EmitResult
	Replies  uint64 // outputs sent back to their senders
	Orphaned uint64 // outputs no sender waited for
}

// gateway is the actor's kernel-side half: a CPU module producing In and
// consuming Out. pending maps request keys to waiting senders; it is shared
// by the actor (adds) and the Out handler on a kernel worker (takes) under
// mu.
type gateway struct {
	cfg              ActorConfig
	inType, outType  uint32
	in               kernel.ChanID // resolved by Init
	k                *kernel.Kernel
	pid              *actor.PID
	mu               sync.Mutex
	pending          map[uint64][]*actor.PID
	req, rej, rep, o atomic.Uint64
}

// newGateway checks the actor's channels against the GPU modules'
// declarations.
func newGateway(cfg ActorConfig, id string, mods []gpu.Module) (*gateway, error) {
	if cfg.System == nil {
		return nil, errors.New("system: Actor.System is nil")
	}
	if cfg.Name == "" {
		cfg.Name = id
	}
	if cfg.In == "" {
		cfg.In = "host.rx"
	}
	if cfg.Out == "" {
		cfg.Out = "host.tx"
	}
	g := &gateway{cfg: cfg, pending: map[uint64][]*actor.PID{}}
	var inOK, outOK bool
	for _, m := range mods {
		for _, d := range m.Channels {
			switch {
			case d.Name == cfg.In && d.Dir == kernel.Consume && !d.OnError:
				g.inType, inOK = d.Type, true
			case d.Name == cfg.Out && d.Dir == kernel.Produce:
				g.outType, outOK = d.Type, true
			}
		}
	}
	if !inOK || !outOK {
		return nil, fmt.Errorf("system: the GPU actor needs a GPU module consuming %s and one producing %s", cfg.In, cfg.Out)
	}
	return g, nil
}

// module is the gateway's CPU module.
func (g *gateway) module() kernel.Module {
	return kernel.Module{Name: "gpu.actor", Version: "1",
		Channels: []kernel.ChanDecl{
			{Name: g.cfg.In, Dir: kernel.Produce, Type: g.inType, Guarantee: kernel.Lossless},
			{Name: g.cfg.Out, Dir: kernel.Consume, Type: g.outType, Guarantee: kernel.Lossless}},
		Handlers: []kernel.Handler{{Type: g.outType, Name: "reply", Fn: g.reply}},
		Init: func(c *kernel.Ctx) (err error) {
			g.k = c.Kernel()
			g.in, err = g.k.Chan(g.cfg.In)
			return err
		}}
}

// start spawns the actor (after the CPU kernel booted).
func (g *gateway) start() error {
	pid, err := g.cfg.System.Root.SpawnNamed(actor.PropsFromFunc(g.receive), g.cfg.Name)
	if err != nil {
		return fmt.Errorf("system: spawn the GPU actor %s: %w", g.cfg.Name, err)
	}
	g.pid = pid
	return nil
}

// stop stops the actor and waits for it.
func (g *gateway) stop() {
	if g.pid != nil {
		_ = g.cfg.System.Root.StopFuture(g.pid).Wait()
		g.pid = nil
	}
}

// receive is the actor: a *wire.Emit (any sender, local or remote) or a
// kernel.Task (local) becomes tasks on In, each remembered under its Meta0
// for its sender; with a sender, an Emit is answered with a
// *wire.EmitResult (accepted: the prefix emitted).
func (g *gateway) receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *wire.Emit:
		n, err := g.emitBatch(c.Sender(), m.GetBatch())
		if c.Sender() != nil {
			r := &wire.EmitResult{Channel: g.cfg.In, RequestId: m.GetRequestId(), Accepted: uint32(n), Status: wire.Status(err)}
			if err != nil {
				r.Error = err.Error()
			}
			c.Respond(r)
		}
	case kernel.Task:
		var b wire.TaskBatch
		b.Append(m, nil)
		_, _ = g.emitBatch(c.Sender(), &b)
	}
}

// emitBatch emits b's tasks onto In in order, stopping at the first refused.
func (g *gateway) emitBatch(from *actor.PID, b *wire.TaskBatch) (int, error) {
	n := 0
	err := b.Each(func(_ int, t task.Task, p []byte) error {
		if t.Type != g.inType {
			return fmt.Errorf("%w: %s carries type %d, not %d", task.ErrChanTypeMismatch, g.cfg.In, g.inType, t.Type)
		}
		t.Payload, t.PayloadLen = 0, uint32(len(p))
		if len(p) > 0 {
			h, buf, err := g.k.Alloc(int(t.Tenant), len(p))
			if err != nil {
				return err
			}
			copy(buf, p)
			t.Payload = h
		}
		g.wait(t.Meta0, from)
		if err := g.k.ChanEmit(g.in, t); err != nil {
			g.forget(t.Meta0, from)
			if t.Payload != 0 {
				_ = g.k.Release(t.Payload)
			}
			return err
		}
		n++
		return nil
	})
	g.req.Add(uint64(n))
	if err != nil {
		g.rej.Add(uint64(b.Len() - n))
	}
	return n, err
}

// wait remembers that from waits for the output of key.
func (g *gateway) wait(key uint64, from *actor.PID) {
	g.mu.Lock()
	g.pending[key] = append(g.pending[key], from)
	g.mu.Unlock()
}

// forget undoes the last wait of key (its task was refused).
func (g *gateway) forget(key uint64, from *actor.PID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	q := g.pending[key]
	if len(q) > 0 && q[len(q)-1] == from {
		q = q[:len(q)-1]
	}
	if len(q) == 0 {
		delete(g.pending, key)
	} else {
		g.pending[key] = q
	}
}

// take returns the oldest sender waiting for key (nil: none; ok false).
func (g *gateway) take(key uint64) (*actor.PID, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	q, ok := g.pending[key]
	if !ok {
		return nil, false
	}
	if len(q) == 1 {
		delete(g.pending, key)
	} else {
		g.pending[key] = q[1:]
	}
	return q[0], true
}

// reply is the Out handler: the output goes back to its sender as a
// *wire.Delivery of one task with its payload.
func (g *gateway) reply(c *kernel.Ctx) kernel.Status {
	t := *c.Task()
	to, ok := g.take(t.Meta0)
	if !ok || to == nil {
		g.o.Add(1)
		return kernel.OK
	}
	var b wire.TaskBatch
	b.Append(t, c.Payload())
	g.cfg.System.Root.Send(to, &wire.Delivery{Channel: g.cfg.Out, Batch: &b})
	g.rep.Add(1)
	return kernel.OK
}

// PID returns the GPU kernel's actor ([X6]); nil without Config.Actor.
func (s *System) PID() *actor.PID {
	if s.gw == nil {
		return nil
	}
	return s.gw.pid
}

// ActorStats returns the GPU kernel actor's counts (zero without one).
func (s *System) ActorStats() ActorStats {
	if s.gw == nil {
		return ActorStats{}
	}
	g := s.gw
	return ActorStats{Requests: g.req.Load(), Rejected: g.rej.Load(), Replies: g.rep.Load(), Orphaned: g.o.Load()}
}
