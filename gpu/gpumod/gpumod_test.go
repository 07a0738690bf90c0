package gpumod_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/gpumod"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/kernel"
)

// sink collects a channel's tasks and payloads on the GPU kernel.
type sink struct {
	mu    sync.Mutex
	tasks []kernel.Task
	data  []string
}

func (s *sink) module(ch string, typ uint32) gpu.Module {
	return gpu.FromKernel(kernel.Module{Name: "sink", Handlers: []kernel.Handler{{Type: typ, Fn: func(c *kernel.Ctx) kernel.Status {
		s.mu.Lock()
		s.tasks = append(s.tasks, *c.Task())
		s.data = append(s.data, string(c.Payload()))
		s.mu.Unlock()
		return kernel.OK
	}}}, Channels: []kernel.ChanDecl{{Name: ch, Dir: kernel.Consume, Type: typ, Guarantee: kernel.Lossless}}})
}

func (s *sink) len() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.tasks) }

// run boots a simulated GPU kernel with mods, emits payloads on channel in
// (type typ) from outside, waits for want results in out and halts.
func run(t *testing.T, mods []gpu.Module, in string, typ uint32, payloads []string, out *sink) {
	t.Helper()
	s, err := sim.New(sim.Config{Workers: 2, Kernel: kernel.BootConfig{ArenaSize: 4 << 20, QueueCap: 4096, EVQCap: 1024}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Boot(gpu.BootSpec{Modules: mods}); err != nil {
		t.Fatal(err)
	}
	k := s.Kernel()
	id, err := k.Chan(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range payloads {
		x := kernel.Task{Type: typ, Meta0: uint64(i)}
		if p != "" {
			h, b, err := k.Alloc(0, len(p))
			if err != nil {
				t.Fatal(err)
			}
			copy(b, p)
			x.Payload, x.PayloadLen = h, uint32(len(p))
		}
		if err := k.ChanEmitWait(context.Background(), id, x); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for out.len() < len(payloads) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
	r, err := s.Halt(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.LivePayloads != 0 {
		t.Fatalf("%d payloads live after halt", r.LivePayloads)
	}
	if out.len() != len(payloads) {
		t.Fatalf("%d results, want %d", out.len(), len(payloads))
	}
}

// [G5] [G3] Xform, a WARP handler, upper-cases every byte of payloads longer
// than a warp's 32 lanes (each lane takes a stride), forwards the payload
// zero-copy, and sets meta1 = meta0 × Scale; results keep the input order.
func TestG5_XformWarp(t *testing.T) {
	in := []string{"hello gpu", "", strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 9), "MiXeD cAsE 42"}
	out := &sink{}
	run(t, []gpu.Module{gpumod.Xform(gpumod.XformConfig{In: "x.in", Out: "x.out", Scale: 3}), out.module("x.out", gpumod.XformOutType)},
		"x.in", gpumod.XformInType, in, out)
	for i, got := range out.data {
		if want := strings.ToUpper(in[i]); got != want || out.tasks[i].Meta0 != uint64(i) || out.tasks[i].Meta1 != 3*uint64(i) {
			t.Fatalf("result %d: %q meta %d/%d, want %q %d/%d", i, got, out.tasks[i].Meta0, out.tasks[i].Meta1, want, i, 3*i)
		}
	}
}

// [G5] [G3] Checksum, a BLOCK handler, reduces a payload through the
// block's shared memory: the last of its 128 lanes adds the partial sums.
func TestG5_ChecksumBlock(t *testing.T) {
	in := []string{"a", strings.Repeat("\xff", 1000), "", "GMK"}
	out := &sink{}
	run(t, []gpu.Module{gpumod.Checksum(gpumod.ChecksumConfig{}), out.module("sum.out", gpumod.ChecksumOutType)},
		"sum.in", gpumod.ChecksumInType, in, out)
	for i, x := range out.tasks {
		var want uint64
		for _, b := range []byte(in[i]) {
			want += uint64(b)
		}
		if x.Meta1 != want || x.Meta0 != uint64(i) || x.PayloadLen != 0 {
			t.Fatalf("result %d: sum %d (meta0 %d, %d payload bytes), want %d", i, x.Meta1, x.Meta0, x.PayloadLen, want)
		}
	}
}
