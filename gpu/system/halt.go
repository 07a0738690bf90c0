package system

import (
	"context"
	"fmt"
	"time"

	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
)

// Report is what a system Halt found ([K2], [C9] across two kernels).
type Report struct {
	CPU        kernel.HaltReport
	GPU        gpu.HaltReport
	Links      []link.Stats // both ends of every bridge channel
	CPUPayload int          // live payload blocks of the CPU kernel after halt
	Quiescent  bool         // the system was idle when the kernels halted: nothing was cut short
}

// InRing returns the tasks of channel name that were published into its ring
// and never taken out (0 after a quiescent halt).
func (r Report) InRing(name string) uint64 {
	var sent, received uint64
	for _, s := range r.Links {
		if s.Chan == name {
			sent += s.Sent
			received += s.Received
		}
	}
	return sent - received
}

// Check verifies the accounting identities of the whole system: each
// kernel's ([C9]: created = completed + errored + dropped + queued), each
// bridge channel end's (link.Stats), and, across every channel, that what
// its relay took was delivered, dropped, abandoned or is still in its ring —
// so every task is counted once, on whichever kernel or bridge it ended.
func (r Report) Check() error {
	for _, k := range []struct {
		id string
		r  kernel.HaltReport
	}{{"cpu", r.CPU}, {"gpu", r.GPU.Kernel}} {
		s := k.r.Stats
		if s.Created() != s.Completed+s.Errored+s.Dropped+k.r.Queued {
			return fmt.Errorf("system: %s kernel: created %d != completed %d + errored %d + dropped %d + queued %d",
				k.id, s.Created(), s.Completed, s.Errored, s.Dropped, k.r.Queued)
		}
	}
	ends := map[string][2]uint64{} // channel → taken, accounted
	for _, s := range r.Links {
		if err := s.Check(); err != nil {
			return err
		}
		e := ends[s.Chan]
		if s.Dir == link.Out {
			e[0] += s.Taken
			e[1] += s.Dropped + s.Abandoned + s.Queued
		} else {
			e[1] += s.Delivered + s.Dropped + s.Abandoned + s.Pending
		}
		ends[s.Chan] = e
	}
	for name, e := range ends {
		if e[0] != e[1]+r.InRing(name) {
			return fmt.Errorf("system: bridge channel %s: taken %d != delivered, dropped, abandoned, queued %d + in the ring %d",
				name, e[0], e[1], r.InRing(name))
		}
	}
	if r.CPUPayload != 0 || r.GPU.LivePayloads != 0 {
		return fmt.Errorf("system: payloads live after halt: cpu %d, gpu %d", r.CPUPayload, r.GPU.LivePayloads)
	}
	return nil
}

// Halt halts the system in order ([K2]): it waits until the system is
// quiescent — both kernels idle and nothing in flight on any bridge
// channel — then stops the CPU kernel's bridge end, halts the GPU kernel
// (its bridge end first), then the CPU kernel, and releases the
// transports. Producers outside the kernels must have stopped. If ctx ends
// first, the rest is cut short — the kernels stop without draining, and
// what they or the bridge held is counted (queued, dropped, abandoned) —
// and Halt returns ErrBusy with the report. The report's Check holds
// either way.
func (s *System) Halt(ctx context.Context) (Report, error) {
	quiet := s.quiesce(ctx)
	s.ep.Stop()
	var r Report
	var errs []error
	var g gpu.HaltReport
	if rr := s.reset.Load(); rr != nil {
		g = *rr // the watchdog reset it: nothing left to halt
	} else {
		var err error
		if g, err = s.gpu.Halt(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	r.GPU = g
	if err := s.cpu.Halt(ctx); err != nil {
		errs = append(errs, err)
	}
	s.ep.Close()
	for _, t := range s.trs {
		_ = t.Close()
	}
	r.CPU, _ = s.cpu.Halted()
	r.Links = append(s.ep.Stats(), g.Links...)
	r.CPUPayload = s.cpu.LivePayloads()
	r.Quiescent = quiet
	if !quiet {
		return r, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
	if len(errs) > 0 {
		return r, errs[0]
	}
	return r, nil
}

// quiesce waits until the system is idle: both kernels quiescent and every
// task a relay took delivered or dropped, the same on two observations in a
// row. A task moving between a kernel and the bridge is counted by both for
// a moment, never by neither (the relay counts it before its handler
// returns; the pump counts it after the emit), so an idle observation is
// real. It returns false when ctx ends first.
func (s *System) quiesce(ctx context.Context) bool {
	tick := time.NewTicker(100 * time.Microsecond)
	defer tick.Stop()
	var last uint64
	stable := 0
	for {
		moved, busy := s.inFlight()
		if !busy && s.cpu.Quiescent() && s.gpu.Quiescent() && moved == last {
			if stable++; stable == 2 {
				return true
			}
		} else {
			stable = 0
		}
		last = moved
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// inFlight returns a progress count of the bridge (tasks taken) and whether
// any task is between a relay and its delivery.
func (s *System) inFlight() (moved uint64, busy bool) {
	var taken, ended uint64
	for _, l := range s.Links() {
		if l.Dir == link.Out {
			taken += l.Taken
			ended += l.Dropped + l.Abandoned
		} else {
			ended += l.Delivered + l.Dropped + l.Abandoned
		}
	}
	return taken, taken != ended
}
