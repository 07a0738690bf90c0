package trace

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func newTestWriter(worker, capacity int, sampleEvery uint32, seed uint64) *Writer {
	return NewWriter(worker, make([]byte, RingBytes(capacity)), sampleEvery, seed)
}

// [O2] Emit never blocks: on a full ring it returns false and counts the record
// lost; draining makes room again and the survivors come out in order.
func TestO2_WriterFullCountsLost(t *testing.T) {
	w := newTestWriter(3, 8, 1, 1)
	if w.Worker() != 3 || w.Cap() != 8 {
		t.Fatalf("Worker %d Cap %d, want 3, 8", w.Worker(), w.Cap())
	}
	for i := range 20 {
		r := Record{TS: int64(i), Event: ChanFull, Arg0: uint64(i)}
		if ok := w.Emit(&r); ok != (i < 8) {
			t.Fatalf("Emit #%d = %v", i, ok)
		}
	}
	if w.Lost() != 12 || w.Len() != 8 {
		t.Fatalf("Lost %d Len %d, want 12, 8", w.Lost(), w.Len())
	}
	dst := make([]Record, 5)
	if n := w.Drain(dst); n != 5 || dst[0].Arg0 != 0 || dst[4].Arg0 != 4 {
		t.Fatalf("Drain = %d, %+v", n, dst)
	}
	r := Record{Arg0: 100}
	if !w.Emit(&r) {
		t.Fatal("Emit after Drain failed")
	}
	want := []uint64{5, 6, 7, 100}
	if n := w.Drain(dst); n != len(want) {
		t.Fatalf("second Drain = %d, want %d", n, len(want))
	}
	for i, a := range want {
		if dst[i].Arg0 != a {
			t.Errorf("record %d: Arg0 %d, want %d", i, dst[i].Arg0, a)
		}
	}
	if n := w.Drain(dst); n != 0 {
		t.Errorf("Drain of an empty ring = %d", n)
	}
}

// [O2] The host drains while the worker emits: every record either arrives,
// exactly once and in order, or is counted lost; none vanishes silently.
func TestO2_DrainWhileEmitting(t *testing.T) {
	const total = 200_000
	w := newTestWriter(0, 256, 1, 1)
	var done atomic.Bool
	var emitted, dropped uint64
	var wg sync.WaitGroup
	wg.Go(func() { // the worker
		for i := range uint64(total) {
			r := Record{TS: int64(i), Event: TaskStart, Arg0: i}
			if w.Emit(&r) {
				emitted++
			} else {
				dropped++
			}
		}
		done.Store(true)
	})

	var got, lastLost uint64
	next := uint64(0) // the lowest Arg0 the next record may carry
	buf := make([]Record, 64)
	for {
		finished := done.Load() // read before draining: nothing follows it
		n := w.Drain(buf)
		for _, r := range buf[:n] {
			if r.Arg0 < next {
				t.Fatalf("record %d after %d: duplicate or out of order", r.Arg0, next-1)
			}
			next = r.Arg0 + 1
		}
		got += uint64(n)
		lost := w.Lost() // read while the worker counts
		if lost < lastLost {
			t.Fatalf("Lost went back from %d to %d", lastLost, lost)
		}
		lastLost = lost
		if n == 0 {
			if finished {
				break
			}
			runtime.Gosched()
		}
	}
	wg.Wait()
	if got != emitted || emitted+dropped != total || w.Lost() != dropped {
		t.Fatalf("drained %d, emitted %d, dropped %d, Lost() %d, total %d",
			got, emitted, dropped, w.Lost(), total)
	}
	t.Logf("drained %d, lost %d", got, dropped)
}

// [O3] Sampling at level All selects 1/n of the tasks: over 1e6 decisions the
// count is within 5 standard deviations of the binomial mean. The seed is fixed,
// so the test is deterministic and cannot flake.
func TestO3_SamplingRate(t *testing.T) {
	const decisions = 1_000_000
	for _, n := range []uint32{2, 3, 8, 100, 1000} {
		for worker := range 2 {
			w := newTestWriter(worker, 2, n, 42)
			hits := 0
			for range decisions {
				if w.Sample() {
					hits++
				}
			}
			p := 1 / float64(n)
			mean := decisions * p
			sd := math.Sqrt(decisions * p * (1 - p))
			if dev := math.Abs(float64(hits) - mean); dev > 5*sd {
				t.Errorf("1/%d, worker %d: %d hits, want %.0f ± %.0f (5 sd)", n, worker, hits, mean, 5*sd)
			}
		}
	}
}

// [O3] sampleEvery <= 1 traces every task.
func TestO3_SamplingAlways(t *testing.T) {
	for _, n := range []uint32{0, 1} {
		w := newTestWriter(0, 2, n, 0)
		for i := range 10_000 {
			if !w.Sample() {
				t.Fatalf("sampleEvery %d: decision %d false", n, i)
			}
		}
	}
}

// [O3][D2] The sampler is deterministic per (seed, worker), and workers differ.
func TestO3_SamplingDeterministic(t *testing.T) {
	decisions := func(worker int, seed uint64) []bool {
		w := newTestWriter(worker, 2, 4, seed)
		out := make([]bool, 256)
		for i := range out {
			out[i] = w.Sample()
		}
		return out
	}
	a, b := decisions(1, 7), decisions(1, 7)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed and worker differ at decision %d", i)
		}
	}
	c := decisions(2, 7)
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same == len(a) {
		t.Error("workers 1 and 2 take identical decisions")
	}
}

// [O3] The consecutive decisions of one worker show no serial correlation that
// would bias which phase of a repeating workload gets traced.
func TestO3_SamplingNoPeriod(t *testing.T) {
	const n, decisions = 8, 800_000
	w := newTestWriter(0, 2, n, 99)
	var byPhase [n]int // hits by position modulo the sampling period
	for i := range decisions {
		if w.Sample() {
			byPhase[i%n]++
		}
	}
	per := float64(decisions/n) / n // expected hits per phase
	sd := math.Sqrt(float64(decisions/n) * (1.0 / n) * (1 - 1.0/n))
	for phase, hits := range byPhase {
		if math.Abs(float64(hits)-per) > 5*sd {
			t.Errorf("phase %d: %d hits, want %.0f ± %.0f", phase, hits, per, 5*sd)
		}
	}
}
