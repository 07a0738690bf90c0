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

// BenchmarkStepSplitPipeline3 is BenchmarkStepPipeline3 as Boot lays it
// over two workers (layout.go): stage 1 on one, stages 2 and 3 on the
// other, so every item crosses workers once (outbox, subscription ring,
// drain). Both workers are stepped on the benchmark's goroutine, so ns/op
// is the CPU cost of the path without cross-core traffic or parking.
func BenchmarkStepSplitPipeline3(b *testing.B) {
	got := 0
	sink := Module{Name: "s3", Handlers: []Handler{{Type: 3, Fn: func(c *Ctx) Status { got++; return OK }}},
		Channels: []ChanDecl{{Name: "b.s3", Dir: Consume, Type: 3, Guarantee: Lossless}}}
	k := stepKernelN(b, 2, stageModule("s1", "b.in", "b.s2", 1, nil), stageModule("s2", "b.s2", "b.s3", 2, nil), sink)
	if hs := homesOfChans(b, k, "b.in", "b.s2", "b.s3"); hs[0] == hs[1] || hs[1] != hs[2] {
		b.Fatalf("homes %v: the layout is not stage 1 | stages 2, 3", hs)
	}
	stepRun(b, k, &got)
}

// stepRun feeds b.N items to channel b.in in batches of 64 and steps the
// worker until *got counts them all.
func stepRun(b *testing.B, k *Kernel, got *int) {
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
			for _, w := range k.workers {
				if n := w.gather(); n > 0 {
					w.dispatch(w.batch[:n])
				}
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
func stepKernel(b *testing.B, mods ...Module) *Kernel { return stepKernelN(b, 1, mods...) }

// stepKernelN is stepKernel with n workers, all stopped.
func stepKernelN(b *testing.B, n int, mods ...Module) *Kernel {
	b.Helper()
	k, err := Boot(BootConfig{Workers: n, ArenaSize: 4 << 20, MaxTypes: 8, MaxChannels: 8}, mods...)
	if err != nil {
		b.Fatal(err)
	}
	k.stopFlag.Store(true)
	for i := range n {
		k.core.Idle.Wake(i)
	}
	k.wg.Wait()
	return k
}

func stepHalt(k *Kernel) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = k.Halt(ctx) // the worker is gone already; Halt accounts and runs Fini
}
