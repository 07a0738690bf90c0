package sched

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// pushGRQ pushes n tasks of type typ and priority p at time now.
func pushGRQ(t *testing.T, g *GRQ, typ uint32, p, n int, now int64) {
	t.Helper()
	for i := range n {
		tk := mkTask(typ, p, uint64(i))
		if !g.Push(&tk, now) {
			t.Fatalf("push %d of type %d priority %d: rejected", i, typ, p)
		}
	}
}

// popType pops one batch and returns its size and its (single) type.
func popType(t *testing.T, g *GRQ, dst []task.Task, c *GCursor, now int64) (int, uint32) {
	t.Helper()
	n := g.PopBatch(dst, c, now)
	if n == 0 {
		return 0, 0
	}
	typ := dst[0].Type
	for i := range dst[:n] {
		if dst[i].Type != typ {
			t.Fatalf("batch mixes types %d and %d", typ, dst[i].Type)
		}
	}
	return n, typ
}

// [S3] Every batch holds one handler type, whatever the mix pushed.
func TestS3_BatchesAreHomogeneous(t *testing.T) {
	types := []uint32{3, 7, 11, 12}
	g := NewGRQ(types, 256, 16)
	ts := make([]task.Task, 0, 600)
	for i := range 600 {
		ts = append(ts, mkTask(types[i*7%len(types)], i%task.NumPriorities, uint64(i)))
	}
	for off := 0; off < len(ts); {
		off += g.PushBatch(ts[off:], 0)
	}
	var c GCursor
	dst := make([]task.Task, 32)
	got := 0
	for {
		n, _ := popType(t, g, dst, &c, 1)
		if n == 0 {
			break
		}
		got += n
	}
	if got != len(ts) || g.Len() != 0 {
		t.Fatalf("popped %d of %d, %d left", got, len(ts), g.Len())
	}
}

// [S3] Rotation: one worker visits the non-empty buckets in turn, and workers
// whose cursors were Reset with different worker numbers start at different
// buckets.
func TestS3_RotationCoversBuckets(t *testing.T) {
	types := []uint32{1, 2, 3, 4, 5}
	g := NewGRQ(types, 64, 8)
	for _, typ := range types {
		pushGRQ(t, g, typ, 0, 20, 0)
	}
	dst := make([]task.Task, 2)
	var c GCursor
	for lap := range 3 {
		for _, want := range types {
			if _, typ := popType(t, g, dst, &c, 1); typ != want {
				t.Fatalf("lap %d: popped type %d, want %d", lap, typ, want)
			}
		}
	}
	for w := range 2 * len(types) {
		var cw GCursor
		cw.Reset(w)
		if _, typ := popType(t, g, dst, &cw, 1); typ != types[w%len(types)] {
			t.Fatalf("worker %d starts at type %d, want %d", w, typ, types[w%len(types)])
		}
	}
}

// [S3] Aging prevents starvation: a flood of hot types whose buckets are refilled
// after every pop, and one rare task queued just before the flood. The rare one
// is popped within AgingInterval pops. With 100 hot types the rotation alone
// would need 100 pops: there the aging scan is what serves it, at pop 64.
func TestS3_AgingPreventsStarvation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hot      int
		wantAt   int // 0: any pop up to AgingInterval
		rarePrio int
	}{
		{"one hot type", 1, 0, 3},
		{"100 hot types", 100, AgingInterval, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const capacity = 8
			rare := uint32(tc.hot) // types 0..hot-1 are hot; the rare type comes last
			types := make([]uint32, tc.hot+1)
			for i := range types {
				types[i] = uint32(i)
			}
			g := NewGRQ(types, capacity, rare)
			pushGRQ(t, g, rare, tc.rarePrio, 1, 0)
			for typ := range rare {
				pushGRQ(t, g, typ, 0, capacity, 1) // bucket full
			}
			var c GCursor
			dst := make([]task.Task, 4)
			for pop := 1; pop <= AgingInterval; pop++ {
				n, typ := popType(t, g, dst, &c, int64(1+pop))
				if typ == rare {
					if tc.wantAt != 0 && pop != tc.wantAt {
						t.Fatalf("rare type popped at pop %d, want %d", pop, tc.wantAt)
					}
					return
				}
				pushGRQ(t, g, typ, 0, n, int64(1+pop)) // refill: always full
			}
			t.Fatalf("rare type not popped within %d pops", AgingInterval)
		})
	}
}

