package kernel

// Load tests: the soak of GMK.md acceptance 3, the multi-producer
// exactly-once test of acceptance 2 ([S1], [S2], [R2]) and the type-bucketed
// GRQ under a flood (acceptance 11, [S3]) at kernel level.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel/sched"
)

// [S1][S2][R2] Acceptance 2 at kernel level: four goroutines submit (two with
// Submit, two with SubmitBatch) tasks of all four priorities; each root task
// emits a follow-on task, which emits a channel delivery to a subscriber
// homed on worker 1, so deliveries cross workers. A per-task bitmap (Meta0 is
// a unique id) proves every task ran exactly once; the P2P lossless
// subscriber sees sequence numbers 1, 2, 3 … in order.
func TestS1_MultiProducerExactlyOnce(t *testing.T) {
	const tRoot, tNext, tChan, producers = 1, 2, 3, 4
	n := 100000
	if testing.Short() {
		n = 20000
	}
	seen := make([]atomic.Uint32, 3*n)
	var dups, wrongHome, outOfOrder atomic.Int64
	mark := func(id uint64) {
		if !seen[id].CompareAndSwap(0, 1) {
			dups.Add(1)
		}
	}
	var xID ChanID
	var lastSeq uint32 // written only by the subscriber's home worker
	m := Module{Name: "a2",
		Handlers: []Handler{
			{Type: tRoot, Fn: func(c *Ctx) Status {
				id := c.Task().Meta0
				if c.Emit(Task{Type: tNext, Meta0: uint64(n) + id, Flags: c.Task().Flags}) != nil {
					return Retry // LQ and ready queue full: try again later
				}
				mark(id)
				return OK
			}},
			{Type: tNext, Fn: func(c *Ctx) Status {
				id := c.Task().Meta0
				if c.ChanEmit(xID, Task{Type: tChan, Meta0: uint64(n) + id}) != nil {
					return Retry // CHAN_FULL
				}
				mark(id)
				return OK
			}},
			{Type: tChan, Fn: func(c *Ctx) Status {
				if c.Worker() != 1 {
					wrongHome.Add(1)
				}
				if seq := c.Task().Seq; seq != lastSeq+1 {
					outOfOrder.Add(1)
				} else {
					lastSeq = seq
				}
				mark(c.Task().Meta0)
				return OK
			}},
		},
		Channels: []ChanDecl{{Name: "a2.x", Dir: Consume, Type: tChan, Guarantee: Lossless, Pin: true, Worker: 1}},
		Init: func(c *Ctx) (err error) {
			xID, err = c.Kernel().Chan("a2.x")
			return err
		},
	}
	k := fxBoot(t, BootConfig{Workers: 2, Retry: RetryPolicy{Max: 1 << 15, Min: 10 * time.Microsecond, Cap: time.Millisecond}}, m)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fxProduce(t, k, p, producers, n, p >= 2)
		}()
	}
	wg.Wait()
	r := haltOK(t, k)
	checkIdentity(t, r)
	for id := range seen {
		if seen[id].Load() != 1 {
			t.Fatalf("task %d ran %d times", id, seen[id].Load())
		}
	}
	if dups.Load() != 0 || wrongHome.Load() != 0 || outOfOrder.Load() != 0 {
		t.Fatalf("dups %d, deliveries off their home worker %d, out of order %d", dups.Load(), wrongHome.Load(), outOfOrder.Load())
	}
	if s := r.Stats; s.Completed != uint64(3*n) || s.Errored != 0 || s.Dropped != 0 || r.Queued != 0 || s.Submitted != uint64(n) {
		t.Fatalf("stats %v queued %d, want %d completed", s, r.Queued, 3*n)
	}
	t.Logf("%v", r.Stats)
}

// fxProduce submits root tasks p, p+stride, … below n with mixed priorities,
// one by one or in batches of 64.
func fxProduce(t *testing.T, k *Kernel, p, stride, n int, batch bool) {
	var buf []Task
	flush := func() {
		for len(buf) > 0 {
			m, err := k.SubmitBatch(buf)
			buf = buf[m:]
			if err != nil && !fxIsFull(err) {
				t.Errorf("submit batch: %v", err)
				return
			}
			if m == 0 {
				runtime.Gosched()
			}
		}
	}
	for id := p; id < n; id += stride {
		x := Task{Type: 1, Meta0: uint64(id)}
		x.SetPriority(id / stride % 4)
		if batch {
			if buf = append(buf, x); len(buf) == 64 {
				flush()
			}
			continue
		}
		for {
			err := k.Submit(x)
			if err == nil {
				break
			}
			if !fxIsFull(err) {
				t.Errorf("submit: %v", err)
				return
			}
			runtime.Gosched()
		}
	}
	flush()
}

