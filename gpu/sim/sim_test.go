package sim_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sched"
)

func fxSim(t *testing.T, cfg sim.Config, mods ...gpu.Module) *sim.Sim {
	t.Helper()
	cfg.Kernel.ArenaSize, cfg.Kernel.QueueCap, cfg.Kernel.EVQCap, cfg.Kernel.MaxTypes = 4<<20, 4096, 1024, 64
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Boot(gpu.BootSpec{Modules: mods}); err != nil {
		t.Fatal(err)
	}
	return s
}

func fxHalt(t *testing.T, s *sim.Sim) gpu.HaltReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := s.Halt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := r.Kernel.Stats
	if st.Created() != st.Completed+st.Errored+st.Dropped+r.Kernel.Queued {
		t.Fatalf("accounting: %v queued %d", st, r.Kernel.Queued)
	}
	return r
}

func fxWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// [G1] [K3] The simulated kernel is a GMK kernel with identity gpu.0, role
// compute, the GPU policy (type-bucketed GRQ with aging), batches of up to
// 32 dispatched sorted by type, and the geometry Info reports.
func TestG1_SimKernelIsAGPUKernel(t *testing.T) {
	s := fxSim(t, sim.Config{Workers: 3})
	c := s.Kernel().Config()
	if c.ID != "gpu.0" || c.Role != kernel.RoleCompute || c.Policy != sched.PolicyGRQ || !c.SortBatch || c.BatchSize != 32 || c.Workers != 3 {
		t.Fatalf("kernel config %+v", c)
	}
	info := s.Info()
	if info.ID != "gpu.0" || info.Backend != "sim" || info.Workers != 3 || info.BlockThreads != 128 || info.WarpSize != 32 || info.BatchSize != 32 {
		t.Fatalf("info %+v", info)
	}
	if err := s.Boot(gpu.BootSpec{}); !errors.Is(err, gpu.ErrBooted) {
		t.Fatalf("second Boot: %v, want ErrBooted", err)
	}
	fxHalt(t, s)
	if _, err := s.Halt(context.Background()); !errors.Is(err, gpu.ErrNotBooted) {
		t.Fatalf("second Halt: %v, want ErrNotBooted", err)
	}
	if _, err := sim.New(sim.Config{BatchSize: 64}); err == nil {
		t.Fatal("a batch of 64 was accepted: the simulated GPU batches at most 32")
	}
}

type laneCall struct {
	typ         uint32
	meta0       uint64
	worker      int
	lane, width int
	sharedSumOK bool
}

// [G3] Acceptance 3: SCALAR, WARP and BLOCK handlers coexist in one worker
// and each sees the lanes of its granularity: a SCALAR task runs once, as
// lane i of its homogeneous sub-batch; a WARP task runs as lanes 0..31; a
// BLOCK task as lanes 0..127 sharing zeroed shared memory, its last lane
// seeing every other lane's write.
func TestG3_GranularityEmulated(t *testing.T) {
	const perType = 100
	var mu sync.Mutex
	var calls []laneCall
	rec := func(c *kernel.Ctx, l gpu.Lane) kernel.Status {
		call := laneCall{c.Task().Type, c.Task().Meta0, c.Worker(), l.ID, l.Width, true}
		if len(l.Shared) > 0 {
			l.Shared[l.ID] = 1
			if l.ID == l.Width-1 {
				call.sharedSumOK = int(sum(l.Shared)) == l.Width // zeroed per task, every lane wrote
			}
		}
		mu.Lock()
		calls = append(calls, call)
		mu.Unlock()
		return kernel.OK
	}
	m := gpu.Module{Name: "lanes", Handlers: []gpu.Handler{
		{Type: 1, Name: "scalar", Fn: rec},
		{Type: 2, Name: "warp", Flags: kernel.Warp, Fn: rec},
		{Type: 3, Name: "block", Flags: kernel.Block | kernel.NeedsShared, SharedBytes: 1024, Fn: rec},
	}, Init: func(c *kernel.Ctx) error { // interleaved before the workers start
		for i := range 3 * perType {
			if err := c.Emit(kernel.Task{Type: uint32(1 + i%3), Meta0: uint64(i)}); err != nil {
				return err
			}
		}
		return nil
	}}
	s := fxSim(t, sim.Config{Workers: 1}, m)
	fxWait(t, "every lane", func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == perType*(1+32+128) })
	fxHalt(t, s)
	byTask := map[uint64][]laneCall{}
	for _, c := range calls {
		byTask[c.meta0] = append(byTask[c.meta0], c)
		if c.worker != 0 {
			t.Fatalf("call on worker %d of 1", c.worker)
		}
	}
	for id, cs := range byTask {
		want := map[uint32]int{1: 1, 2: 32, 3: 128}[cs[0].typ]
		if len(cs) != want {
			t.Fatalf("task %d (type %d): %d lane calls, want %d", id, cs[0].typ, len(cs), want)
		}
		if cs[0].typ == 1 {
			if cs[0].width < 1 || cs[0].width > 32 || cs[0].lane >= cs[0].width {
				t.Fatalf("scalar task %d: lane %d of %d", id, cs[0].lane, cs[0].width)
			}
			continue
		}
		for i, c := range cs {
			if c.lane != i || c.width != want {
				t.Fatalf("task %d: call %d is lane %d of %d, want lane %d of %d", id, i, c.lane, c.width, i, want)
			}
		}
		if cs[0].typ == 3 && !cs[len(cs)-1].sharedSumOK {
			t.Fatalf("block task %d: the last lane did not see every lane's shared write on zeroed memory", id)
		}
	}
	// Scalar sub-batches: consecutive scalar calls number their lanes 0, 1, 2 …
	maxLane := 0
	prev := -1
	for _, c := range calls {
		if c.typ != 1 {
			continue
		}
		if c.lane != 0 && c.lane != prev+1 {
			t.Fatalf("scalar lane %d follows lane %d: a sub-batch's lanes are 0..n-1 in order", c.lane, prev)
		}
		prev, maxLane = c.lane, max(maxLane, c.lane)
	}
	if maxLane == 0 {
		t.Fatal("every scalar task ran alone: mixed batches were not grouped into sub-batches")
	}
}

