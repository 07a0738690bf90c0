//go:build cuda

package main

import (
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/cuda"
	"github.com/gmkernel/gmk/gpu/sim"
)

// backendFor returns how the daemon makes a backend other than sim: in
// this build, "cuda" is the CUDA backend (gpu/cuda) on device 0, with the
// embedded kernel image for the device. Of the host's geometry
// (daemon.Config.Sim) it takes the kernel's identity, the workers, the
// threads per worker block and the batch size; zero takes the device's
// defaults (as many workers as stay resident). This build links
// gorgonia.org/cu, which exits the process at start when the machine has
// no CUDA device: the host sees the daemon die before its ready line and
// reports what it printed (DESIGN.md decision 7).
func backendFor(name string) (func(string, sim.Config) (gpu.Backend, error), error) {
	if name != "cuda" {
		return nil, nil
	}
	return func(_ string, c sim.Config) (gpu.Backend, error) {
		return cuda.NewBackend(cuda.BackendConfig{ID: c.ID,
			Kernel: cuda.Config{Workers: c.Workers, Threads: c.BlockThreads, Batch: c.BatchSize}})
	}, nil
}