// Soak task types.
const (
	skWork = iota + 1
	skPay
	skFan
	skSink
)

// skPlan is what a soak root task does, chosen by a hash of its id.
func skPlan(id uint64) uint64 {
	h := id * 0x9E3779B97F4A7C15
	return (h >> 32) % 10000
}

// skWorkFn is the soak's root handler: rare RETRY (once, or for ever), FAIL
// and panics; some yield twice; some emit a follow-on with a payload; some
// emit on the lossy fan-out channel, a few in bursts larger than its queues.
func skWorkFn(fan *ChanID, panics *atomic.Int64) HandlerFunc {
	return func(c *Ctx) Status {
		x := c.Task()
		switch p := skPlan(x.Meta0); {
		case p < 100 && x.Aux == 0: // 1 %: one retry
			return Retry
		case p >= 100 && p < 130: // 0.3 %: retries until RETRY_LIMIT
			return Retry
		case p >= 130 && p < 180: // 0.5 %
			return FailCode(-11)
		case p >= 180 && p < 200: // 0.2 %
			panics.Add(1)
			panic("soak")
		case p >= 200 && p < 700 && x.Meta1 < 2: // 5 %: two yields
			x.Meta1++ // the phase; Meta0 keeps the id
			c.Yield()
		case p >= 700 && p < 1700: // 10 %: a follow-on with a payload
			skEmitPayload(c, x.Meta0)
		case p >= 1700 && p < 2200: // 5 %: one fan-out message
			skFanOut(c, *fan, x.Meta0, p%2 == 0)
		case p >= 2200 && p < 2202: // 0.02 %: a burst of 100 into 64-slot queues, one of them homed here
			for i := range 100 {
				skFanOut(c, *fan, x.Meta0+uint64(i), i%3 == 0)
			}
		}
		return OK
	}
}

func skEmitPayload(c *Ctx, id uint64) {
	n := 64 + int(id%193)
	h, b, err := c.Alloc(n)
	if err != nil {
		return // ALLOC_FAIL is a normal result
	}
	for i := range b[:n] {
		b[i] = byte(id + uint64(i))
	}
	if c.Emit(Task{Type: skPay, Payload: h, PayloadLen: uint32(n), Meta0: id}) != nil {
		_ = c.Free(h)
	}
}

func skFanOut(c *Ctx, fan ChanID, id uint64, payload bool) {
	x := Task{Type: skFan, Meta0: id}
	if payload {
		h, b, err := c.Alloc(64)
		if err == nil {
			b[0] = byte(id)
			x.Payload, x.PayloadLen = h, 64
		}
	}
	if c.ChanEmit(fan, x) != nil && x.Payload != 0 {
		_ = c.Free(x.Payload) // refused: the reference stays with the emitter
	}
}

// skPayFn checks the follow-on's payload bytes.
func skPayFn(bad *atomic.Int64) HandlerFunc {
	return func(c *Ctx) Status {
		x := c.Task()
		b := c.Payload()
		if len(b) != int(x.PayloadLen) {
			bad.Add(1)
			return OK
		}
		for i := range b {
			if b[i] != byte(x.Meta0+uint64(i)) {
				bad.Add(1)
				return OK
			}
		}
		return OK
	}
}

// skSlowFn is the slow fan-out subscriber.
func skSlowFn(c *Ctx) Status {
	s := c.Task().Meta0
	for range 200 {
		s = s*6364136223846793005 + 1
	}
	if s == 42 {
		c.Task().Meta1 = s // keep the loop
	}
	return OK
}

