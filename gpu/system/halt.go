package system

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
)

// Report is what a system Halt found ([K2], [C9] across two kernels).
type Report struct {
	CPU kernel.HaltReport
	// GPU is the GPU kernel's Halt report: the kernel running at the halt
	// (none when a reset left it down), and in GPU.Reaped the kernels that
	// resets had left behind stuck.
	GPU gpu.HaltReport
	// Resets holds what each watchdog reset of the GPU kernel found, in
	// order; a kernel left behind stuck appears with its final (reaped)
	// report, or Lost when it never stopped.
	Resets     []gpu.HaltReport
	Links      []link.Stats // every bridge channel end: the CPU kernel's and every GPU kernel's
	CPUPayload int          // live payload blocks of the CPU kernel after halt
	Quiescent  bool         // the system was idle when the kernels halted: nothing was cut short
}

// InRing returns the tasks of channel name that were published into its
// current ring and never taken out (0 after a quiescent halt): what its
// producers published, less what its consumers took out, less what
// reconnects threw away with the rings of earlier epochs.
func (r Report) InRing(name string) int64 {
	var n int64
	for _, s := range r.Links {
		if s.Chan != name {
			continue
		}
		n -= int64(s.Discarded)
		if s.Dir == link.Out {
			n += int64(s.Sent)
		} else {
			n -= int64(s.Received)
		}
	}
	return n
}

// Redelivered returns the tasks the CPU kernel sent again to a rebooted GPU
// kernel because the one before had not acknowledged them as handled ([F5]).
func (r Report) Redelivered() uint64 {
	var n uint64
	for _, s := range r.Links {
		if s.Dir == link.Out {
			n += s.Redelivered
		}
	}
	return n
}

// Check verifies the accounting identities of the whole system: each
// kernel's ([C9]: created = completed + errored + dropped + queued; a
// kernel lost in a reset has none to check), each bridge channel end's
// (link.Stats: a re-sent task counts once), and, across every channel and
// every GPU kernel incarnation, that no ring holds less than nothing —
// nothing after a quiescent halt, when every task the CPU kernel handed to
// the bridge was also acknowledged as handled by a GPU kernel — so every
// task is counted once, on whichever kernel or bridge it ended.
func (r Report) Check() error {
	ks := []struct {
		id string
		r  gpu.HaltReport
	}{{"cpu", gpu.HaltReport{Kernel: r.CPU}}, {"gpu", r.GPU}}
	for i, g := range r.Resets {
		ks = append(ks, struct {
			id string
			r  gpu.HaltReport
		}{fmt.Sprintf("gpu (reset %d)", i+1), g})
	}
	for _, k := range ks {
		if k.r.Lost {
			continue
		}
		s := k.r.Kernel.Stats
		if s.Created() != s.Completed+s.Errored+s.Dropped+k.r.Kernel.Queued {
			return fmt.Errorf("system: %s kernel: created %d != completed %d + errored %d + dropped %d + queued %d",
				k.id, s.Created(), s.Completed, s.Errored, s.Dropped, k.r.Kernel.Queued)
		}
		if k.r.LivePayloads != 0 {
			return fmt.Errorf("system: %s kernel: %d payloads live after halt", k.id, k.r.LivePayloads)
		}
	}
	names := map[string]bool{}
	for _, s := range r.Links {
		if err := s.Check(); err != nil {
			return err
		}
		names[s.Chan] = true
		if r.Quiescent && s.Dir == link.Out && s.Acks && s.Unacked != 0 {
			return fmt.Errorf("system: bridge channel %s: %d tasks never acknowledged as handled after a quiescent halt", s.Chan, s.Unacked)
		}
	}
	for name := range names {
		if n := r.InRing(name); n < 0 || r.Quiescent && n != 0 {
			return fmt.Errorf("system: bridge channel %s: %d tasks in the ring (sent − received − discarded), quiescent %v", name, n, r.Quiescent)
		}
	}
	if r.CPUPayload != 0 {
		return fmt.Errorf("system: payloads live after halt: cpu %d", r.CPUPayload)
	}
	return nil
}

