package modtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/kernel/task"
)

// The twin tests of the standard GPU modules ([G5]: "same inputs give the
// same outputs"): one task sequence goes to the Go module on a real kernel
// (GoTwin) and to the GPU module — compiled as host C++ (kernels/hosttest)
// or running on a device (gpu/cuda) — and what comes out is compared.

// Out is an output task as both sides compare it: the runtime-owned fields
// (channel, seq, flags, payload reference) are left out.
type Out struct {
	Type    uint32
	Tenant  uint16
	Meta0   uint64
	Meta1   uint64
	Payload string
}

func (o Out) String() string {
	return fmt.Sprintf("{type %d tenant %d meta0 %#x meta1 %#x payload %q}", o.Type, o.Tenant, o.Meta0, o.Meta1, o.Payload)
}

// OutOf returns t with payload p as an Out.
func OutOf(t task.Task, p []byte) Out {
	return Out{Type: t.Type, Tenant: t.Tenant, Meta0: t.Meta0, Meta1: t.Meta1, Payload: string(p)}
}

// Req is one input task with its payload.
type Req struct {
	Task    task.Task
	Payload []byte
}

// GoTwin is a Go module booted on a real kernel with a sink on its output
// channel and one on sys.error.
type GoTwin struct {
	K          *kernel.Kernel
	sink, errs Sink
	Paced      bool // Run waits for each request to be handled before the next
}

// BootGoTwin boots mod (1 worker unless cfg says otherwise; poison off, as
// the sequences fail on purpose) with a sink of outType on channel outCh
// ("" for none) and one on sys.error; the kernel halts at the end of t.
func BootGoTwin(t *testing.T, cfg kernel.BootConfig, mod kernel.Module, outCh string, outType uint32, mode kernel.ChanSpec) *GoTwin {
	t.Helper()
	c := &GoTwin{Paced: true}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	// The sequences fail on purpose, more often than [F3]'s poison rule
	// allows a module in production. (A limit of 1<<30 stalled the kernel:
	// reported.)
	cfg.Poison.Failures = 100000
	mods := []kernel.Module{mod, c.errs.Module("errors", kernel.SysError, 1, LossyFan)}
	if outCh != "" {
		mods = append(mods, c.sink.Module("sink", outCh, outType, mode))
	}
	c.K = Boot(t, cfg, mods...)
	return c
}

// Run emits reqs on channel name in order and waits until nOut outputs and
// nErr failures arrived; then halts the kernel (so nothing more can come)
// and returns both in order.
func (c *GoTwin) Run(t *testing.T, name string, reqs []Req, nOut, nErr int) (outs []Out, codes []kernel.Status) {
	t.Helper()
	ch, err := c.K.Chan(name)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		c.emit(t, ch, r)
		// One request at a time: sys.error is lossy, and a burst of
		// failures could overflow it.
		if c.Paced {
			c.Handled(t, r.Task.Type, i+1)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.sink.Len() < nOut || c.errs.Len() < nErr {
		if time.Now().After(deadline) {
			t.Errorf("the Go module made %d outputs and %d failures; the GPU module %d and %d",
				c.sink.Len(), c.errs.Len(), nOut, nErr)
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	Halt(t, c.K)
	for _, r := range c.sink.Records() {
		outs = append(outs, OutOf(r.Task, r.Payload))
	}
	for _, e := range c.errs.Records() {
		codes = append(codes, e.Code)
	}
	return outs, codes
}

// emit emits r on ch, its payload copied into the kernel's arena.
func (c *GoTwin) emit(t *testing.T, ch kernel.ChanID, r Req) {
	t.Helper()
	x := r.Task
	if len(r.Payload) > 0 {
		h, b, err := c.K.Alloc(int(x.Tenant), len(r.Payload))
		if err != nil {
			t.Fatal(err)
		}
		copy(b, r.Payload)
		x.Payload, x.PayloadLen = h, uint32(len(r.Payload))
	}
	if err := c.K.ChanEmitWait(context.Background(), ch, x); err != nil {
		t.Fatal(err)
	}
}

// Handled waits until n tasks of type typ were handled (succeeded or failed).
func (c *GoTwin) Handled(t *testing.T, typ uint32, n int) {
	t.Helper()
	WaitFor(t, fmt.Sprintf("request %d of type %d handled (%+v)", n, typ, c.K.TypeStats(typ)), func() bool {
		s := c.K.TypeStats(typ)
		return s.OK+s.Fail >= uint64(n)
	})
}

// Same fails the test where the two sides' outputs or failure codes differ.
func Same(t *testing.T, what string, gpu, cpu []Out, gcodes, ccodes []kernel.Status) {
	t.Helper()
	if len(gpu) != len(cpu) {
		t.Errorf("%s: GPU module made %d outputs, Go module %d", what, len(gpu), len(cpu))
	}
	for i := range min(len(gpu), len(cpu)) {
		if gpu[i] != cpu[i] {
			t.Errorf("%s: output %d: GPU %v, Go %v", what, i, gpu[i], cpu[i])
		}
	}
	if fmt.Sprint(gcodes) != fmt.Sprint(ccodes) {
		t.Errorf("%s: failure codes: GPU %v, Go %v", what, gcodes, ccodes)
	}
}

// KVRequests is kv's contract table (modules/kv's test) followed by n
// random requests over a key space larger than the table, as requests of
// type reqType replying on channel replies; every 9th request has no reply
// address, so its failure goes to sys.error / the handler's status.
func KVRequests(reqType uint32, replies kernel.ChanID, n int) []Req {
	type step struct {
		op       sdk.KVOp
		key, val string
	}
	steps := []step{{sdk.KVGet, "a", ""}, {sdk.KVPut, "a", "alpha"}, {sdk.KVGet, "a", ""}, {sdk.KVPut, "a", "ALPHA!"},
		{sdk.KVPut, "b", ""}, {sdk.KVGet, "b", ""}, {sdk.KVPut, "toolongkey", "x"}, {sdk.KVPut, "d", strings.Repeat("v", 17)},
		{sdk.KVDel, "a", ""}, {sdk.KVDel, "a", ""}, {sdk.KVGet, "c", "x"}, {9, "c", ""}}
	rng := rand.New(rand.NewPCG(5, 6))
	for range n {
		s := step{op: sdk.KVOp(1 + rng.IntN(3)), key: fmt.Sprint(rng.IntN(12))}
		if s.op == sdk.KVPut {
			s.val = strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(17))
		}
		steps = append(steps, s)
	}
	reqs := make([]Req, len(steps))
	for i, s := range steps {
		to := sdk.NewReplyTo(replies, uint32(i+1))
		if i%9 == 8 {
			to = 0
		}
		reqs[i] = Req{Task: task.Task{Type: reqType, Tenant: uint16(i % 2), Meta0: uint64(to),
			Meta1: sdk.KVMeta(s.op, len(s.key))}, Payload: []byte(s.key + s.val)}
	}
	return reqs
}