// Acceptance 3: the soak. Producers submit 1M tasks (100k with -short) with
// random RETRY/FAIL/panic at low rates, yields, payloads, and a lossy fan-out
// channel with a slow subscriber; then Halt under load with a short deadline
// while the producers are still submitting. Everything is accounted exactly:
// Created == Completed + Errored + Dropped + Queued, the arena has no live
// block, producers get ErrClosed, and goleak (TestMain) finds no goroutine.
func TestSoak_Acceptance3(t *testing.T) {
	target := int64(1_000_000)
	if testing.Short() {
		target = 100_000
	}
	start := time.Now()
	var fan ChanID
	var panics, badPayload atomic.Int64
	sink := &fxSink{countOnly: true}
	fanDecl := ChanDecl{Name: "soak.fan", Dir: Consume, Type: skFan, Mode: FanOut, Guarantee: Lossy, Slots: 64}
	work := Module{Name: "work",
		Handlers: []Handler{{Type: skWork, Fn: skWorkFn(&fan, &panics)}, {Type: skPay, Fn: skPayFn(&badPayload)}},
		Channels: []ChanDecl{{Name: "soak.fan", Dir: Produce, Type: skFan, Mode: FanOut, Guarantee: Lossy, Slots: 64}},
		Init: func(c *Ctx) (err error) {
			fan, err = c.Kernel().Chan("soak.fan")
			return err
		},
	}
	fast := Module{Name: "fast", Handlers: []Handler{{Type: skFan, Fn: func(*Ctx) Status { return OK }}},
		Channels: []ChanDecl{fanDecl}}
	slow := Module{Name: "slow", Handlers: []Handler{{Type: skFan, Fn: skSlowFn}}, Channels: []ChanDecl{fanDecl}}
	cfg := BootConfig{Workers: 2, Tenants: 2, ArenaSize: 8 << 20, QueueCap: 8192, OverflowCap: 256,
		Retry:  RetryPolicy{Max: 3, Min: 20 * time.Microsecond, Cap: 200 * time.Microsecond},
		Poison: PoisonPolicy{Failures: 1 << 16, Window: 1}}
	k := fxBoot(t, cfg, work, fast, slow, sink.module("sink", skSink, SysError, SysDropped))

	var nextID, admitted atomic.Int64
	var closed atomic.Int32
	var wg sync.WaitGroup
	for p := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := skProduce(k, p == 0, &nextID, &admitted); errors.Is(err, ErrClosed) {
				closed.Add(1)
			} else {
				t.Errorf("producer %d stopped with %v, want ErrClosed", p, err)
			}
		}()
	}
	fxWaitFor(t, "the soak's submissions", 3*time.Minute, func() bool { return admitted.Load() >= target })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	err := k.Halt(ctx) // producers are still submitting
	cancel()
	wg.Wait()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("halt: %v", err)
	}
	r, ok := k.Halted()
	if !ok {
		t.Fatal("no halt report")
	}
	checkIdentity(t, r)
	if closed.Load() != 2 || r.Stats.Submitted != uint64(admitted.Load()) {
		t.Fatalf("%d producers saw ErrClosed; submitted %d, admitted %d", closed.Load(), r.Stats.Submitted, admitted.Load())
	}
	if live := k.arena.Live(); live != 0 {
		t.Fatalf("%d payload blocks live after halt", live)
	}
	if r.Stats.Panics != uint64(panics.Load()) || badPayload.Load() != 0 || r.Stats.PayloadMisuse != 0 {
		t.Fatalf("panics %d (handlers raised %d), bad payloads %d, misuse %d", r.Stats.Panics, panics.Load(), badPayload.Load(), r.Stats.PayloadMisuse)
	}
	if fs, _ := k.ChanStats(fan); r.Stats.Dropped == 0 || fs.Drops == 0 || r.Stats.Retried == 0 || r.Stats.Yielded == 0 {
		t.Fatalf("the soak did not exercise drops (%d, channel %d), retries or yields: %v", r.Stats.Dropped, fs.Drops, r.Stats)
	}
	if err := k.Halt(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("second halt: %v, want ErrClosed", err)
	}
	t.Logf("%v queued=%d syslost=%d reports=%d halt=%v in %v", r.Stats, r.Queued, r.Stats.SysLost, sink.n.Load(), err, time.Since(start))
}

// skProduce submits soak root tasks until the kernel closes; it returns the
// error that stopped it.
func skProduce(k *Kernel, batch bool, nextID, admitted *atomic.Int64) error {
	buf := make([]Task, 256)
	for {
		n := 1
		if batch {
			n = len(buf)
		}
		base := nextID.Add(int64(n)) - int64(n)
		for i := range buf[:n] {
			id := uint64(base) + uint64(i)
			buf[i] = Task{Type: skWork, Meta0: id, Tenant: uint16(id % 2)}
			buf[i].SetPriority(int(id % 4))
		}
		for ts := buf[:n]; len(ts) > 0; {
			m, err := k.SubmitBatch(ts)
			admitted.Add(int64(m))
			ts = ts[m:]
			switch {
			case err == nil:
			case fxIsFull(err):
				runtime.Gosched()
			default:
				return fmt.Errorf("after %d tasks: %w", admitted.Load(), err)
			}
		}
	}
}

