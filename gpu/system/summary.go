package system

import (
	"fmt"
	"strings"

	"github.com/gmkernel/gmk/bridge/link"
)

// Summary is the boot summary of a system ([K1]): its kernels and its bridge
// channels with their transports.
type Summary struct {
	Kernels []KernelSummary
	Bridges []BridgeSummary
}

// KernelSummary describes one booted kernel.
type KernelSummary struct {
	ID      string // [K3] identity
	Role    string // peripheral (CPU) or compute (GPU)
	Backend string // "cpu", or the GPU backend's kind ("sim")
	Workers int
	Threads int // threads per worker block (GPU kernels)
	Modules int // the system's modules on it (the bridge's relay not counted)
	Sched   string
	Why     string // why this backend, when boot chose it (the simulated kernel: "no GPU: …"); not in String, which stays machine-independent
}

// BridgeSummary describes one bridge channel.
type BridgeSummary struct {
	Chan      link.Chan
	Transport string // "mem", "shm"
}

func newSummary(s *System, cpuMods, gpuMods int) Summary {
	c := s.cpu.Config()
	info := s.gpu.Info()
	sum := Summary{Kernels: []KernelSummary{
		{ID: c.ID, Role: c.Role, Backend: "cpu", Workers: c.Workers, Modules: cpuMods,
			Sched: fmt.Sprintf("%s, batch %d", c.Policy, c.BatchSize)},
		{ID: info.ID, Role: "compute", Backend: info.Backend, Workers: info.Workers, Threads: info.BlockThreads,
			Modules: gpuMods, Sched: fmt.Sprintf("grq, batches of %d sorted by type", info.BatchSize)},
	}}
	for _, w := range s.chans {
		kind := ""
		for _, l := range s.ep.Stats() {
			if l.Chan == w.Spec.Name {
				kind = l.Transport
			}
		}
		sum.Bridges = append(sum.Bridges, BridgeSummary{Chan: w, Transport: kind})
	}
	return sum
}

// String renders the summary as the boot banner:
//
//	GMK/cpu.0 booted | peripheral | 2 workers | 2 modules | rq, batch 32
//	GMK/gpu.0 booted (sim) | compute | 4 workers × 128 threads | 1 module | grq, batches of 32 sorted by type
//	bridge channels: 2 (host.rx, host.tx)
//	  host.rx  cpu.0 → gpu.0  p2p/lossless  type 990  mem
//	  host.tx  gpu.0 → cpu.0  p2p/lossless  type 991  mem
func (s Summary) String() string {
	var b strings.Builder
	for _, k := range s.Kernels {
		fmt.Fprintf(&b, "GMK/%s booted", k.ID)
		if k.Backend != "cpu" {
			fmt.Fprintf(&b, " (%s)", k.Backend)
		}
		fmt.Fprintf(&b, " | %s | %d workers", k.Role, k.Workers)
		if k.Threads > 0 {
			fmt.Fprintf(&b, " × %d threads", k.Threads)
		}
		fmt.Fprintf(&b, " | %d module%s | %s\n", k.Modules, plural(k.Modules), k.Sched)
	}
	names := make([]string, len(s.Bridges))
	for i, br := range s.Bridges {
		names[i] = br.Chan.Spec.Name
	}
	fmt.Fprintf(&b, "bridge channels: %d (%s)\n", len(s.Bridges), strings.Join(names, ", "))
	for _, br := range s.Bridges {
		sp := br.Chan.Spec
		typ := fmt.Sprint(sp.Type)
		if sp.Type == ^uint32(0) {
			typ = "any"
		}
		fmt.Fprintf(&b, "  %-10s %s → %s  %s/%s  type %s  %s\n", sp.Name, br.Chan.From, br.Chan.To,
			sp.Mode, sp.Guarantee, typ, br.Transport)
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
