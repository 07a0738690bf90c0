package trace

import "testing"

// Benchmarks of the worker's trace hot path. BenchmarkGuardedTrace is the pair
// that shows what the stripped build saves; run it both ways:
//
//	go test -run '^$' -bench . ./kernel/trace
//	go test -run '^$' -bench . -tags gmk_notrace ./kernel/trace

// BenchmarkEmit measures one Emit plus its share of a batched Drain, against a
// non-blocking send on a buffered Go channel as the baseline.
func BenchmarkEmit(b *testing.B) {
	b.Run("chan", func(b *testing.B) {
		b.ReportAllocs()
		ch := make(chan Record, 1024)
		r := Record{Event: TaskStart}
		for i := range b.N {
			r.TS = int64(i)
			select {
			case ch <- r:
			default:
			}
			if len(ch) >= 512 {
				for range 512 {
					<-ch
				}
			}
		}
	})
	b.Run("writer", func(b *testing.B) {
		b.ReportAllocs()
		w := newTestWriter(0, 1024, 1, 1)
		dst := make([]Record, 512)
		r := Record{Event: TaskStart}
		for i := range b.N {
			r.TS = int64(i)
			w.Emit(&r)
			if i&511 == 511 {
				w.Drain(dst)
			}
		}
	})
	b.Run("writer-full", func(b *testing.B) { // the lost-record path
		b.ReportAllocs()
		w := newTestWriter(0, 2, 1, 1)
		r := Record{Event: TaskStart}
		for range b.N {
			w.Emit(&r)
		}
	})
}

func BenchmarkSample(b *testing.B) {
	b.ReportAllocs()
	w := newTestWriter(0, 2, 64, 1)
	hits := 0
	for range b.N {
		if w.Sample() {
			hits++
		}
	}
	sinkInt = hits
}

func BenchmarkLevelsEnabled(b *testing.B) {
	b.ReportAllocs()
	l := NewLevels(8, Warn)
	hits := 0
	for i := range b.N {
		if l.Enabled(i&7, ChanFull) {
			hits++
		}
	}
	sinkInt = hits
}

// BenchmarkGuardedTrace runs the traced worker loop of guard_test.go per task.
// With the default build it pays for the level check (warn), the sampler
// (all-1-in-64) or two Emits per task (all-every); with -tags gmk_notrace every
// case compiles to the bare loop.
func BenchmarkGuardedTrace(b *testing.B) {
	tasks := make([]fakeTask, 1024)
	for i := range tasks {
		tasks[i].typ = uint32(i & 7)
	}
	drain := make([]Record, 1024)
	for _, bc := range []struct {
		name        string
		level       Level
		sampleEvery uint32
	}{
		{"warn", Warn, 1},
		{"all-1-in-64", All, 64},
		{"all-every", All, 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			w := newTestWriter(0, 4096, bc.sampleEvery, 1)
			levels := NewLevels(1, bc.level)
			traced := 0
			for i := 0; i < b.N; i += len(tasks) {
				traced += runTraced(w, levels, 0, tasks[:min(len(tasks), b.N-i)], drain)
			}
			sinkInt = traced
		})
	}
}

var sinkInt int
