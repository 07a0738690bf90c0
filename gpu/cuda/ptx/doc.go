// Package ptx carries the GMK/gpu kernel image: the PTX of
// kernels/src/gmk_kernel.cu with the generated dispatch over the GPU
// modules, built by cmd/gmk-kbuild for sm_90 and sm_80 and embedded here
// with go:embed ([G4], DESIGN.md decision 7). It has no cgo and links no
// CUDA library, so any binary can carry the image; the CUDA backend
// (gpu/cuda, tag cuda) hands it to the driver, which JIT-compiles it for
// the device at module load.
//
// The PTX files are generated and committed; `make kernels` (or go
// generate in this directory) rebuilds them and `make kernels-check`
// fails when they differ from what the sources produce.
//
// Concurrency: the images are immutable strings; every function is safe
// from any goroutine.
package ptx

//go:generate go run ../../../cmd/gmk-kbuild --kernels ../../../kernels --out .
