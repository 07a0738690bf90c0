package kernel

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
)

// Benchmarks of the kernel's hot paths. b.N is the number of tasks entering
// the kernel; ns/op is per task, end to end (submit to last handler).

func benchBoot(b *testing.B, workers int, mods ...Module) *Kernel {
	b.Helper()
	k, err := Boot(BootConfig{Workers: workers, ArenaSize: 4 << 20, MaxTypes: 16}, mods...)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func benchHalt(b *testing.B, k *Kernel) {
	if err := k.Halt(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// submitAll submits n tasks of type typ in batches of 64.
func submitAll(b *testing.B, k *Kernel, typ uint32, n int) {
	var batch [64]Task
	for i := 0; i < n; {
		m := min(len(batch), n-i)
		for j := range batch[:m] {
			batch[j] = Task{Type: typ, Meta0: uint64(i + j)}
		}
		for off := 0; off < m; {
			got, err := k.SubmitBatch(batch[off:m])
			off += got
			if err != nil && got == 0 {
				waitRoom(k)
			}
		}
		i += m
	}
}

func waitRoom(k *Kernel) {
	for k.core.SharedLen() > k.cfg.QueueCap/2 {
		runtime.Gosched()
	}
}

// BenchmarkSubmitDispatch: SubmitBatch of inline tasks dispatched to one handler.
func BenchmarkSubmitDispatch(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[w], func(b *testing.B) {
			var done atomic.Int64
			k := benchBoot(b, w, Module{Name: "m", Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status { done.Add(1); return OK }}}})
			b.ReportAllocs()
			b.ResetTimer()
			submitAll(b, k, 1, b.N)
			benchHalt(b, k)
			if done.Load() != int64(b.N) {
				b.Fatalf("done %d of %d", done.Load(), b.N)
			}
		})
	}
}

// BenchmarkPipeline3: submitted tasks run stage1 (direct), then P2P channels
// to stage2 and stage3.
func BenchmarkPipeline3(b *testing.B) {
	var done atomic.Int64
	k := benchBoot(b, 2, stageModule("s1", "", "b.s2", 1, &done), stageModule("s2", "b.s2", "b.s3", 2, &done),
		stageModule("s3", "b.s3", "", 3, &done))
	b.ReportAllocs()
	b.ResetTimer()
	submitAll(b, k, 1, b.N)
	benchHalt(b, k)
	if done.Load() != int64(b.N) {
		b.Fatalf("done %d of %d", done.Load(), b.N)
	}
}

// BenchmarkFanout3: submitted tasks emit on a lossless fan-out channel with 3
// subscribers.
func BenchmarkFanout3(b *testing.B) {
	var done atomic.Int64
	var fan ChanID
	src := Module{Name: "src", Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
		x := *c.Task()
		x.Type = 2
		if c.ChanEmit(fan, x) != nil {
			return Retry
		}
		return OK
	}}}, Channels: []ChanDecl{{Name: "b.fan", Dir: Produce, Type: 2, Mode: FanOut, Guarantee: Lossless}},
		Init: func(c *Ctx) (err error) { fan, err = c.Kernel().Chan("b.fan"); return err }}
	mods := []Module{src}
	for _, n := range []string{"a", "b", "c"} {
		mods = append(mods, Module{Name: n, Handlers: []Handler{{Type: 2, Fn: func(c *Ctx) Status { done.Add(1); return OK }}},
			Channels: []ChanDecl{{Name: "b.fan", Dir: Consume, Type: 2, Mode: FanOut, Guarantee: Lossless}}})
	}
	k := benchBoot(b, 2, mods...)
	b.ReportAllocs()
	b.ResetTimer()
	submitAll(b, k, 1, b.N)
	benchHalt(b, k)
	if done.Load() != 3*int64(b.N) {
		b.Fatalf("done %d of %d", done.Load(), 3*b.N)
	}
}

// BenchmarkHopLocal: one task bounces through a P2P channel whose subscriber
// is homed on the emitting worker, b.N hops, one worker: the cost of a
// co-located pipeline stage (dispatch + ChanEmit + local delivery).
func BenchmarkHopLocal(b *testing.B) {
	var done atomic.Int64
	var ch ChanID
	n := uint64(b.N)
	hop := Module{Name: "hop",
		Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
			x := *c.Task()
			if x.Meta0 >= n {
				done.Add(1)
				return OK
			}
			x.Meta0++
			if c.ChanEmit(ch, x) != nil {
				return Retry
			}
			return OK
		}}},
		Channels: []ChanDecl{{Name: "b.hop", Dir: Consume, Type: 1, Guarantee: Lossless},
			{Name: "b.hop", Dir: Produce, Type: 1, Guarantee: Lossless}},
		Init: func(c *Ctx) (err error) { ch, err = c.Kernel().Chan("b.hop"); return err },
	}
	k := benchBoot(b, 1, hop)
	b.ReportAllocs()
	b.ResetTimer()
	if err := k.ChanEmit(ch, Task{Type: 1, Meta0: 1}); err != nil {
		b.Fatal(err)
	}
	for done.Load() == 0 {
		runtime.Gosched()
	}
	b.StopTimer()
	benchHalt(b, k)
}
