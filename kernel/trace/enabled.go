//go:build !gmk_notrace

package trace

// Enabled reports whether tracing is compiled in. Kernel code guards every trace
// call with `if trace.Enabled { … }`; building with `-tags gmk_notrace` makes it
// a false constant, so the compiler removes the guarded code and the stripped
// build pays nothing for tracing ([O3]). enabled_notrace.go is the twin.
const Enabled = true