// [S3] The aging scan (every AgingInterval-th batch) picks the non-empty bucket
// with the highest (4-p)×age, p its best non-empty priority, age = now minus the
// time it turned non-empty (or was last served). In every case the rotation
// would pick type A; the scan must pick B.
func TestS3_AgingScanScore(t *testing.T) {
	type push struct {
		typ  uint32
		prio int
		at   int64
	}
	const now = 1000
	const filler, a, b = 1, 2, 3
	for _, tc := range []struct {
		name   string
		pushes []push
	}{
		// A: 1×(1000-100)=900, B: 4×(1000-700)=1200.
		{"priority beats age", []push{{a, 3, 100}, {b, 0, 700}}},
		// A: 4×(1000-900)=400, B: 1×(1000-0)=1000.
		{"age beats priority", []push{{a, 0, 900}, {b, 3, 0}}},
		// A: 2×500=1000, B: 2×600=1200.
		{"same priority, older wins", []push{{a, 2, 500}, {b, 2, 400}}},
		// B turned non-empty at 100 with priority 3, then got a priority-0 task:
		// 4×900=3600; A: 3×950=2850.
		{"best priority, age since non-empty", []push{{a, 1, 50}, {b, 3, 100}, {b, 0, 600}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGRQ([]uint32{filler, a, b}, 128, 3)
			var c GCursor
			dst := make([]task.Task, 1)
			pushGRQ(t, g, filler, 0, AgingInterval-1, 0)
			for pop := range AgingInterval - 1 { // 63 batches by rotation, all from filler
				if _, typ := popType(t, g, dst, &c, int64(pop)); typ != filler {
					t.Fatalf("pop %d: type %d, want the filler", pop, typ)
				}
			}
			for _, p := range tc.pushes {
				pushGRQ(t, g, p.typ, p.prio, 1, p.at)
			}
			if _, typ := popType(t, g, dst, &c, now); typ != b {
				t.Fatalf("aging scan popped type %d, want %d", typ, b)
			}
			if _, typ := popType(t, g, dst, &c, now); typ != a {
				t.Fatalf("next pop (rotation) popped type %d, want %d", typ, a)
			}
		})
	}
}

// [S3] Inside a bucket tasks leave in priority order, FIFO within a priority.
func TestS3_PriorityOrderInBucket(t *testing.T) {
	g := NewGRQ([]uint32{9}, 16, 9)
	prios := []int{3, 1, 2, 0, 3, 0, 1, 2}
	for i, p := range prios {
		tk := mkTask(9, p, uint64(i))
		g.Push(&tk, 0)
	}
	dst := make([]task.Task, 16)
	var c GCursor
	n := g.PopBatch(dst, &c, 0)
	want := []uint64{3, 5, 1, 6, 2, 7, 0, 4} // ids by (priority, push order)
	if n != len(want) {
		t.Fatalf("popped %d, want %d", n, len(want))
	}
	for i, id := range want {
		if dst[i].Meta0 != id {
			t.Fatalf("position %d: id %d, want %d (got %v)", i, dst[i].Meta0, id, dst[:n])
		}
	}
}

// [S3] A task of a type without a bucket is rejected: not listed, above maxType
// (even if listed) or beyond the index; PushBatch stops before it. A full ring
// rejects too; duplicates in the type list make one bucket.
func TestS3_UnknownTypeRejected(t *testing.T) {
	g := NewGRQ([]uint32{1, 5, 5, 20}, 2, 10)
	if g.Buckets() != 2 {
		t.Fatalf("Buckets = %d, want 2 (1 and 5)", g.Buckets())
	}
	for _, typ := range []uint32{0, 2, 10, 11, 20, 1 << 31} {
		tk := mkTask(typ, 0, 0)
		if g.Push(&tk, 0) {
			t.Errorf("type %d accepted", typ)
		}
		if g.BucketLen(typ) != 0 {
			t.Errorf("BucketLen(%d) = %d", typ, g.BucketLen(typ))
		}
	}
	ts := []task.Task{mkTask(1, 0, 0), mkTask(5, 1, 1), mkTask(2, 0, 2), mkTask(1, 0, 3)}
	if n := g.PushBatch(ts, 0); n != 2 {
		t.Fatalf("PushBatch = %d, want 2 (stop at type 2)", n)
	}
	pushGRQ(t, g, 1, 0, 1, 0) // ring of type 1 priority 0 now holds 2: full
	if tk := mkTask(1, 0, 9); g.Push(&tk, 0) {
		t.Fatal("push into a full ring accepted")
	}
	if g.BucketLen(1) != 2 || g.BucketLen(5) != 1 || g.Len() != 3 {
		t.Fatalf("BucketLen(1)=%d BucketLen(5)=%d Len=%d", g.BucketLen(1), g.BucketLen(5), g.Len())
	}
	var c GCursor
	if n := NewGRQ(nil, 4, 4).PopBatch(make([]task.Task, 4), &c, 0); n != 0 {
		t.Fatalf("GRQ without buckets popped %d", n)
	}
}

