package sdktest_test

import (
	"bytes"
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk/sdktest"
	"github.com/gmkernel/gmk/kernel/trace"
	"github.com/gmkernel/gmk/modules/echo"
)

// Every sandbox halts its kernel: no worker survives a test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// [U4] The sandbox captures a module's emits: echo's output (lossless P2P,
// consumed by no module under test) is captured in order with copies of
// the payloads; the trace holds a TASK_START and a TASK_END per handler
// call at level ALL; the allocation stats count the payloads sent, all
// freed at the end; the accounting balances.
func TestU4_SandboxCapturesEmitsTracesAllocs(t *testing.T) {
	const n = 20
	s := sdktest.Boot(t, sdktest.Config{}, echo.Module(echo.Config{}))
	for i := range n {
		s.Send("echo.in", uint64(i), 7, []byte(fmt.Sprintf("p%02d", i)))
	}
	got := s.WaitEmits("echo.out", n)
	if len(got) != n {
		t.Fatalf("captured %d, want %d", len(got), n)
	}
	for i, e := range got {
		if e.Chan != "echo.out" || e.Task.Meta0 != uint64(i) || e.Task.Meta1 != 7 || e.Task.Type != echo.DefaultOutType ||
			!bytes.Equal(e.Payload, []byte(fmt.Sprintf("p%02d", i))) {
			t.Fatalf("emit %d: %+v %q", i, e.Task, e.Payload)
		}
	}
	r := s.Halt()
	// Two handler calls per task: echo's and the capture's (no records when
	// the gmk_notrace build strips tracing).
	if trace.Enabled && (r.Count(trace.TaskStart) != 2*n || r.Count(trace.TaskEnd) != 2*n) {
		t.Fatalf("trace: %d TASK_START, %d TASK_END, want %d each", r.Count(trace.TaskStart), r.Count(trace.TaskEnd), 2*n)
	}
	if r.Alloc.Block.Allocs != n || r.Alloc.Block.Frees != n || r.LivePayloads != 0 {
		t.Fatalf("alloc: %+v live %d, want %d allocations, all freed", r.Alloc.Block, r.LivePayloads, n)
	}
	if r.Stats.Completed != r.Stats.Created() || r.Stats.Errored+r.Stats.Dropped != 0 {
		t.Fatalf("stats %v", r.Stats)
	}
	if again := s.Halt(); again.Stats != r.Stats {
		t.Fatal("a second Halt gave another report")
	}
}

// [U4] A module that keeps a payload is seen at Halt: one live payload.
func TestU4_SandboxReportsLivePayloads(t *testing.T) {
	var kept uint64
	keep := kernel.Module{Name: "keep", Handlers: []kernel.Handler{{Type: 1000, Fn: func(c *kernel.Ctx) kernel.Status {
		if kept == 0 {
			kept, _ = c.PayloadRetain() // never released
		}
		return kernel.OK
	}}}, Channels: []kernel.ChanDecl{{Name: "keep.in", Dir: kernel.Consume, Type: 1000, Guarantee: kernel.Lossless}}}
	s := sdktest.Boot(t, sdktest.Config{Boot: kernel.BootConfig{Workers: 1}}, keep)
	s.Send("keep.in", 0, 0, []byte("kept"))
	s.Send("keep.in", 1, 0, []byte("freed"))
	if r := s.Halt(); r.LivePayloads != 1 || r.Alloc.Block.Allocs != 2 {
		t.Fatalf("live %d, allocs %d; want 1 and 2", r.LivePayloads, r.Alloc.Block.Allocs)
	}
}
