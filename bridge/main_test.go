package bridge

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/kernel/task"
)

// TestMain doubles as the child process of the cross-process tests: the test
// binary re-executes itself with an environment variable naming the role.
// Otherwise it runs the tests and checks that no goroutine of ours survives.
func TestMain(m *testing.M) {
	if ran, err := MaybeRunBenchChild(); ran {
		exitChild(err)
	}
	if os.Getenv(echoChildEnv) != "" {
		exitChild(runEchoChild())
	}
	goleak.VerifyTestMain(m)
}

func exitChild(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bridge child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// newMem returns the two ends of a mem transport, disconnected at test end.
func newMem(t testing.TB, c Config) (a, b *ringTransport) {
	t.Helper()
	x, y, err := NewMemPair(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close(); y.Close() })
	return x.(*ringTransport), y.(*ringTransport)
}

// formatted returns a region of memory sized and formatted for c, and its
// attached view.
func formatted(t testing.TB, c Config) ([]byte, *region) {
	t.Helper()
	size, err := RegionSize(c)
	if err != nil {
		t.Fatal(err)
	}
	mem := alignedBytes(size)
	if err := Format(mem, c); err != nil {
		t.Fatal(err)
	}
	reg, err := attach(mem)
	if err != nil {
		t.Fatal(err)
	}
	return mem, reg
}

// newMemAt is newMem with every index and sequence of both rings starting at
// start, so that a test crosses the uint64 wrap-around early (as sync's
// poolqueue tests do).
func newMemAt(t testing.TB, c Config, start uint64) (a, b *ringTransport) {
	t.Helper()
	mem, reg := formatted(t, c)
	for _, v := range reg.rings {
		h := v.hdr
		for _, x := range []interface{ Store(uint64) }{&h.tail, &h.head, &h.prodSeq, &h.consSeq} {
			x.Store(start)
		}
		h.stageTail.Store(start &^ stageMask) // staging positions stay StageAlign multiples
		h.stageHead.Store(start &^ stageMask)
		h.startSeq = start
	}
	reg, err := attach(mem) // re-read the geometry with startSeq
	if err != nil {
		t.Fatal(err)
	}
	w := waker{}
	a = newRingTransport("mem", reg, SideA, w, nil)
	b = newRingTransport("mem", reg, SideB, w, nil)
	t.Cleanup(func() { a.Close() })
	return a, b
}

// nearWrap is a start position a few hundred short of the uint64 wrap-around.
const nearWrap = ^uint64(0) - 300

// inline returns an inline task numbered i.
func inline(i int) task.Task {
	return task.Task{Type: 3, Tenant: 1, Meta0: uint64(i), Meta1: ^uint64(i)}
}

// withPayload returns task i with an n-byte payload whose bytes depend on i.
func withPayload(i, n int) (task.Task, []byte) {
	p := make([]byte, n)
	for j := range p {
		p[j] = byte(i*7 + j)
	}
	t := inline(i)
	t.Payload = 0xdead0000 + uint64(i) // the sender's reference: crosses as is
	t.PayloadLen = uint32(n)
	return t, p
}

// waitUntil polls cond until it holds or a generous deadline passes.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
