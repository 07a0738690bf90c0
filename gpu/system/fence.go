package system

import (
	"errors"
	"fmt"

	"github.com/gmkernel/gmk/bridge/link"
	"github.com/gmkernel/gmk/kernel"
)

// Tick fences across the CPU and GPU kernels ([D1]; Config.Fence): the two
// deterministic lanes run their ticks in lockstep, and what one kernel's
// deterministic handlers emit on a bridge channel at tick T runs on the
// other at T+1 (link.Fence, kernel.Fence). A reset of the GPU kernel unties
// them: the CPU kernel's lane then runs on its own, and the rebooted GPU
// kernel is not fenced again (its tick starts over at 0, so the two runs
// are no longer one deterministic run).

// ErrFenceBackend reports Config.Fence with a GPU kernel outside this
// process.
var ErrFenceBackend = errors.New("system: tick fences need the GPU kernel in this process (the simulated backend)")

// endpointer is a backend whose kernel's bridge end lives in this process.
type endpointer interface{ Endpoint() *link.Endpoint }

// fence ties the booted kernels' lanes (Boot, with Config.Fence).
func (s *System) fence() error {
	g, ok := s.gpu.(endpointer)
	if !ok || g.Endpoint() == nil {
		return ErrFenceBackend
	}
	unfence, err := link.Fence(s.ep, g.Endpoint())
	if err != nil {
		return fmt.Errorf("system: %w", err)
	}
	s.mu.Lock()
	s.unfence = unfence
	s.mu.Unlock()
	return nil
}

// untie unties fenced lanes before a reset (once).
func (s *System) untie() {
	s.mu.Lock()
	u := s.unfence
	s.unfence = nil
	s.mu.Unlock()
	if u != nil {
		u()
	}
}

// DetStats returns the deterministic lanes' counters of the CPU kernel and
// the GPU kernel (when it runs in this process): their ticks, and with
// Config.Fence, the time each waited for the other (the fence's cost).
func (s *System) DetStats() (cpu, gpu kernel.DetStats) {
	cpu = s.cpu.DetStats()
	if g, ok := s.gpu.(interface{ Kernel() *kernel.Kernel }); ok && g.Kernel() != nil {
		gpu = g.Kernel().DetStats()
	}
	return cpu, gpu
}
