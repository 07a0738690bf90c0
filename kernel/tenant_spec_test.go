package kernel

// Spec tests of tenants: BootConfig.Tenants partitions the arena and the
// metrics, and tenants out of range are refused.

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gmkernel/gmk/kernel/alloc"
)

// spArenaOp is a request to the tenants test's module.
type spArenaOp uint64

const (
	spHog     spArenaOp = iota // allocate 64-byte blocks until ALLOC_FAIL, keep them
	spProbe                    // allocate one block and free it
	spRelease                  // free what spHog kept
)

// TestTenant_ArenaAndMetricsPartition proves that BootConfig.Tenants
// partitions the arena and the metrics ([A1], [O1]): a task's tenant selects
// its allocator — exhausting tenant 0's share leaves tenant 1 untouched — and
// its counters in TenantStats.
func TestTenant_ArenaAndMetricsPartition(t *testing.T) {
	const tOp, tCount, tFail = 1, 2, 3
	var kept []uint64 // owned by the spHog/spRelease tasks, which the test runs one at a time
	res := make(chan error, 1)
	mod := Module{Name: "tenants", Handlers: []Handler{
		{Type: tOp, Fn: func(c *Ctx) Status {
			var err error
			switch spArenaOp(c.Task().Meta0) {
			case spHog:
				for err == nil {
					var h uint64
					if h, _, err = c.Alloc(64); err == nil {
						kept = append(kept, h)
					}
				}
				if errors.Is(err, ErrAllocFail) {
					err = nil
				}
			case spProbe:
				var h uint64
				if h, _, err = c.Alloc(64); err == nil {
					if alloc.Handle(h).Tenant() != c.Tenant() {
						err = fmt.Errorf("handle %v of tenant %d", alloc.Handle(h), c.Tenant())
					}
					err = errors.Join(err, c.Free(h))
				}
			case spRelease:
				for _, h := range kept {
					err = errors.Join(err, c.Free(h))
				}
			}
			res <- err
			return OK
		}},
		{Type: tCount, Fn: spNop},
		{Type: tFail, Fn: func(*Ctx) Status { return Fail }},
	}}
	cfg := spCfg()
	cfg.Tenants, cfg.ArenaSize = 2, 1<<20
	k := spBoot(t, cfg, mod)
	op := func(ten uint16, o spArenaOp) error {
		if err := k.Submit(Task{Type: tOp, Tenant: ten, Meta0: uint64(o)}); err != nil {
			t.Fatal(err)
		}
		return spRecv(t, res, "arena op")
	}
	if err := op(0, spHog); err != nil || len(kept) == 0 {
		t.Fatalf("hog: %v, %d blocks", err, len(kept))
	}
	if err := op(0, spProbe); !errors.Is(err, ErrAllocFail) {
		t.Errorf("tenant 0 probe after exhaustion: %v, want ALLOC_FAIL", err)
	}
	if err := op(1, spProbe); err != nil {
		t.Errorf("tenant 1 probe while tenant 0 is exhausted: %v", err)
	}
	if err := op(0, spRelease); err != nil {
		t.Fatal(err)
	}
	if err := op(0, spProbe); err != nil {
		t.Errorf("tenant 0 probe after release: %v", err)
	}
	for i := range 80 {
		x := Task{Type: tCount, Tenant: uint16(i % 2)}
		if i%2 == 1 && i < 30 {
			x.Type = tFail
		}
		if err := k.Submit(x); err != nil {
			t.Fatal(err)
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	want := [2]TenantStats{{Enqueued: 44, Dequeued: 44, Completed: 44}, {Enqueued: 41, Dequeued: 41, Completed: 26, Errored: 15}}
	for ten := range want {
		if got := k.TenantStats(ten); got != want[ten] {
			t.Errorf("tenant %d: %+v, want %+v", ten, got, want[ten])
		}
	}
	s0, s1 := k.arena.Stats(0).Block, k.arena.Stats(1).Block
	if s0.Allocs != uint64(len(kept))+1 || s0.Fails != 2 || s1.Allocs != 1 || s1.Fails != 0 {
		t.Errorf("arena stats: tenant 0 %+v (kept %d), tenant 1 %+v", s0, len(kept), s1)
	}
	spCheckArena(t, k, r, uint64(len(kept))+2)
}

// TestTenant_OutOfRangeRejected proves that a tenant out of range is refused
// with ErrBadTenant at Submit, SubmitBatch, Emit and ChanEmit (outside and
// inside a handler), and that nothing of it is counted.
func TestTenant_OutOfRangeRejected(t *testing.T) {
	const tIn, tCh = 1, 2
	var id ChanID
	errc := make(chan error, 2)
	mod := Module{Name: "m",
		Handlers: []Handler{{Type: tIn, Fn: func(c *Ctx) Status {
			errc <- c.Emit(Task{Type: tIn, Tenant: 2})
			errc <- c.ChanEmit(id, Task{Type: tCh, Tenant: 7})
			return OK
		}}, {Type: tCh, Fn: spNop}},
		Channels: []ChanDecl{{Name: "spec.ten", Dir: Consume, Type: tCh, Guarantee: Lossless}}}
	cfg := spCfg()
	cfg.Tenants = 2
	k := spBoot(t, cfg, mod)
	id = spChan(t, k, "spec.ten")
	_, batchErr := k.SubmitBatch([]Task{{Type: tIn, Tenant: 1}, {Type: tIn, Tenant: 2}})
	errs := []error{k.Submit(Task{Type: tIn, Tenant: 2}), batchErr, k.ChanEmit(id, Task{Type: tCh, Tenant: 2})}
	errs = append(errs, spRecv(t, errc, "emit"), spRecv(t, errc, "chan emit"))
	for i, err := range errs {
		if !errors.Is(err, ErrBadTenant) {
			t.Errorf("call %d: %v, want ErrBadTenant", i, err)
		}
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if r.Stats.Created() != 1 || r.Stats.Completed != 1 {
		t.Errorf("stats %v, want the one good task only", r.Stats)
	}
}