func sum(b []byte) (s uint64) {
	for _, x := range b {
		s += uint64(x)
	}
	return s
}

// [F4] A worker stuck in a handler stops beating while the others (idle
// ones too) keep beating; Stalled names it. A Reset cannot stop a stuck
// worker in a process, so it leaves that kernel behind — Lost and Stuck in
// its report — and the backend boots a new kernel at once, which runs
// tasks while the old worker is still stuck. Halt reaps the old kernel once
// its handler returned (ErrStuck while it has not), with its accounting
// whole.
func TestF4_HeartbeatAndStuckReset(t *testing.T) {
	release := make(chan struct{})
	var hung atomic.Int64
	var ran atomic.Int64
	hung.Store(-1)
	m := gpu.Module{Name: "hang", Handlers: []gpu.Handler{{Type: 1, Name: "hang", Fn: func(c *kernel.Ctx, _ gpu.Lane) kernel.Status {
		if c.Task().Meta0 == 0 {
			hung.Store(int64(c.Worker()))
			<-release
		}
		ran.Add(1)
		return kernel.OK
	}}}}
	s := fxSim(t, sim.Config{Workers: 2}, m)
	if err := s.Kernel().Submit(kernel.Task{Type: 1}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "the hang", func() bool { return hung.Load() >= 0 })
	h1 := s.Heartbeat()
	h2 := s.Heartbeat()
	if got := h2.Stalled(h1); !slices.Equal(got, []int{int(hung.Load())}) {
		t.Fatalf("stalled workers %v, want [%d] (beats %v → %v)", got, hung.Load(), h1.Beats, h2.Beats)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	r, err := s.Reset(ctx)
	if err != nil || !r.Lost || !r.Stuck {
		t.Fatalf("Reset with a stuck worker: %+v, %v; want a lost, stuck kernel and no error", r, err)
	}
	if err := s.Boot(gpu.BootSpec{Modules: []gpu.Module{m}}); err != nil {
		t.Fatalf("boot after reset: %v", err)
	}
	if err := s.Kernel().Submit(kernel.Task{Type: 1, Meta0: 1}); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "a task on the new kernel", func() bool { return ran.Load() == 1 })
	short, cancelShort := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancelShort()
	if _, err := s.Halt(short); !errors.Is(err, gpu.ErrStuck) {
		t.Fatalf("Halt with the old kernel still stuck: %v, want ErrStuck", err)
	}
	close(release)
	hr, err := s.Halt(context.Background())
	if !errors.Is(err, gpu.ErrNotBooted) || len(hr.Reaped) != 1 {
		t.Fatalf("Halt after release: %d reaped, %v; want the old kernel reaped and ErrNotBooted (the new one halted before)", len(hr.Reaped), err)
	}
	if st, q := hr.Reaped[0].Kernel.Stats, hr.Reaped[0].Kernel.Queued; st.Created() != st.Completed+st.Errored+st.Dropped+q || st.Completed != 1 {
		t.Fatalf("the reaped kernel's accounting: %v queued %d", st, q)
	}
}
