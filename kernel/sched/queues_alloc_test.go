//go:build !race

package sched

import (
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// The race detector changes allocation behaviour, hence the build tag.

// [S2] RQ push and batch pop allocate nothing.
func TestS2_RQZeroAlloc(t *testing.T) {
	q := NewRQ(64)
	var c Cursor
	ts := make([]task.Task, 32)
	for i := range ts {
		ts[i] = mkTask(0, i%task.NumPriorities, uint64(i))
	}
	dst := make([]task.Task, 32)
	allocs := testing.AllocsPerRun(100, func() {
		q.Push(&ts[0])
		q.PushBatch(ts)
		for q.PopBatch(dst, &c) > 0 {
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

// [S3] GRQ push and batch pop (aging scans included) allocate nothing.
func TestS3_GRQZeroAlloc(t *testing.T) {
	g := NewGRQ([]uint32{1, 2, 3}, 64, 3)
	var c GCursor
	ts := make([]task.Task, 32)
	for i := range ts {
		ts[i] = mkTask(uint32(1+i%3), i%task.NumPriorities, uint64(i))
	}
	dst := make([]task.Task, 32)
	now := int64(0)
	allocs := testing.AllocsPerRun(100, func() {
		now++
		g.Push(&ts[0], now)
		g.PushBatch(ts, now)
		for g.PopBatch(dst, &c, now) > 0 {
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

// [S5] EVQ operations allocate nothing once constructed: the heap array is
// allocated by NewEVQ. Checked for a small and a task-sized element.
func TestS5_EVQZeroAlloc(t *testing.T) {
	t.Run("uint32", func(t *testing.T) { evqZeroAlloc(t, uint32(7)) })
	t.Run("task.Task", func(t *testing.T) { evqZeroAlloc(t, mkTask(3, 1, 7)) })
}

func evqZeroAlloc[T any](t *testing.T, v T) {
	q := NewEVQ[T](1024)
	dst := make([]T, 16)
	now := int64(0)
	drain := func(int64, T) {}
	allocs := testing.AllocsPerRun(100, func() {
		for i := range int64(64) {
			q.Push(now+i%13, v)
		}
		q.PeekDue()
		now += 8
		for q.PopDue(now, dst) > 0 {
		}
		if q.Len() > 512 {
			q.Drain(drain)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}
