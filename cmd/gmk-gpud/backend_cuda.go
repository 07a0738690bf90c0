//go:build cuda

package main

import (
	"errors"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/sim"
)

// backendFor returns how the daemon makes a backend other than sim. The
// CUDA backend (gpu/cuda) is wired in here once it implements gpu.Backend.
func backendFor(name string) (func(string, sim.Config) (gpu.Backend, error), error) {
	if name != "cuda" {
		return nil, nil
	}
	return nil, errors.New("cuda backend: gpu/cuda does not implement gpu.Backend yet")
}
