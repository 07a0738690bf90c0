// Package gpumod holds GPU modules written in Go for the simulated GPU
// kernel ([G5]): lane handlers (gpu.Handler) with the granularity a device
// kernel would give them, so that the same pipeline runs on the simulated
// kernel now and on the CUDA one later.
//
//	Xform     WARP   host.rx → host.tx: upper-case the payload in place, meta1 = meta0 × Scale
//	Checksum  BLOCK  sum.in → sum.out: a block reduction of the payload's bytes
//
// The standard modules of modules/ (echo, kv, reduce …) implement the GPU
// modules' contracts as CPU-style modules; gpu.FromKernel runs them on the
// simulated GPU kernel as SCALAR handlers, so they are not repeated here.
//
// # Concurrency
//
// A module's handlers run on the GPU kernel's workers, one task at a time
// per subscription (its lanes one after another, gpu.Lane). The modules
// keep no state beyond the output channel id resolved in Init.
package gpumod
