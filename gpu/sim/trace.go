package sim

import (
	"sync"
	"time"

	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/trace"
)

// GPU traces to the CPU ([O4]). When the kernel boots with a wire for
// gpu.TraceChan that it produces, the simulator declares the channel (its
// tracer module) and runs a trace pump: every TraceEvery it drains the
// kernel's per-worker trace rings — without stalling the workers
// (Kernel.DrainTrace) — and emits each worker's records, up to
// gpu.TraceBatch per task, as payloads on the channel; the bridge carries
// them to the CPU kernel. The channel is lossy: a full one drops, counted by
// the kernel. The tracer and the bridge's relay trace nothing themselves
// (level OFF), but a shipment still makes the kernel record its own
// housekeeping when the kernel module traces at INFO or above: the drain of
// the trace channel, the wake-up and park of the worker that runs the relay.
// Shipped at once, those records would make the next shipment, and so on for
// ever, one every TraceEvery: the bridge would never go quiet, and a system
// halt, which waits for a quiet bridge, would wait out its deadline (it did:
// TestO4_GPUTracesOverBridge, halts of 5–60 s). So the pump holds a tick's
// records while they are only such housekeeping (idle), and ships them with
// the next records that are not, or once a worker's buffer fills a task
// (gpu.TraceBatch). Housekeeping still held when the pump stops is not
// shipped, like anything recorded after its last tick.
//
// The pump is the kernel's only trace drainer while it runs; it is stopped
// before the kernel halts or resets.

// tracerName is the tracer module's name.
const tracerName = "gpu.trace"

// traceWire returns the wire of the trace channel this kernel produces.
func (s *Sim) traceWire(ws []link.Wire) (link.Wire, bool) {
	for _, w := range ws {
		if w.Chan.Spec.Name == gpu.TraceChan && w.Chan.From == s.cfg.ID {
			return w, true
		}
	}
	return link.Wire{}, false
}

// tracer is the module that declares the trace channel as produced here.
func tracer(w link.Wire) gpu.Module {
	sp := w.Chan.Spec
	return gpu.Module{Name: tracerName, Version: "1", Channels: []kernel.ChanDecl{{Name: sp.Name, Dir: kernel.Produce,
		Type: sp.Type, Mode: sp.Mode, Guarantee: sp.Guarantee, Slots: sp.Slots}}}
}

// tracePump is the goroutine that ships the kernel's trace records.
type tracePump struct {
	k    *kernel.Kernel
	id   kernel.ChanID
	typ  uint32
	stop chan struct{}
	wg   sync.WaitGroup
	recs [][]trace.Record // per worker, pump goroutine only
}

// startTracePump starts the pump of k's channel w (after Boot).
func startTracePump(k *kernel.Kernel, w link.Wire, every time.Duration, relay string) (*tracePump, error) {
	id, err := k.Chan(w.Chan.Spec.Name)
	if err != nil {
		return nil, err
	}
	for _, m := range []string{tracerName, relay} {
		_ = k.SetTraceLevel(m, trace.Off)
	}
	p := &tracePump{k: k, id: id, typ: w.Chan.Spec.Type, stop: make(chan struct{}), recs: make([][]trace.Record, k.Config().Workers)}
	p.wg.Add(1)
	go p.run(every)
	return p, nil
}

func (p *tracePump) run(every time.Duration) {
	defer p.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		busy := false
		p.k.DrainTrace(func(worker int, r *trace.Record) {
			p.recs[worker] = append(p.recs[worker], *r)
			busy = busy || !idle(r.Event)
		})
		if !busy && !p.full() {
			continue // only the kernel's housekeeping: held (see above)
		}
		for w, rs := range p.recs {
			for len(rs) > 0 {
				n := min(len(rs), gpu.TraceBatch)
				p.ship(w, rs[:n])
				rs = rs[n:]
			}
			p.recs[w] = p.recs[w][:0]
		}
	}
}

// idle reports whether e is housekeeping that a shipment itself makes the
// kernel record.
func idle(e trace.Event) bool {
	return e == trace.WorkerPark || e == trace.WorkerWake || e == trace.ChanDrain
}

// full reports whether a worker's held records fill a task.
func (p *tracePump) full() bool {
	for _, rs := range p.recs {
		if len(rs) >= gpu.TraceBatch {
			return true
		}
	}
	return false
}

// ship emits one task of worker w's records; a full channel or an arena
// without room loses them (the channel is lossy; counted by the kernel when
// it drops).
func (p *tracePump) ship(w int, rs []trace.Record) {
	h, b, err := p.k.Alloc(0, len(rs)*trace.RecordSize)
	if err != nil {
		return
	}
	gpu.PutTraceRecords(b, rs)
	t := kernel.Task{Type: p.typ, Meta0: uint64(w), Meta1: uint64(len(rs)), Payload: h, PayloadLen: uint32(len(b))}
	if err := p.k.ChanEmit(p.id, t); err != nil {
		_ = p.k.Release(h)
	}
}

// halt stops the pump and waits for it.
func (p *tracePump) halt() {
	if p != nil {
		close(p.stop)
		p.wg.Wait()
	}
}
