//go:build !cuda

package main

import (
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/daemon"
	"github.com/gmkernel/gmk/gpu/sim"
)

// backendFor returns how the daemon makes a backend other than sim. This
// build links no CUDA: --backend cuda is refused with daemon.ErrNoCUDA.
func backendFor(name string) (func(string, sim.Config) (gpu.Backend, error), error) {
	if name == "cuda" {
		return nil, daemon.ErrNoCUDA
	}
	return nil, nil
}
