// Package abicheck reads the bridge ring ABI as the C compiler lays it out
// (kernels/include/gmk_bridge.h, gmk_task.h) and runs the C reference ring
// (gmk_bridge_ring.h) over Go memory, so that package bridge's tests can check
// the Go mirror against the header, field by field, and the protocol against C
// code, both ways. It is used only by those tests; without cgo it reports
// Available false and the tests skip.
//
// The headers are symbolic links into kernels/include rather than an -I path:
// the go command hashes the .h files of a package directory into its build
// cache key, but not headers reached through -I, so an edited header would
// otherwise leave a stale, cached layout in the test.
package abicheck

// Entry is one fact about the C layout: a sizeof, an offsetof or a constant,
// named as in C ("sizeof(gmk_task_t)", "gmk_bridge_ring_t.tail",
// "GMK_BRIDGE_LINE").
type Entry struct {
	Name  string
	Value uint64
}