// fxTypeRuns boots a kernel with policy, has Init queue nA tasks of type 1
// and nB of type 2 interleaved (A B A B …) before the workers start, records
// each worker's sequence of task types, and returns the number of runs of
// equal types over all workers and the batch size.
func fxTypeRuns(t *testing.T, policy sched.Policy, nA, nB int) (runs, batch int) {
	var mu sync.Mutex
	seqs := map[int][]uint32{}
	rec := func(c *Ctx) Status {
		mu.Lock()
		seqs[c.Worker()] = append(seqs[c.Worker()], c.Task().Type)
		mu.Unlock()
		return OK
	}
	m := Module{Name: "mix", Handlers: []Handler{{Type: 1, Fn: rec}, {Type: 2, Fn: rec}},
		Init: func(c *Ctx) error {
			for i := range max(nA, nB) {
				for typ, n := range map[uint32]int{1: nA, 2: nB} {
					if i < n {
						if err := c.Emit(Task{Type: typ}); err != nil {
							return err
						}
					}
				}
			}
			return nil
		}}
	k := fxBoot(t, BootConfig{Workers: 2, Policy: policy, QueueCap: 8192}, m)
	r := haltOK(t, k)
	checkIdentity(t, r)
	for _, seq := range seqs {
		for i := range seq {
			if i == 0 || seq[i] != seq[i-1] {
				runs++
			}
		}
	}
	return runs, k.Config().BatchSize
}

// [S3] Acceptance 11: with the GRQ policy every batch is one type, so the
// types a worker runs come in runs of whole batches — at most one run per
// batch — while the FIFO RQ runs the same interleaved input mixed.
func TestS3_GRQHomogeneousBatches(t *testing.T) {
	const nA, nB = 4000, 3000
	runs, batch := fxTypeRuns(t, sched.PolicyGRQ, nA, nB)
	batches := (nA+batch-1)/batch + (nB+batch-1)/batch
	// Two workers popping the last tasks of a bucket may split one batch.
	if runs > 2*batches {
		t.Fatalf("GRQ: %d runs of one type, want at most %d (one per batch)", runs, 2*batches)
	}
	rqRuns, _ := fxTypeRuns(t, sched.PolicyRQ, nA, nB)
	if rqRuns < 10*batches {
		t.Fatalf("RQ: only %d runs for interleaved input: the test does not discriminate", rqRuns)
	}
	t.Logf("runs of one type: GRQ %d (%d full batches), RQ %d", runs, batches, rqRuns)
}

// [S3] Acceptance 11: under a flood of three types queued before a few
// tasks of a rare, low-priority type, the rare tasks run within one lap of
// the bucket rotation — after at most one batch of each flood type — while
// nearly all of the flood is still queued. (One worker keeps the order
// deterministic.)
func TestS3_GRQRareTypeNotStarved(t *testing.T) {
	const tRare, nFlood, nRare = 4, 2000, 16
	var floodDone, rareDone, maxBefore atomic.Int64
	flood := func(*Ctx) Status { floodDone.Add(1); return OK }
	m := Module{Name: "flood", Handlers: []Handler{{Type: 1, Fn: flood}, {Type: 2, Fn: flood}, {Type: 3, Fn: flood},
		{Type: tRare, Fn: func(c *Ctx) Status {
			maxBefore.Store(max(maxBefore.Load(), floodDone.Load())) // one worker: no race
			rareDone.Add(1)
			return OK
		}},
	}, Init: func(c *Ctx) error {
		for i := range 3*nFlood + nRare {
			x := Task{Type: uint32(1 + i%3)}
			if i >= 3*nFlood {
				x = Task{Type: tRare}
				x.SetPriority(3)
			}
			if err := c.Emit(x); err != nil {
				return err
			}
		}
		return nil
	}}
	k := fxBoot(t, BootConfig{Workers: 1, Policy: sched.PolicyGRQ}, m)
	r := haltOK(t, k)
	checkIdentity(t, r)
	if rareDone.Load() != nRare || floodDone.Load() != 3*nFlood {
		t.Fatalf("rare %d of %d, flood %d of %d", rareDone.Load(), nRare, floodDone.Load(), 3*nFlood)
	}
	if batch := int64(k.Config().BatchSize); maxBefore.Load() > 3*batch {
		t.Fatalf("the rare tasks waited for %d flood tasks, want at most one batch of each flood type (%d)", maxBefore.Load(), 3*batch)
	}
	t.Logf("the rare tasks ran after %d of %d flood tasks", maxBefore.Load(), 3*nFlood)
}
