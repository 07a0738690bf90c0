package system_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
)

// [F4] The watchdog: a GPU handler that never returns stalls its worker;
// two samples in a row raise a warning, five take the bridge down and reset
// the GPU kernel — tried again while the handler is stuck, done once it
// returns — while the CPU kernel keeps running its own work. Producers of
// bridge channels see CHAN_CLOSED; the system still halts with its
// accounting whole.
func TestF4_WatchdogWarnsThenResets(t *testing.T) {
	release := make(chan struct{})
	var hung atomic.Bool
	gpuMod := gpu.Module{Name: "hang", Handlers: []gpu.Handler{{Type: tRx, Name: "hang",
		Fn: func(c *kernel.Ctx, _ gpu.Lane) kernel.Status {
			if c.Task().Meta0 == 7 {
				hung.Store(true)
				<-release
			}
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: "host.rx", Dir: kernel.Consume, Type: tRx, Guarantee: kernel.Lossless}}}
	var local atomic.Int64
	const tLocal = 5
	cpuLocal := kernel.Module{Name: "local", Handlers: []kernel.Handler{{Type: tLocal,
		Fn: func(*kernel.Ctx) kernel.Status { local.Add(1); return kernel.OK }}}}
	s := boot(t, system.Config{CPUModules: []kernel.Module{ingest, cpuLocal}, GPUModules: []gpu.Module{gpuMod}})
	emitInline(t, s.CPU(), 8) // task 7 hangs its GPU worker
	for !hung.Load() {
		time.Sleep(100 * time.Microsecond)
	}

	ticks := make(chan time.Time)
	var mu sync.Mutex
	var events []system.WatchEvent
	stop := s.Watch(system.WatchConfig{Tick: ticks, ResetWait: 20 * time.Millisecond, OnEvent: func(e system.WatchEvent) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}})
	defer stop()
	kinds := func() []system.WatchKind {
		mu.Lock()
		defer mu.Unlock()
		var out []system.WatchKind
		for _, e := range events {
			out = append(out, e.Kind)
		}
		return out
	}
	sample := func() { ticks <- time.Now() }
	for i := range 6 { // 6 samples: warning at 2, a failed reset at 5 and 6
		sample()
		if err := s.CPU().Submit(kernel.Task{Type: tLocal, Meta0: uint64(i)}); err != nil {
			t.Fatal(err) // the CPU kernel keeps taking work
		}
	}
	sample() // the 7th sample's reset happens after this one is taken: wait for its event
	waitKinds := func(n int) []system.WatchKind {
		deadline := time.Now().Add(20 * time.Second)
		for len(kinds()) < n && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
		return kinds()
	}
	want := []system.WatchKind{system.WatchWarning, system.WatchResetFailed, system.WatchResetFailed, system.WatchResetFailed}
	if got := waitKinds(4); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	mu.Lock()
	if e := events[0]; e.Misses != 2 || len(e.Stalled) != 1 {
		t.Errorf("warning %+v: want 2 misses and one stalled worker", e)
	}
	if e := events[1]; !errors.Is(e.Err, gpu.ErrStuck) {
		t.Errorf("reset with a stuck handler: %v, want ErrStuck", e.Err)
	}
	mu.Unlock()
	id, _ := s.CPU().Chan("host.rx")
	if err := s.CPU().ChanEmit(id, kernel.Task{Type: tRx}); !errors.Is(err, kernel.ErrChanClosed) {
		t.Fatalf("emit on host.rx after the reset began: %v, want CHAN_CLOSED", err)
	}
	close(release) // the handler returns: the next sample's reset finishes
	sample()
	if got := waitKinds(5); got[len(got)-1] != system.WatchReset {
		t.Fatalf("events %v, want a reset last", got)
	}
	stop()
	for local.Load() != 6 {
		time.Sleep(100 * time.Microsecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r, err := s.Halt(ctx)
	if err != nil && !errors.Is(err, system.ErrBusy) {
		t.Fatal(err)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
}