// Halt halts the system in order ([K2]): it stops the watchdog, waits
// until the system is quiescent — both kernels idle, nothing in flight on
// any bridge channel, everything sent to the GPU kernel acknowledged — then
// stops the CPU kernel's bridge end, halts the GPU kernel (its bridge end
// first; kernels resets left behind are reaped), then the CPU kernel, and
// releases the transports. Producers outside the kernels must have
// stopped. If ctx ends first, the rest is cut short — the kernels stop
// without draining, and what they or the bridge held is counted (queued,
// dropped, abandoned) — and Halt returns ErrBusy with the report. So it
// does at once, without waiting for ctx, when a reset left the GPU kernel
// down (its reboot failed) and the bridge holds tasks only a reboot would
// move; a down system that holds none halts as a quiescent one. The
// report's Check holds either way.
func (s *System) Halt(ctx context.Context) (Report, error) {
	s.stopWatch()
	if s.gw != nil {
		s.gw.stop() // no more messages become tasks
	}
	busy := s.quiesce(ctx)
	s.ep.Stop()
	var r Report
	var errs []error
	g, resets, err := s.haltGPU(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	r.GPU, r.Resets = g, resets
	// Without mu: the CPU kernel's Halt waits for its workers, whose
	// handlers may be calling Links.
	if err := s.cpu.Halt(ctx); err != nil {
		errs = append(errs, err)
	}
	s.ep.Close()
	s.mu.Lock()
	s.closeBridges()
	s.mu.Unlock()
	r.CPU, _ = s.cpu.Halted()
	r.Links = append(s.ep.Stats(), s.final...)
	r.CPUPayload = s.cpu.LivePayloads()
	r.Quiescent = busy == nil
	if busy != nil {
		return r, busy
	}
	if len(errs) > 0 {
		return r, errs[0]
	}
	return r, nil
}

// haltGPU halts the GPU kernel and reaps the kernels resets left behind;
// from then on Links reports their final counts. It returns the GPU
// kernel's report and the resets' (reaped ones final).
func (s *System) haltGPU(ctx context.Context) (gpu.HaltReport, []gpu.HaltReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.gpu.Halt(ctx)
	if s.down && errors.Is(err, gpu.ErrNotBooted) {
		err = nil // a reset left it down: there was only reaping to do
	}
	resets := s.reaped(g.Reaped)
	s.final = nil
	for _, x := range resets {
		s.final = append(s.final, x.Links...)
	}
	s.final = append(s.final, g.Links...)
	s.halted = true
	return g, resets, err
}

// reaped returns the reset reports with each Stuck one replaced, in order,
// by the final report of its kernel from reaped.
func (s *System) reaped(reaped []gpu.HaltReport) []gpu.HaltReport {
	out := slices.Clone(s.resets)
	for i := range out {
		if out[i].Stuck && len(reaped) > 0 {
			out[i], reaped = reaped[0], reaped[1:]
		}
	}
	return out
}

// quiesce waits until the system is idle: both kernels quiescent, every
// task a relay took delivered or dropped, and everything the GPU kernel
// was sent acknowledged, the same on two observations in a row. A task
// moving between a kernel and the bridge is counted by both for a moment,
// never by neither (the relay counts it before its handler returns; the
// pump counts it after the emit), so an idle observation is real. It
// returns nil then, and an error wrapping ErrBusy when ctx ends first.
//
// A GPU kernel that a reset left down (its reboot failed) takes and sends
// nothing: once the CPU kernel is idle and the bridge stands still, what
// the bridge still holds — tasks unacknowledged, or kept for the reboot —
// stays there. quiesce then returns ErrBusy at once rather than wait for
// ctx; with nothing held, the system is idle.
//
// The watchdog has stopped: the GPU kernel stays down, or up, meanwhile.
func (s *System) quiesce(ctx context.Context) error {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	tick := time.NewTicker(100 * time.Microsecond)
	defer tick.Stop()
	var last uint64
	stable := 0
	for {
		moved, busy := settled(s.Links())
		if (!busy || down) && s.cpu.Quiescent() && (down || s.gpu.Quiescent()) && moved == last {
			if stable++; stable == 2 {
				if busy {
					return fmt.Errorf("%w: the GPU kernel is down (a reset whose reboot failed) and the bridge holds tasks only a reboot would move", ErrBusy)
				}
				return nil
			}
		} else {
			stable = 0
		}
		last = moved
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
		case <-tick.C:
		}
	}
}

// settled returns a progress count of the bridge (tasks taken by a relay,
// or out of a ring, delivered or dropped) and whether any task is between
// a relay and its delivery, held for a reconnect, or not yet acknowledged
// — per channel, over every end of it.
func settled(ls []link.Stats) (moved uint64, busy bool) {
	type bal struct{ in, out uint64 }
	per := map[string]*bal{}
	for _, l := range ls {
		b := per[l.Chan]
		if b == nil {
			b = &bal{}
			per[l.Chan] = b
		}
		b.out += l.Discarded
		if l.Dir == link.Out {
			moved += l.Taken
			b.in += l.Taken + l.Redelivered
			b.out += l.Dropped + l.Abandoned
			busy = busy || l.Queued != 0 || l.Acks && l.Unacked != 0
		} else {
			moved += l.Received + l.Delivered + l.Dropped
			b.out += l.Delivered + l.Dropped + l.Abandoned + l.Lost
		}
	}
	for _, b := range per {
		busy = busy || b.in != b.out
	}
	return moved, busy
}
