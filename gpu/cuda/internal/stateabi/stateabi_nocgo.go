//go:build !cgo

package stateabi

// Available reports whether the C layout could be read: not without cgo.
const Available = false

// Entries returns nil without cgo.
func Entries() []Entry { return nil }
