package kernel

import (
	"sync"
	"testing"

	"github.com/gmkernel/gmk/kernel/sched"
)

// fxRunRec is what a handler saw in sorted dispatch: its type and Ctx.Run.
type fxRunRec struct {
	typ      uint32
	meta0    uint64
	idx, len int
}

// fxSortedRuns boots one worker with the FIFO RQ (so batches come mixed)
// and SortBatch, queues n tasks of types 1, 2, 3 interleaved before the
// worker starts, and returns what the handlers saw, in dispatch order.
func fxSortedRuns(t *testing.T, sorted bool, n int) ([]fxRunRec, int) {
	var mu sync.Mutex
	var recs []fxRunRec
	rec := func(c *Ctx) Status {
		i, l := c.Run()
		mu.Lock() // one worker: the lock only orders the slice for the race detector
		recs = append(recs, fxRunRec{c.Task().Type, c.Task().Meta0, i, l})
		mu.Unlock()
		return OK
	}
	m := Module{Name: "mix", Handlers: []Handler{{Type: 1, Fn: rec}, {Type: 2, Fn: rec}, {Type: 3, Fn: rec}},
		Init: func(c *Ctx) error {
			for i := range n {
				if err := c.Emit(Task{Type: uint32(1 + i%3), Meta0: uint64(i)}); err != nil {
					return err
				}
			}
			return nil
		}}
	k := fxBoot(t, BootConfig{Workers: 1, Policy: sched.PolicyRQ, SortBatch: sorted, QueueCap: 8192}, m)
	checkIdentity(t, haltOK(t, k))
	return recs, k.Config().BatchSize
}

// [G1] [G3] Acceptance 3: with SortBatch a mixed batch runs grouped by type:
// each handler sees its tasks as one run, Ctx.Run numbering them 0..n-1,
// and within a run the tasks keep their queue order. Without it every task
// is a run of one.
func TestG1_SortedDispatchGroupsMixedBatches(t *testing.T) {
	const n = 3 * 32 * 20
	recs, batch := fxSortedRuns(t, true, n)
	if len(recs) != n {
		t.Fatalf("%d tasks ran, want %d", len(recs), n)
	}
	runs, long := 0, 0
	for i := 0; i < len(recs); {
		r := recs[i]
		if r.idx != 0 {
			t.Fatalf("task %d: a run starts at index %d", i, r.idx)
		}
		for j := range r.len {
			x := recs[i+j]
			if x.typ != r.typ || x.idx != j || x.len != r.len {
				t.Fatalf("run at %d: element %d is %+v, want type %d index %d of %d", i, j, x, r.typ, j, r.len)
			}
			if j > 0 && x.meta0 <= recs[i+j-1].meta0 {
				t.Fatalf("run at %d: queue order lost (%d after %d)", i, x.meta0, recs[i+j-1].meta0)
			}
		}
		runs++
		if r.len >= batch/3 {
			long++
		}
		i += r.len
	}
	// Full batches of interleaved types sort into three runs each.
	if long < runs*3/4 {
		t.Fatalf("only %d of %d runs hold a third of a batch: batches were not sorted", long, runs)
	}
	plain, _ := fxSortedRuns(t, false, 300)
	for _, r := range plain {
		if r.idx != 0 || r.len != 1 {
			t.Fatalf("unsorted kernel: Run() = (%d, %d), want (0, 1)", r.idx, r.len)
		}
	}
	t.Logf("%d tasks in %d runs (%d of at least %d)", n, runs, long, batch/3)
}

// [G1] [C4] Sorting keeps channel order: a catch-all consumer of an untyped
// lossless channel that carries two types, interleaved with direct tasks of
// a third, still sees the channel's deliveries in emit order.
func TestG1_SortedDispatchKeepsChannelOrder(t *testing.T) {
	const n = 5000
	var mu sync.Mutex
	var got []uint64
	var direct int
	m := Module{Name: "relay", Handlers: []Handler{
		{Type: AnyType, Fn: func(c *Ctx) Status {
			mu.Lock()
			got = append(got, c.Task().Meta0)
			mu.Unlock()
			return OK
		}},
		{Type: 3, Fn: func(*Ctx) Status { mu.Lock(); direct++; mu.Unlock(); return OK }},
	}, Channels: []ChanDecl{{Name: "mixed.in", Dir: Consume, Type: AnyType, Guarantee: Lossless, Slots: 256}}}
	k := fxBoot(t, BootConfig{Workers: 2, SortBatch: true}, m)
	id := fxChan(t, k, "mixed.in")
	for i := range n {
		fxEmit(t, k, id, Task{Type: uint32(1 + i%2), Meta0: uint64(i)})
		if i%3 == 0 {
			if err := k.Submit(Task{Type: 3}); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkIdentity(t, haltOK(t, k))
	if len(got) != n {
		t.Fatalf("%d deliveries, want %d", len(got), n)
	}
	for i, v := range got {
		if v != uint64(i) {
			t.Fatalf("delivery %d carries %d: channel order lost", i, v)
		}
	}
	if direct != (n+2)/3 {
		t.Fatalf("%d direct tasks ran, want %d", direct, (n+2)/3)
	}
}