// [S3] The idle hint never strands a task. The two orders in which a popper
// that saw the bucket drained and a pusher can meet, stepped by hand:
// the push lands between the popper's empty observation and its idle store
// (the pusher sees idle=false and does nothing; markIdle's re-check must wake
// the bucket), or after the store (the pusher's wake must).
func TestS3_IdleHintInterleavings(t *testing.T) {
	for _, pushFirst := range []bool{true, false} {
		g := NewGRQ([]uint32{1}, 4, 1)
		b := &g.buckets[0]
		pushGRQ(t, g, 1, 0, 1, 0)
		var c GCursor
		dst := make([]task.Task, 1)
		if n := g.PopBatch(dst, &c, 1); n != 1 || b.idle.Load() {
			t.Fatalf("setup: popped %d, idle %v", n, b.idle.Load())
		}
		// The popper's rings are now empty: it observed "drained" (n < len).
		tk := mkTask(1, 2, 7)
		if pushFirst {
			b.rings[2].Push(&tk)
			b.wake(5) // idle is false: nothing to do
			b.markIdle(6)
		} else {
			b.markIdle(5) // re-check finds nothing: idle stays true
			if !b.idle.Load() {
				t.Fatal("markIdle on an empty bucket left it non-idle")
			}
			b.rings[2].Push(&tk)
			b.wake(6)
		}
		if b.idle.Load() || b.since.Load() != 6 {
			t.Fatalf("pushFirst=%v: idle %v since %d, want false and 6", pushFirst, b.idle.Load(), b.since.Load())
		}
		if n := g.PopBatch(dst, &c, 7); n != 1 || dst[0].Meta0 != 7 {
			t.Fatalf("pushFirst=%v: task stranded (popped %d)", pushFirst, n)
		}
	}
}

// [S3] [R2] Stress: producers push tasks of several types and priorities while
// workers pop; every batch is homogeneous and every task is popped exactly
// once. Workers stop when the producers are done and a pop finds nothing, which
// also checks the idle-hint protocol: a bucket wrongly left idle would strand
// its tasks and fail the count.
func TestS3_GRQStress(t *testing.T) {
	const producers, workers, perProducer = 3, 3, 4000
	types := []uint32{2, 4, 6, 8, 10}
	g := NewGRQ(types, 64, 10)
	var done atomic.Bool
	counts := make([]atomic.Int32, producers*perProducer)
	var pwg, cwg sync.WaitGroup
	for pr := range producers {
		pwg.Go(func() {
			for i := range perProducer {
				id := pr*perProducer + i
				tk := mkTask(types[id%len(types)], id%task.NumPriorities, uint64(id))
				for !g.Push(&tk, int64(i)) {
					runtime.Gosched()
				}
			}
		})
	}
	for w := range workers {
		cwg.Go(func() { drainGRQ(t, g, w, &done, counts) })
	}
	pwg.Wait()
	done.Store(true)
	cwg.Wait()
	for id := range counts {
		if n := counts[id].Load(); n != 1 {
			t.Fatalf("task %d popped %d times", id, n)
		}
	}
	if g.Len() != 0 {
		t.Fatalf("Len = %d after draining", g.Len())
	}
}

// drainGRQ pops with its own cursor until the producers are done and a pop
// comes back empty.
func drainGRQ(t *testing.T, g *GRQ, w int, done *atomic.Bool, counts []atomic.Int32) {
	var c GCursor
	c.Reset(w)
	dst := make([]task.Task, 8)
	for now := int64(0); ; now++ {
		finished := done.Load() // read before popping: an empty pop after it is final
		n := g.PopBatch(dst, &c, now)
		if n == 0 {
			if finished {
				return
			}
			runtime.Gosched()
			continue
		}
		for i := range dst[:n] {
			if dst[i].Type != dst[0].Type {
				t.Errorf("batch mixes types %d and %d", dst[0].Type, dst[i].Type)
			}
			counts[dst[i].Meta0].Add(1)
		}
	}
}
