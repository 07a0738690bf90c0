package trace

import "testing"

// fakeTask is the little a worker loop needs from a task to trace it.
type fakeTask struct {
	typ    uint32
	tenant uint16
	forced bool
}

// runTraced is a worker loop in miniature, traced the way the kernel traces:
// every trace call is guarded by the Enabled constant, then the module level,
// then (per-task events at level All) the sampler, with EMIT_TRACE forcing it.
// It returns how many tasks it traced; the benchmarks use it with and without
// the gmk_notrace tag.
func runTraced(w *Writer, levels *Levels, module int, tasks []fakeTask, drain []Record) int {
	traced := 0
	for i := range tasks {
		t := &tasks[i]
		if Enabled {
			var flags Flags
			switch {
			case t.forced:
				flags = Forced
			case levels.Get(module) == All && w.Sample():
				flags = Sampled
			default:
				continue
			}
			r := Record{TS: int64(i), Type: t.typ, Tenant: t.tenant, Event: TaskStart, Flags: flags}
			w.Emit(&r)
			r.Event = TaskEnd
			w.Emit(&r)
			traced++
			if w.Len() > w.Cap()/2 { // the host's drainer, inline for the benchmark
				w.Drain(drain)
			}
		}
	}
	return traced
}

// [O3] Tracing follows the level, the sampler and EMIT_TRACE; in the stripped
// build (-tags gmk_notrace) the guarded code is gone and nothing is traced.
func TestO3_GuardedTaskTrace(t *testing.T) {
	tasks := make([]fakeTask, 1000)
	for i := range tasks {
		tasks[i] = fakeTask{typ: uint32(i % 5), forced: i%100 == 0}
	}
	drain := make([]Record, 1024)
	for _, tc := range []struct {
		level       Level
		sampleEvery uint32
		want        int // when Enabled
	}{
		{Warn, 1, 10},  // only the 10 EMIT_TRACE tasks
		{Off, 1, 10},   // EMIT_TRACE ignores the level
		{All, 1, 1000}, // every task
	} {
		w := newTestWriter(0, 4096, tc.sampleEvery, 1)
		levels := NewLevels(1, tc.level)
		got := runTraced(w, levels, 0, tasks, drain)
		want := tc.want
		if !Enabled {
			want = 0
		}
		if got != want {
			t.Errorf("level %v, Enabled=%v: traced %d tasks, want %d", tc.level, Enabled, got, want)
		}
	}
}
