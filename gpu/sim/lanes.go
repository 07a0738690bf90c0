package sim

import (
	"sync/atomic"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
)

// worker is the simulator's state of one worker block: its heartbeat and its
// shared memory.
//
// beat is written only by the worker's goroutine (two adds per task, on a
// line of its own) and read by Heartbeat: odd while a handler runs, even
// between tasks. idle is advanced by Heartbeat for a worker found between
// tasks: a GPU worker with nothing to do spins, and its heartbeat advances
// every loop; a parked goroutine stands for it, so the sampler credits the
// beat the spin would have made. A worker inside one handler call across
// two samples — a hung handler — is the one whose beats stand still.
type worker struct {
	beat   atomic.Uint64
	idle   atomic.Uint64
	shared []byte // worker goroutine only: the block's shared memory ([G4]: the largest handler's)
	_      [64]byte
}

// wrap turns a GPU handler into the kernel's handler: it emulates the
// handler's granularity ([G3], gpu.Lane) and keeps the worker's heartbeat.
// (The bridge endpoint learns from the kernel which deliveries it is done
// with, handler or not: link's Endpoint.Module.)
func (s *Sim) wrap(h gpu.Handler, ws []worker) kernel.HandlerFunc {
	run := s.lanes(h, ws)
	return func(c *kernel.Ctx) kernel.Status {
		w := &ws[c.Worker()]
		w.beat.Add(1)       // odd: in a handler
		defer w.beat.Add(1) // even again, after a panic too
		return run(c, w)
	}
}

// lanes returns the call of a GPU handler on worker w: the plain function,
// or its lanes ([G3], gpu.Lane).
func (s *Sim) lanes(h gpu.Handler, ws []worker) func(c *kernel.Ctx, w *worker) kernel.Status {
	width := h.Granularity(s.cfg.BlockThreads)
	plain, fn, shared := h.Plain(), h.Fn, h.SharedBytes
	return func(c *kernel.Ctx, w *worker) kernel.Status {
		if plain != nil {
			return plain(c)
		}
		sh := w.shared[:shared]
		if width == 1 { // SCALAR: this task is lane `run` of its sub-batch
			run, n := c.Run()
			if run == 0 {
				clear(sh)
			}
			return fn(c, gpu.Lane{ID: run, Width: n, Shared: sh})
		}
		clear(sh)
		st := kernel.OK
		for lane := range width {
			if r := fn(c, gpu.Lane{ID: lane, Width: width, Shared: sh}); r != kernel.OK && st == kernel.OK {
				st = r
			}
		}
		return st
	}
}

// module converts a GPU module into the kernel module the simulated kernel
// boots.
func (s *Sim) module(m gpu.Module, ws []worker) kernel.Module {
	km := kernel.Module{Name: m.Name, Version: m.Version, Channels: m.Channels, Init: m.Init, Fini: m.Fini}
	for _, h := range m.Handlers {
		km.Handlers = append(km.Handlers, kernel.Handler{Type: h.Type, Name: h.Name, Flags: h.Flags,
			SharedBytes: h.SharedBytes, Fn: s.wrap(h, ws)})
	}
	return km
}

// heartbeat samples the workers ws (see worker).
func heartbeat(ws []worker) []uint64 {
	out := make([]uint64, len(ws))
	for i := range ws {
		w := &ws[i]
		b := w.beat.Load()
		if b&1 == 0 {
			w.idle.Add(1)
		}
		out[i] = b/2 + w.idle.Load()
	}
	return out
}
