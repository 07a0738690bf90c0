package ring

import (
	"testing"

	"go.uber.org/goleak"
)

// The stress tests start goroutines; every one must be gone when they return.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// queue is the method set MPMC and SPSC share; the tests run one table over both.
type queue[T any] interface {
	Push(v *T) bool
	Pop(v *T) bool
	PushBatch(vs []T) int
	PopBatch(dst []T) int
	Len() int
	Cap() int
}

var (
	_ queue[uint64] = (*MPMC[uint64])(nil)
	_ queue[uint64] = (*SPSC[uint64])(nil)
)

// nearWrap is a start position a few laps short of the uint64 wrap-around, so
// that a test crosses it early on (as sync's poolqueue tests do).
const nearWrap = ^uint64(0) - 100

// ringKind builds one kind of ring for the table-driven tests: capacity is
// rounded as by the public constructors, start is the first position (the
// arena-backed kind ignores it).
type ringKind struct {
	name string
	new  func(capacity int, start uint64) queue[uint64]
}

var ringKinds = []ringKind{
	{"MPMC", func(c int, s uint64) queue[uint64] { return newMPMCAt[uint64](c, s) }},
	{"SPSC", func(c int, s uint64) queue[uint64] { return newSPSCAt[uint64](c, s) }},
	{"SPSCIn", func(c int, _ uint64) queue[uint64] {
		n := roundCapacity(c)
		return NewSPSCIn[uint64](make([]byte, n*8+7)) // +7: room to align, not enough for more cells
	}},
}
