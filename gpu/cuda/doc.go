// Package cuda is the CUDA backend of GMK/gpu (GMK.md §13, DESIGN.md
// decisions 7 and 8): it loads the persistent kernel's PTX
// (kernels/src/gmk_kernel.cu, built by cmd/gmk-kbuild and embedded by
// gpu/cuda/ptx), lays out the kernel's state in device memory ([G2]: LQs,
// GRQ type buckets, the egress ring, the payload slab, statistics, trace
// rings), maps the control block, the heartbeats and the bridge region into
// the device from pinned host memory, launches one resident block per worker
// ([G1]) and stops it with a host-set flag.
//
// Everything that calls the driver is behind the `cuda` build tag:
// gorgonia.org/cu initialises CUDA in its package init and exits the process
// when no device is present, so only the GPU daemon and the GPU benchmark
// link it; a default build of this package holds only the layout mirror
// (state.go) that its ABI test checks.
//
// # Concurrency
//
// A Kernel is owned by one goroutine, locked to its OS thread by Open (the
// driver's current context is per thread): Boot, Launch, Stop, Stats and
// Close are called from it. The bridge transport (Kernel.Bridge) is side A
// of a bridge ring pair in mapped host memory; its Sender and Receiver may
// be used from one other goroutine each, without driver calls. Heartbeats
// reads mapped host memory and is safe from any goroutine.
package cuda
