//go:build gmk_notrace

package trace

// Enabled reports whether tracing is compiled in. This is the stripped build
// (`-tags gmk_notrace`): the constant is false, so every `if trace.Enabled { … }`
// guard in kernel code is removed by the compiler and tracing costs nothing
// ([O3]). enabled.go is the twin.
const Enabled = false
