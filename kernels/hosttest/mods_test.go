package hosttest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/kernels/hosttest"
)

// The equivalence tests of the standard GPU modules ([G5]; issue 5: "same
// inputs give the same outputs"): each feeds one task sequence to the Go
// module on a real kernel (internal/modtest) and to the GPU module's .cuh
// compiled as host C++ (hosttest.Mods), and compares what comes out —
// output tasks (type, tenant, meta words, payload bytes) in order, and the
// failure codes (sys.error reports on the CPU kernel, handler statuses on
// the device) in order.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// out is an output task as both sides compare it: the runtime-owned fields
// (channel, seq, flags, payload reference) are left out.
type out struct {
	Type    uint32
	Tenant  uint16
	Meta0   uint64
	Meta1   uint64
	Payload string
}

func (o out) String() string {
	return fmt.Sprintf("{type %d tenant %d meta0 %#x meta1 %#x payload %q}", o.Type, o.Tenant, o.Meta0, o.Meta1, o.Payload)
}

func outOf(t task.Task, p []byte) out {
	return out{Type: t.Type, Tenant: t.Tenant, Meta0: t.Meta0, Meta1: t.Meta1, Payload: string(p)}
}

// req is one input task with its payload.
type req struct {
	Task    task.Task
	Payload []byte
}

// device runs reqs through the host-compiled GPU modules, in order, at
// device time 0, and returns the host emits and the failure codes (negative
// statuses) in order. Every retryEvery-th request (0: none) first meets a
// full out buffer and is re-run as the kernel re-runs a RETRY; retries
// counts those that returned RETRY.
func device(t *testing.T, m *hosttest.Mods, reqs []req, retryEvery int) (outs []out, codes []kernel.Status, retries int) {
	t.Helper()
	for i, r := range reqs {
		in := r.Task
		in.PayloadLen = uint32(len(r.Payload))
		p := r.Payload
		st, err, run := hosttest.Step{}, error(nil), true
		if retryEvery > 0 && i%retryEvery == 0 {
			if st, err = m.Run(in, p, 0, 0); err != nil {
				t.Fatal(err)
			}
			run = st.Status == int32(kernel.Retry) && len(st.Emits) == 0
			if run { // the kernel re-runs the task as the handler left it
				retries++
				if in = st.After; in.PayloadLen == 0 {
					p = nil
				}
			}
		}
		if run {
			if st, err = m.Run(in, p, 0, 64); err != nil {
				t.Fatal(err)
			}
		}
		if st.Status < 0 {
			codes = append(codes, kernel.Status(st.Status))
		} else if st.Status != 0 {
			t.Fatalf("request %d: status %d", i, st.Status)
		}
		for _, e := range st.Emits {
			if e.Dest != hosttest.DestHost {
				t.Fatalf("request %d: emit to %d, want the host", i, e.Dest)
			}
			outs = append(outs, outOf(e.Task, e.Payload))
		}
	}
	return outs, codes, retries
}

func openMods(t *testing.T, cfg hosttest.ModsConfig) *hosttest.Mods {
	t.Helper()
	if !hosttest.Available {
		t.Skip("built without cgo: the GPU modules cannot be compiled for the host")
	}
	m, err := hosttest.OpenMods(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// cpu is a Go module booted on a real kernel with a sink on its output
// channel and one on sys.error.
type cpu struct {
	k          *kernel.Kernel
	sink, errs modtest.Sink
	paced      bool // run waits for each request to be handled before the next
}

func bootCPU(t *testing.T, cfg kernel.BootConfig, mod kernel.Module, outCh string, outType uint32, mode kernel.ChanSpec) *cpu {
	t.Helper()
	c := &cpu{paced: true}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	// The sequences fail on purpose, more often than [F3]'s poison rule
	// allows a module in production. (A limit of 1<<30 stalled the kernel:
	// reported.)
	cfg.Poison.Failures = 100000
	mods := []kernel.Module{mod, c.errs.Module("errors", kernel.SysError, 1, modtest.LossyFan)}
	if outCh != "" {
		mods = append(mods, c.sink.Module("sink", outCh, outType, mode))
	}
	c.k = modtest.Boot(t, cfg, mods...)
	return c
}

// run emits reqs on channel name in order and waits until nOut outputs and
// nErr failures arrived; then halts the kernel (so nothing more can come)
// and returns both in order.
func (c *cpu) run(t *testing.T, name string, reqs []req, nOut, nErr int) (outs []out, codes []kernel.Status) {
	t.Helper()
	ch, err := c.k.Chan(name)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, r := range reqs {
		x := r.Task
		if len(r.Payload) > 0 {
			h, b, err := c.k.Alloc(int(x.Tenant), len(r.Payload))
			if err != nil {
				t.Fatal(err)
			}
			copy(b, r.Payload)
			x.Payload, x.PayloadLen = h, uint32(len(r.Payload))
		}
		if err := c.k.ChanEmitWait(ctx, ch, x); err != nil {
			t.Fatal(err)
		}
		// One request at a time: sys.error is lossy, and a burst of
		// failures could overflow it.
		if c.paced {
			c.handled(t, x.Type, i+1)
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
	modtest.Halt(t, c.k)
	recs, errs := c.sink.Records(), c.errs.Records()
	for _, r := range recs {
		outs = append(outs, outOf(r.Task, r.Payload))
	}
	for _, e := range errs {
		codes = append(codes, e.Code)
	}
	return outs, codes
}

// handled waits until n tasks of type typ were handled (succeeded or failed).
func (c *cpu) handled(t *testing.T, typ uint32, n int) {
	t.Helper()
	modtest.WaitFor(t, fmt.Sprintf("request %d of type %d handled (%+v)", n, typ, c.k.TypeStats(typ)), func() bool {
		s := c.k.TypeStats(typ)
		return s.OK+s.Fail >= uint64(n)
	})
}

// same fails the test where the two sides differ.
func same(t *testing.T, what string, gpu, cpu []out, gcodes, ccodes []kernel.Status) {
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
