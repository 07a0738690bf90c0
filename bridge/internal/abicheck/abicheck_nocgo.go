//go:build !cgo

package abicheck

// Available reports whether the C layout could be read: not without cgo.
const Available = false

// Entries returns nil without cgo.
func Entries() []Entry { return nil }

// Produce is unavailable without cgo; it returns 0.
func Produce([]byte, uint32, int64, int64) int64 { return 0 }

// Consume is unavailable without cgo; it returns 0, 0.
func Consume([]byte, uint32, int64) (int64, uint64) { return 0, 0 }

// ProduceLL is unavailable without cgo; it returns 0.
func ProduceLL([]byte, uint32, int64, int64) int64 { return 0 }

// ConsumeLL is unavailable without cgo; it returns 0, 0.
func ConsumeLL([]byte, uint32, int64) (int64, uint64) { return 0, 0 }
