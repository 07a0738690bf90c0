// Package hosttest runs the GMK/gpu device data structures on the host
// (DESIGN.md decision 8, GMK.md [G2]): the MPMC task ring (gmk_mpmc.h), the
// slab and bump allocators (gmk_slab.h, gmk_bump.h), the per-worker event
// queue (gmk_evq.h) and the bridge ring's C producer and consumer, in both
// slot formats (gmk_bridge_ring.h) are compiled as plain C by cgo — the same source nvcc
// compiles for sm_90 — and stressed under POSIX threads standing in for the
// persistent kernel's worker blocks. No CUDA toolkit or device is needed, so
// these tests run in ordinary CI; the nvcc side is the kernel build's.
//
// Each entry point (MPMC, Slab, Bump, EVQ, Bridge, BridgeLL) builds one structure in
// malloc'd memory, runs the threads, checks the structure's guarantees in C
// (every task exactly once, no block to two holders, due order …) and returns
// what it saw as Stats, or an error naming the first check that failed. A
// run that makes no progress for Config.Timeout (what a lost publication
// looks like) fails, naming what it waited for; a run that is only slow —
// other test binaries keeping the cores busy — goes on (ht_util.h, the hang
// guard). The C harness lives beside this file (ht_*.c); the headers are symbolic links
// into kernels/include, so that the go command hashes them into its build
// cache key (headers reached only through -I are not, and an edited header
// would leave a stale, cached test result).
//
// The standard GPU modules (kernels/modules/kv, reduce, timer, log, gate,
// stats) run here too: OpenMods compiles their .cuh as host C++ (ht_mods.cc)
// against a host build of the handler API — emits captured in order, device
// time a parameter, payload blocks from a host slab — so a test can feed one
// task sequence to a Go module on a real kernel and to its GPU twin and
// compare the outputs (mods_*_test.go).
//
// Concurrency: the entry points are safe to call from several goroutines; each
// call owns its structure and threads, and returns after they have exited.
// The race detector does not see the C code; these tests are its substitute.
//
// Without cgo, Available is false and every entry point returns ErrNoCgo.
package hosttest
