// Package cuda is the CUDA backend of GMK/gpu (GMK.md §13, DESIGN.md
// decisions 7 and 8): it loads the persistent kernel's PTX
// (kernels/src/gmk_kernel.cu, built by cmd/gmk-kbuild and embedded by
// gpu/cuda/ptx), lays out the kernel's state in device memory ([G2]: LQs,
// GRQ type buckets, the egress ring, the payload slab, statistics, trace
// rings), maps the control block, the heartbeats and the bridge region into
// the device from pinned host memory, launches one resident block per worker
// ([G1]) and stops it with a host-set flag.
//
// Two levels:
//
//	Kernel    one device kernel: Open, Boot (its own bridge region) or
//	          BootRegion (the caller's), Launch, Stop, Stats, Close; the
//	          device tests and cmd/gmk-gpu-bench drive it directly
//	Backend   a gpu.Backend ("cuda") and gpu.Bridger over Kernel: what
//	          gmk-gpud --backend cuda runs, and what gpu/system boots in
//	          process; its bridge regions are memfds (bridge.Shm) registered
//	          with the driver, its Ack cells in a registered page
//
// The device kernel serves one bridge pair, host.rx and host.tx, and runs
// the GPU modules compiled into its image (ImageModules): a Backend boots
// with at most one bridge channel each way, and only modules of the image.
//
// Everything that calls the driver is behind the `cuda` build tag:
// gorgonia.org/cu initialises CUDA in its package init and exits the process
// when no device is present, so only the GPU daemon and the GPU benchmark
// link it; a default build of this package holds only the layout mirror
// (state.go) that its ABI test checks, and ImageModules.
//
// # Concurrency
//
// A Kernel is owned by one goroutine, locked to its OS thread by Open (the
// driver's current context is per thread): Boot, Launch, Stop, Stats and
// Close are called from it. The bridge transport (Kernel.Bridge) is side A
// of a bridge ring pair in mapped host memory; its Sender and Receiver may
// be used from one other goroutine each, without driver calls. Heartbeats
// reads mapped host memory and is safe from any goroutine.
//
// A Backend has one owner for Boot, Halt, Reset, NewBridge and RenewBridge;
// Heartbeat, Quiescent, Links and Info are safe from any goroutine. Each
// booted kernel gets a goroutine locked to its own OS thread that makes all
// of its driver calls, so the Backend's callers may be any goroutines (the
// GPU daemon's actor runs on whichever its mailbox gets); it ends with Halt
// or Reset. A kernel whose workers do not stop cannot be recovered inside
// the process (Kernel.Close): Reset reports it Lost and the Backend refuses
// to boot again (ErrBroken) — the GPU daemon's host kills and restarts the
// daemon instead.
package cuda
