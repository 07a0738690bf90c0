//go:build !race

package ring

import (
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// [R1] No allocation per operation: Push, Pop, PushBatch and PopBatch of
// task.Task allocate nothing, on the heap and arena-backed rings alike.
func TestR1_ZeroAllocs(t *testing.T) {
	in := make([]task.Task, 32)
	out := make([]task.Task, 32)
	var v task.Task
	m := NewMPMC[task.Task](64)
	s := NewSPSC[task.Task](64)
	a := NewSPSCIn[task.Task](make([]byte, 64*task.Size))
	for _, tc := range []struct {
		name string
		op   func()
	}{
		{"MPMC/Push+Pop", func() { m.Push(&v); m.Pop(&v) }},
		{"MPMC/PushBatch+PopBatch", func() { m.PushBatch(in); m.PopBatch(out) }},
		{"MPMC/full+empty", func() {
			m.PushBatch(in)
			m.PushBatch(in)
			m.Push(&v)
			m.PopBatch(out)
			m.PopBatch(out)
			m.Pop(&v)
		}},
		{"SPSC/Push+Pop", func() { s.Push(&v); s.Pop(&v) }},
		{"SPSC/PushBatch+PopBatch", func() { s.PushBatch(in); s.PopBatch(out) }},
		{"SPSCIn/Push+Pop", func() { a.Push(&v); a.Pop(&v) }},
		{"SPSCIn/PushBatch+PopBatch", func() { a.PushBatch(in); a.PopBatch(out) }},
		{"Len+Cap", func() { _ = m.Len() + m.Cap() + s.Len() + s.Cap() }},
	} {
		if n := testing.AllocsPerRun(1000, tc.op); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tc.name, n)
		}
	}
}

// [R1] MPSC operations allocate nothing.
func TestR1_MPSCZeroAllocs(t *testing.T) {
	r := NewMPSC[task.Task](64)
	var v task.Task
	batch := make([]task.Task, 8)
	if a := testing.AllocsPerRun(1000, func() {
		r.Push(&v)
		r.PushBatch(batch)
		r.PopBatch(batch)
		r.PopBatch(batch)
	}); a != 0 {
		t.Fatalf("%v allocations", a)
	}
}
