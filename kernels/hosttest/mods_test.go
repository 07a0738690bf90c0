package hosttest_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
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

// The Go side and the comparison are modtest's twin fixtures.
type (
	out = modtest.Out
	req = modtest.Req
)

var outOf = modtest.OutOf

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

// bootCPU is modtest.BootGoTwin.
func bootCPU(t *testing.T, cfg kernel.BootConfig, mod kernel.Module, outCh string, outType uint32, mode kernel.ChanSpec) *modtest.GoTwin {
	t.Helper()
	return modtest.BootGoTwin(t, cfg, mod, outCh, outType, mode)
}

// same is modtest.Same.
var same = modtest.Same
