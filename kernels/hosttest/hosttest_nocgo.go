//go:build !cgo

package hosttest

// Available reports whether the device structures were compiled as C: false
// without cgo.
const Available = false

// run returns ErrNoCgo: without cgo there is no C to run.
func run(structure, Config) (Stats, error) { return Stats{}, ErrNoCgo }
