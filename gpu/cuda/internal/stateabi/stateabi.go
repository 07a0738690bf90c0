// Package stateabi reads the layout of GMK/gpu's state (kernels/src/
// gmk_state.h and the device structures it points to) as the C compiler lays
// it out, so that package cuda's test can check its Go mirror (state.go)
// field by field. Used only by that test; without cgo Available is false and
// the test says so.
//
// The headers are symbolic links into kernels/ rather than an -I path: the go
// command hashes a package directory's .h files into its build cache key,
// not headers reached through -I (see bridge/internal/abicheck).
package stateabi

// Entry is one fact about the C layout: "sizeof(T)" or "T.field" (offsetof).
type Entry struct {
	Name  string
	Value uint64
}
