package kernel

// Spec tests of payload ownership (GMK.md [A3]–[A5], acceptance items 4 and
// 14).

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/task"
)

// TestA4_RetainedPayloadSurvives proves acceptance item 14 "a retained
// payload survives" ([A4]): PayloadRetain keeps the block past the handler
// (the task's own reference is released when it ends, the module's stays);
// allocations meanwhile never reuse it; a later task of the module reads the
// bytes intact and releases it, which frees it.
func TestA4_RetainedPayloadSurvives(t *testing.T) {
	const tKeep, tChurn, tUse, id, size = 1, 2, 3, 5, 200
	var kept uint64 // module state: written by tKeep, read by tChurn and tUse (the test runs them one at a time)
	var keptBytes []byte
	res := make(chan error, 1)
	mod := Module{Name: "keeper", Handlers: []Handler{
		{Type: tKeep, Fn: func(c *Ctx) Status {
			h, err := c.PayloadRetain()
			kept, keptBytes = h, c.Payload()
			res <- err
			return OK
		}},
		{Type: tChurn, Fn: func(c *Ctx) Status {
			var err error
			for range 8 {
				h, b, e := c.Alloc(size)
				spFill(b, 99)
				if alloc.Handle(h).Slot() == alloc.Handle(kept).Slot() && alloc.Handle(h).Bin() == alloc.Handle(kept).Bin() {
					e = fmt.Errorf("allocation %v reuses the retained block %v", alloc.Handle(h), alloc.Handle(kept))
				}
				err = errors.Join(err, e, c.Free(h))
			}
			res <- err
			return OK
		}},
		{Type: tUse, Fn: func(c *Ctx) Status {
			var err error
			if !spSame(keptBytes, id, size) {
				err = errors.New("retained bytes changed")
			}
			res <- errors.Join(err, c.PayloadRelease(kept))
			return OK
		}},
	}}
	k := spBoot(t, spCfg(), mod)
	run := func(x Task) {
		t.Helper()
		if err := k.Submit(x); err != nil {
			t.Fatal(err)
		}
		if err := spRecv(t, res, "handler"); err != nil {
			t.Fatalf("type %d: %v", x.Type, err)
		}
	}
	run(spPayloadTask(t, k, tKeep, 0, id, size))
	spWait(t, "the task's reference to be released", func() bool { return k.arena.Refs(alloc.Handle(kept)) == 1 })
	if k.LivePayloads() != 1 {
		t.Fatalf("live %d after the keeping task ended, want 1", k.LivePayloads())
	}
	run(Task{Type: tChurn})
	run(Task{Type: tUse})
	if k.LivePayloads() != 0 {
		t.Fatalf("live %d after the module released, want 0", k.LivePayloads())
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	spCheckArena(t, k, r, 1+8)
}

// TestA4_UnretainedPayloadFreed proves acceptance item 14 "an unretained one
// is freed" ([A4]): the runtime releases a task's payload when the task ends,
// whatever the end — completed, completed after a retry (the payload survives
// the retry), failed into sys.error — and a payload emitted to a follow-on
// task moves with it; a ChanEmit refused with CHAN_FULL leaves the reference
// with the handler, which frees it.
func TestA4_UnretainedPayloadFreed(t *testing.T) {
	const tRead, tRetry, tFail, tForward, tFull = 1, 2, 3, 4, 5
	var bad atomic.Int64
	check := func(c *Ctx) {
		if x := c.Task(); !spSame(c.Payload(), x.Meta0, int(x.PayloadLen)) {
			bad.Add(1)
		}
	}
	var full ChanID
	mod := Module{Name: "payloads", Handlers: []Handler{
		{Type: tRead, Fn: func(c *Ctx) Status { check(c); return OK }},
		{Type: tRetry, Fn: func(c *Ctx) Status {
			check(c)
			if c.Task().Aux == 0 { // the runtime's retry count
				return Retry
			}
			return OK
		}},
		{Type: tFail, Fn: func(c *Ctx) Status { check(c); return Fail }},
		{Type: tForward, Fn: func(c *Ctx) Status {
			h, b, err := c.Alloc(64)
			if err != nil {
				return Fail
			}
			spFill(b, 7)
			if c.Emit(Task{Type: tRead, Payload: h, PayloadLen: 64, Meta0: 7}) != nil {
				bad.Add(1)
			}
			return OK
		}},
		{Type: tFull, Fn: func(c *Ctx) Status {
			h, _, err := c.Alloc(64)
			if err != nil {
				return Fail
			}
			if err := c.ChanEmit(full, Task{Type: tRead, Payload: h, PayloadLen: 64}); !errors.Is(err, ErrChanFull) {
				bad.Add(1)
			}
			if c.Free(h) != nil { // still ours: the emit failed
				bad.Add(1)
			}
			return OK
		}},
	}}
	k := spBoot(t, spCfg(), mod)
	var err error
	if full, err = k.ChanOpen(ChanSpec{Name: "spec.unbound", Type: tRead, Guarantee: Lossless}); err != nil {
		t.Fatal(err)
	}
	for i, x := range []Task{spPayloadTask(t, k, tRead, 0, 1, 100), spPayloadTask(t, k, tRetry, 0, 2, 3000),
		spPayloadTask(t, k, tFail, 0, 3, 10), {Type: tForward}, {Type: tFull}} {
		if err := k.Submit(x); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	spWait(t, "every payload to be freed", func() bool { return k.LivePayloads() == 0 })
	r := haltOK(t, k)
	checkIdentity(t, r)
	if bad.Load() != 0 || r.Stats.Errored != 1 || r.Stats.Retried != 1 {
		t.Errorf("%d bad checks; stats %v", bad.Load(), r.Stats)
	}
	spCheckArena(t, k, r, 5)
}

// TestA5_DoubleReleaseDetected proves acceptance item 14 "misuse is
// detected" ([A5]): releasing a handle twice returns ErrStalePayload naming
// the task type, and is counted in Stats.PayloadMisuse; a module that
// releases the task's own reference (one release too many) is caught when
// the runtime releases it at the task's end. Nothing else is disturbed.
func TestA5_DoubleReleaseDetected(t *testing.T) {
	const tDouble, tOver = 4, 6
	errc := make(chan error, 2)
	mod := Module{Name: "misuser", Handlers: []Handler{
		{Type: tDouble, Fn: func(c *Ctx) Status {
			h, _, err := c.Alloc(64)
			if err == nil {
				err = c.Free(h)
			}
			if err == nil {
				err = c.PayloadRelease(h) // the second release of h
				if err == nil {
					err = errors.New("second release succeeded")
				}
			}
			errc <- err
			return OK
		}},
		{Type: tOver, Fn: func(c *Ctx) Status {
			errc <- c.PayloadRelease(c.Task().Payload) // the runtime's reference
			return OK
		}},
	}}
	k := spBoot(t, spCfg(), mod)
	if err := k.Submit(Task{Type: tDouble}); err != nil {
		t.Fatal(err)
	}
	if err := spRecv(t, errc, "double release"); !errors.Is(err, ErrStalePayload) || !strings.Contains(err.Error(), "task type 4") {
		t.Errorf("double release: %v, want ErrStalePayload naming task type 4", err)
	}
	if err := k.Submit(spPayloadTask(t, k, tOver, 0, 1, 64)); err != nil {
		t.Fatal(err)
	}
	if err := spRecv(t, errc, "over-release"); err != nil {
		t.Errorf("first release of the task's reference: %v", err)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	var misuse uint64
	for ten := range k.cfg.Tenants {
		misuse += k.arena.Stats(ten).Block.Misuse
	}
	if r.Stats.PayloadMisuse != 2 || misuse != 2 || k.LivePayloads() != 0 || r.Stats.Completed != 2 {
		t.Errorf("PayloadMisuse %d, arena misuse %d (want 2 each), live %d; stats %v",
			r.Stats.PayloadMisuse, misuse, k.LivePayloads(), r.Stats)
	}
}

// TestA5_StalePayloadTaskToSysError proves [A5]: a task carrying a stale
// handle is not dispatched; it goes to sys.error with STALE_PAYLOAD and its
// type, and the misuse is counted once.
func TestA5_StalePayloadTaskToSysError(t *testing.T) {
	const tStale, tSink = 5, 9
	var ran atomic.Int64
	var sink spSink
	mod := Module{Name: "victim", Handlers: []Handler{{Type: tStale, Fn: func(*Ctx) Status { ran.Add(1); return OK }}}}
	k := spBoot(t, spCfg(), mod, sink.module("sink", SysError, tSink))
	x := spPayloadTask(t, k, tStale, 0, 77, 64)
	if err := k.Release(x.Payload); err != nil {
		t.Fatal(err)
	}
	if err := k.Submit(x); err != nil {
		t.Fatal(err)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	got := sink.reports()
	if ran.Load() != 0 || len(got) != 1 || got[0].Code != task.StalePayload || got[0].Type != tStale || got[0].Meta0 != 77 {
		t.Errorf("handler ran %d times; sys.error reports %+v, want one STALE_PAYLOAD of type %d", ran.Load(), got, tStale)
	}
	if r.Stats.PayloadMisuse != 1 || k.TypeStats(tStale).Fail != 1 {
		t.Errorf("PayloadMisuse %d (want 1), type stats %+v", r.Stats.PayloadMisuse, k.TypeStats(tStale))
	}
}

// TestA3A4_ConcurrentFanOutPayloads proves acceptance item 4 at kernel level
// ([A3], [A4], [C5]): handlers on both workers, fed by 3 goroutines over 2
// tenants, allocate payloads of many sizes and either fan them out to 3
// subscribers (a lossy channel, so some copies may be dropped) or emit them
// to a follow-on task. Every delivered copy reads its own bytes; after Halt
// nothing is live and each tenant's block statistics match the allocations
// and failures the handlers saw.
func TestA3A4_ConcurrentFanOutPayloads(t *testing.T) {
	const tGen, tRead, tSub, tSink, tenants, goroutines, per = 1, 2, 3, 9, 2, 3, 1000
	var allocs, fails [tenants]atomic.Uint64
	var fanned, delivered, bad atomic.Uint64
	var fan ChanID
	read := func(c *Ctx) Status {
		if x := c.Task(); !spSame(c.Payload(), x.Meta0, int(x.PayloadLen)) {
			bad.Add(1)
		}
		delivered.Add(1)
		return OK
	}
	gen := Module{Name: "gen", Handlers: []Handler{
		{Type: tGen, Fn: func(c *Ctx) Status {
			id := c.Task().Meta0
			h, b, err := c.Alloc(1 + int(id*37%5000))
			if err != nil {
				fails[c.Tenant()].Add(1)
				return OK
			}
			allocs[c.Tenant()].Add(1)
			spFill(b, id)
			x := Task{Type: tRead, Tenant: c.Task().Tenant, Payload: h, PayloadLen: uint32(len(b)), Meta0: id}
			if id%2 == 0 {
				x.Type = tSub
				fanned.Add(1)
				err = c.ChanEmit(fan, x)
			} else {
				err = c.Emit(x)
			}
			if err != nil {
				bad.Add(1)
				_ = c.Free(h)
			}
			return OK
		}},
		{Type: tRead, Fn: read},
	}}
	mods := []Module{gen}
	for i := range 3 {
		mods = append(mods, spCons(fmt.Sprintf("sub%d", i), ChanDecl{Name: "spec.payfan", Type: tSub, Mode: FanOut, Slots: 8}, read))
	}
	var sink spSink
	mods = append(mods, sink.module("sink", SysDropped, tSink))
	cfg := spCfg()
	cfg.Tenants, cfg.ArenaSize = tenants, 1<<20
	k := spBoot(t, cfg, mods...)
	fan = spChan(t, k, "spec.payfan")
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range per {
				id := uint64(g*per + i)
				spSubmit(k, Task{Type: tGen, Tenant: uint16(id % tenants), Meta0: id}, t.Errorf)
			}
		})
	}
	wg.Wait()
	r := haltOK(t, k)
	checkIdentity(t, r)
	cs, _ := k.ChanStats(fan)
	lost := uint64(len(sink.reports())) + r.Stats.SysLost
	if bad.Load() != 0 || delivered.Load()+cs.Drops != 3*fanned.Load()+(allocs[0].Load()+allocs[1].Load()-fanned.Load()) || lost != cs.Drops {
		t.Errorf("%d bad; %d delivered + %d dropped copies, %d fanned out; %d dead letters seen or lost",
			bad.Load(), delivered.Load(), cs.Drops, fanned.Load(), lost)
	}
	for ten := range tenants {
		s := k.arena.Stats(ten).Block
		if s.Allocs != allocs[ten].Load() || s.Frees != s.Allocs || s.Fails != fails[ten].Load() || s.Misuse != 0 || s.HighWater == 0 {
			t.Errorf("tenant %d block stats %+v; handlers saw %d allocs, %d fails", ten, s, allocs[ten].Load(), fails[ten].Load())
		}
	}
	if k.LivePayloads() != 0 || r.Stats.PayloadMisuse != 0 {
		t.Errorf("live %d, misuse %d", k.LivePayloads(), r.Stats.PayloadMisuse)
	}
	t.Logf("tenant 0 %d allocs %d fails, tenant 1 %d allocs %d fails; %d copies dropped",
		allocs[0].Load(), fails[0].Load(), allocs[1].Load(), fails[1].Load(), cs.Drops)
}
