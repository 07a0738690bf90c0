package bench

import (
	"runtime"
	"sync"
	"testing"

	"github.com/gmkernel/gmk/kernel/ring"
	"github.com/gmkernel/gmk/kernel/task"
)

// The pipeline3 floor: GMK's pipeline3 with the runtime taken out. The same
// handler code (the statements of gmkStage's and gmkSink's handlers, on a
// context with the same Task and ChanEmit signatures), the same layout as
// Boot gives GMK (a producer goroutine; stage 1 on one goroutine; stages 2
// and 3 on the other, depth-first), the same batches (64 from the producer,
// 32 per pop), and between the goroutines the cheapest transport at hand: a
// single-producer single-consumer ring with one publication per batch.
// Nothing else: no subscription bookkeeping, no checks for closed channels,
// held modules or poisoned types, no counters, no traces, no parking, no
// panic recovery. No runtime with those duties can run pipeline3 faster on
// the same machine, so this is the yardstick for the case's targets (the
// README's benchmark section).

// floorCtx is the least a runtime can give a handler: its task, and an emit
// that copies the emitted task, stamped with its channel, into an output
// buffer (GMK copies into a handoff slot or an outbox the same way).
type floorCtx struct {
	t   *task.Task
	out []task.Task
	n   int
}

func (c *floorCtx) Task() *task.Task { return c.t }

// ChanEmit has kernel.Ctx.ChanEmit's shape: the task by value, passed on by
// address to an emit that is not inlined.
func (c *floorCtx) ChanEmit(ch uint32, t task.Task) error { return c.emit(ch, &t) }

//go:noinline
func (c *floorCtx) emit(ch uint32, t *task.Task) error {
	d := &c.out[c.n]
	*d = *t
	d.Channel = ch
	c.n++
	return nil
}

// floorStage is gmkStage's handler on a floorCtx.
func floorStage(typ uint32) func(*floorCtx) int {
	return func(c *floorCtx) int {
		v := *c.Task()
		v.Type, v.Meta0 = typ+1, v.Meta0+1
		if c.ChanEmit(typ+1, v) != nil {
			return 1
		}
		return 0
	}
}

// floorSink is gmkSink's handler (stage 3: offset 3, bump) on a floorCtx.
func floorSink(got *tally) func(*floorCtx) int {
	return func(c *floorCtx) int {
		v := *c.Task()
		v.Meta0++
		got.add(v, 3)
		return 0
	}
}

// floorPipeline3 runs n items through the floor pipeline and checks them.
func floorPipeline3(n int, t timer) error {
	var got tally
	in, mid := ring.NewSPSC[task.Task](16384), ring.NewSPSC[task.Task](16384)
	s1, s2, s3 := floorStage(gmkIn), floorStage(gmkS2), floorSink(&got)
	var wg sync.WaitGroup
	wg.Add(2)
	t.ResetTimer()
	go func() { // stage 1
		defer wg.Done()
		var batch [32]task.Task
		c := &floorCtx{out: make([]task.Task, len(batch))}
		for done := 0; done < n; {
			m := popOrYield(in, batch[:])
			c.n = 0
			for i := range batch[:m] {
				c.t = &batch[i]
				s1(c)
			}
			pushAll(mid, c.out[:c.n])
			done += m
		}
	}()
	go func() { // stages 2 and 3, each item through both before the next
		defer wg.Done()
		var batch [32]task.Task
		c := &floorCtx{out: make([]task.Task, 1)}
		for done := 0; done < n; {
			m := popOrYield(mid, batch[:])
			for i := range batch[:m] {
				c.t, c.n = &batch[i], 0
				s2(c)
				c.t = &c.out[0]
				s3(c)
			}
			done += m
		}
	}()
	var batch [gmkBatch]task.Task
	for i := 0; i < n; i += len(batch) {
		m := min(len(batch), n-i)
		for j := range batch[:m] {
			batch[j] = item(i + j)
		}
		pushAll(in, batch[:m])
	}
	wg.Wait()
	t.StopTimer()
	return got.check("floor pipeline3 stage3", n)
}

// popOrYield pops a batch from r, yielding the processor while r is empty.
func popOrYield(r *ring.SPSC[task.Task], dst []task.Task) int {
	m := r.PopBatch(dst)
	for m == 0 {
		runtime.Gosched()
		m = r.PopBatch(dst)
	}
	return m
}

// pushAll pushes ts to r, yielding the processor while r is full.
func pushAll(r *ring.SPSC[task.Task], ts []task.Task) {
	for len(ts) > 0 {
		k := r.PushBatch(ts)
		if k == 0 {
			runtime.Gosched()
		}
		ts = ts[k:]
	}
}

func TestPipeline3Floor_DeliversEveryItemOnce(t *testing.T) {
	for _, n := range []int{1, 2, 31, 32, 33, 63, 64, 65, 1025, 40001} {
		if err := floorPipeline3(n, nopTimer{}); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
	}
}

// BenchmarkPipeline3Floor is pipeline3 with no runtime (see above); ns/op is
// per item. Compare with BenchmarkCases/pipeline3 in the same run.
func BenchmarkPipeline3Floor(b *testing.B) {
	b.ReportAllocs()
	if err := floorPipeline3(b.N, b); err != nil {
		b.Fatal(err)
	}
}
