package cli_test

import (
	"bytes"
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/modules/cli"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	tFail = 5 // always fails with codeBad
	tNone = 6 // has no handler: dropped as UNKNOWN_TYPE
	tTap  = 7 // the tapped channel's type

	codeBad = -9
)

// failing is a module whose handler for tFail fails every task.
func failing() kernel.Module {
	return kernel.Module{Name: "failing", Handlers: []kernel.Handler{{Type: tFail,
		Fn: func(*kernel.Ctx) kernel.Status { return kernel.FailCode(codeBad) }}}}
}

// boot starts a kernel with the cli module (ring of size, tapping
// "probe.out"), the failing module, and another consumer of sys.error with
// a typed handler — the cli module's run-time subscription must not clash
// with it.
func boot(t *testing.T, size int, errs *modtest.Sink) (*kernel.Kernel, *cli.CLI) {
	t.Helper()
	c, err := cli.New(cli.Config{Size: size, Taps: []cli.Tap{{Channel: "probe.out", Type: tTap, Guarantee: kernel.Lossless}}})
	if err != nil {
		t.Fatal(err)
	}
	k := modtest.Boot(t, kernel.BootConfig{MaxTypes: 16, Poison: kernel.PoisonPolicy{Failures: 1 << 20, Window: 1}},
		c.Module(), failing(), errs.Module("errs", kernel.SysError, 3, modtest.LossyFan))
	return k, c
}

// [U2], [U5] The cli module's contract: every task that ends in sys.error
// or sys.dropped, and every task on a tapped channel, is recorded once
// with its type, code, meta and payload preview, in the order taken; every
// task it takes completes, and Errors + Dropped + Tapped == Taken.
func TestU5_CLIRecordsFailuresDropsAndTaps(t *testing.T) {
	var errs modtest.Sink
	k, c := boot(t, 64, &errs)
	const nFail, nDrop, nTap = 10, 4, 6
	for i := range nFail {
		modtest.Submit(t, k, kernel.Task{Type: tFail, Meta0: uint64(i), Meta1: 100 + uint64(i)})
	}
	modtest.WaitFor(t, "the failures", func() bool { return c.Stats().Errors == nFail })
	for i := range nDrop {
		modtest.Submit(t, k, kernel.Task{Type: tNone, Meta0: uint64(i)})
	}
	modtest.WaitFor(t, "the drops", func() bool { return c.Stats().Dropped == nDrop })
	out, err := k.Chan("probe.out")
	if err != nil {
		t.Fatal(err)
	}
	for i := range nTap {
		p := fmt.Appendf(nil, "tap-%d", i)
		h, buf, err := k.Alloc(0, len(p))
		if err != nil {
			t.Fatal(err)
		}
		copy(buf, p)
		if err := k.ChanEmit(out, kernel.Task{Type: tTap, Meta0: uint64(i), Payload: h, PayloadLen: uint32(len(p))}); err != nil {
			t.Fatal(err)
		}
	}
	modtest.WaitFor(t, "the taps", func() bool { return c.Stats().Tapped == nTap })

	st := c.Stats()
	if st.Taken != nFail+nDrop+nTap || st.Kept != nFail+nDrop+nTap || st.Evicted != 0 {
		t.Fatalf("stats %+v", st)
	}
	all := c.Recent(0)
	for i, e := range all {
		if e.Seq != uint64(i+1) {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
	}
	fails := c.Recent(0, cli.KindError)
	if len(fails) != nFail {
		t.Fatalf("%d error entries", len(fails))
	}
	seen := map[uint64]bool{}
	for _, e := range fails {
		if e.Type != tFail || e.Code != codeBad || e.Channel != kernel.SysError || e.Meta1 != 100+e.Meta0 {
			t.Errorf("error entry %+v", e)
		}
		seen[e.Meta0] = true
	}
	if len(seen) != nFail {
		t.Errorf("failures recorded %v, want each of 0..%d once", seen, nFail-1)
	}
	for _, e := range c.Recent(0, cli.KindDropped) {
		if e.Type != tNone || e.Code != kernel.Status(-304) || e.Channel != kernel.SysDropped {
			t.Errorf("drop entry %+v (want UNKNOWN_TYPE)", e)
		}
	}
	taps := c.Recent(0, cli.KindTap)
	for i, e := range taps {
		if e.Channel != "probe.out" || e.Meta0 != uint64(i) || !bytes.Equal(e.Preview(), fmt.Appendf(nil, "tap-%d", i)) {
			t.Errorf("tap entry %d: %+v %q", i, e, e.Preview())
		}
	}
	if got := len(errs.Records()); got != nFail {
		t.Errorf("the other sys.error consumer got %d reports, want %d", got, nFail)
	}
	if r := modtest.Halt(t, k); r.Stats.Errored != nFail || r.Stats.Dropped != nDrop {
		t.Errorf("halt stats %v", r.Stats)
	}
}

// [U5] The ring keeps the newest Size entries; the rest are counted as
// evicted, and Recent(after) resumes after a sequence number.
func TestU5_CLIRingBound(t *testing.T) {
	var errs modtest.Sink
	k, c := boot(t, 8, &errs)
	const n = 30
	for i := range n {
		modtest.Submit(t, k, kernel.Task{Type: tFail, Meta0: uint64(i)})
	}
	modtest.WaitFor(t, "the failures", func() bool { return c.Stats().Taken == n })
	st := c.Stats()
	if st.Kept != 8 || st.Evicted != n-8 || st.Errors != n {
		t.Fatalf("stats %+v", st)
	}
	es := c.Recent(0)
	if len(es) != 8 || es[0].Seq != n-7 || es[7].Seq != n {
		t.Fatalf("kept seqs %d..%d (%d)", es[0].Seq, es[len(es)-1].Seq, len(es))
	}
	if tail := c.Recent(n - 2); len(tail) != 2 || tail[0].Seq != n-1 {
		t.Errorf("Recent(%d) = %d entries", n-2, len(tail))
	}
}

// [U5] An invalid configuration fails Boot through the module's Init.
func TestU5_CLIBadConfig(t *testing.T) {
	if _, err := cli.New(cli.Config{Taps: []cli.Tap{{Channel: kernel.SysError}}}); err == nil {
		t.Error("a tap on sys.error was accepted")
	}
	_, err := kernel.Boot(kernel.BootConfig{Workers: 1, ArenaSize: 1 << 20}, cli.Module(cli.Config{Size: -1}))
	if err == nil {
		t.Fatal("boot with size -1 succeeded")
	}
}
