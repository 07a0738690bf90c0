package gpu_test

import (
	"strings"
	"testing"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
)

// [M1] [G3] A GPU module is validated before boot: a handler needs a
// function, one granularity, shared memory within a block's, and a plain
// kernel handler (FromKernel) cannot claim WARP or BLOCK lanes it never sees.
func TestG3_ModuleValidate(t *testing.T) {
	fn := func(*kernel.Ctx, gpu.Lane) kernel.Status { return kernel.OK }
	plain := func(*kernel.Ctx) kernel.Status { return kernel.OK }
	cases := []struct {
		m    gpu.Module
		want string // "" = valid
	}{
		{gpu.Module{Name: "ok", Handlers: []gpu.Handler{{Type: 1, Fn: fn, Flags: kernel.Warp}}}, ""},
		{gpu.FromKernel(kernel.Module{Name: "cpu", Handlers: []kernel.Handler{{Type: 1, Fn: plain}}}), ""},
		{gpu.Module{Name: "nofn", Handlers: []gpu.Handler{{Type: 1}}}, "no function"},
		{gpu.Module{Name: "both", Handlers: []gpu.Handler{{Type: 1, Fn: fn, Flags: kernel.Warp | kernel.Block}}}, "both WARP and BLOCK"},
		{gpu.Module{Name: "big", Handlers: []gpu.Handler{{Type: 1, Fn: fn, SharedBytes: gpu.MaxShared + 1}}}, "shared memory"},
		{gpu.FromKernel(kernel.Module{Name: "cpuwarp", Handlers: []kernel.Handler{{Type: 1, Fn: plain, Flags: kernel.Warp}}}), "no lane function"},
	}
	for _, c := range cases {
		err := c.m.Validate()
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: Validate() = %v, want %q", c.m.Name, err, c.want)
		}
	}
	if h := gpu.FromKernel(kernel.Module{Handlers: []kernel.Handler{{Type: 1, Fn: plain}}}).Handlers[0]; h.Plain() == nil || h.Granularity(128) != 1 {
		t.Fatal("FromKernel does not keep the plain handler as SCALAR")
	}
}
