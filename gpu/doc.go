// Package gpu is GMK/gpu as the host sees it (GMK.md §13): the Backend
// interface of a GPU kernel — boot with a module set and its ends of the
// bridge channels, heartbeats, reset, halt, device information — and the
// GPU module structure: modules whose handlers run as lanes of a warp or a
// block ([G3], Lane).
//
// # Packages
//
//	gpu          Backend, Info, Heartbeat, Module, Handler, Lane, Bridge (transports), trace records ([O4])
//	gpu/sim      the simulated GPU kernel: a GMK kernel with the GPU policy, in process
//	gpu/daemon   a GPU kernel in the GPU daemon (cmd/gmk-gpud): shared-memory bridge, protoactor control path
//	gpu/gpumod   GPU modules in Go (Xform: WARP, Checksum: BLOCK)
//	gpu/system   dual-kernel boot: the CPU kernel and a GPU kernel joined by bridge channels; watchdog, reboot
//
// A GPU kernel is a peer of the CPU kernel (DESIGN.md decision 6): the two
// share nothing but the bridge (package bridge, and bridge/link for bridge
// channels). The CUDA backend (a persistent device kernel) and the GPU
// daemon, which hosts a backend in its own process and is driven over
// protoactor remote (DESIGN.md decision 7), implement the same Backend. A
// backend may make its own bridge transports (Bridger: the daemon's are
// shared memory) and may die on its own (Mortal: the daemon's process);
// MemBridge and RenewMemBridge make the in-memory ones, and their
// successors after a reset.
//
// # Concurrency
//
// A Backend has one owner, which calls Boot, Halt and Reset; Heartbeat,
// Quiescent, Links and Info may be called from any goroutine (a watchdog
// samples heartbeats while the owner works). Module values are plain data
// until booted; a booted module's handlers obey the kernel's rules.
package gpu
