package kernel

import (
	"context"
	"testing"
)

// BenchmarkStepPipeline3 is the CPU cost of one item through a co-located
// 3-stage pipeline on lossless P2P channels, producer included, measured on
// one goroutine: the kernel's only worker is stopped after Boot and the
// benchmark steps it (gather, dispatch) itself. No cross-core traffic, no
// parking: what is left is the instructions and cache misses of the path,
// which the two-goroutine benchmarks (internal/bench pipeline3) hide in
// their noise. ns/op is per item.
func BenchmarkStepPipeline3(b *testing.B) {
	got := 0
	sink := Module{Name: "s3", Handlers: []Handler{{Type: 3, Fn: func(c *Ctx) Status { got++; return OK }}},
		Channels: []ChanDecl{{Name: "b.s3", Dir: Consume, Type: 3, Guarantee: Lossless}}}
	k := stepKernel(b, stageModule("s1", "b.in", "b.s2", 1, nil), stageModule("s2", "b.s2", "b.s3", 2, nil), sink)
	stepRun(b, k, &got)
}

// BenchmarkStepP2P is BenchmarkStepPipeline3 with one stage: the consumer
// of the producer's channel only.
func BenchmarkStepP2P(b *testing.B) {
	got := 0
	sink := Module{Name: "s1", Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status { got++; return OK }}},
		Channels: []ChanDecl{{Name: "b.in", Dir: Consume, Type: 1, Guarantee: Lossless}}}
	stepRun(b, stepKernel(b, sink), &got)
}

// stepRun feeds b.N items to channel b.in in batches of 64 and steps the
// worker until *got counts them all.
func stepRun(b *testing.B, k *Kernel, got *int) {
	w := k.workers[0]
	in, _ := k.Chan("b.in")
	var batch [64]Task
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(batch) {
		m := min(len(batch), b.N-i)
		for j := range batch[:m] {
			batch[j] = Task{Type: 1, Meta0: uint64(i + j)}
		}
		if n, err := k.ChanEmitBatch(in, batch[:m]); n != m {
			b.Fatal(n, err)
		}
		for *got < i+m {
			if n := w.gather(); n > 0 {
				w.dispatch(w.batch[:n])
			}
		}
	}
	b.StopTimer()
	if *got != b.N {
		b.Fatalf("got %d of %d", *got, b.N)
	}
	stepHalt(k)
}

// stepKernel boots a one-worker kernel and stops its worker goroutine, so
// that the caller can step the worker on its own goroutine.
func stepKernel(b *testing.B, mods ...Module) *Kernel {
	b.Helper()
	k, err := Boot(BootConfig{Workers: 1, ArenaSize: 4 << 20, MaxTypes: 8, MaxChannels: 8}, mods...)
	if err != nil {
		b.Fatal(err)
	}
	k.stopFlag.Store(true)
	k.core.Idle.Wake(0)
	k.wg.Wait()
	return k
}

func stepHalt(k *Kernel) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = k.Halt(ctx) // the worker is gone already; Halt accounts and runs Fini
}
