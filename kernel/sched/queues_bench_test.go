package sched

import (
	"container/heap"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// Benchmarks of the scheduling structures, each next to its baseline: a
// buffered Go channel of tasks for the ready queues, container/heap for the
// EVQ. One op = one batch of 32 in and out (ready queues) or one event in and
// out (EVQ); ns/task divides by the tasks moved.

const benchBatch = 32

func benchTasks(types int) []task.Task {
	ts := make([]task.Task, benchBatch)
	for i := range ts {
		ts[i] = mkTask(uint32(i*types/benchBatch), 0, uint64(i)) // runs of one type
	}
	return ts
}

// BenchmarkChanBaseline_PushPop32 is the Go-channel baseline: 32 sends and 32
// receives on a buffered channel, one goroutine.
func BenchmarkChanBaseline_PushPop32(b *testing.B) {
	ch := make(chan task.Task, 1024)
	ts := benchTasks(1)
	b.ReportAllocs()
	for b.Loop() {
		for i := range ts {
			ch <- ts[i]
		}
		for i := range ts {
			ts[i] = <-ch
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/task")
}

// [S2] RQ: PushBatch of 32 tasks of one priority, PopBatch of 32.
func BenchmarkS2_RQPushPopBatch32(b *testing.B) {
	q := NewRQ(1024)
	var c Cursor
	ts, dst := benchTasks(1), make([]task.Task, benchBatch)
	b.ReportAllocs()
	for b.Loop() {
		q.PushBatch(ts)
		q.PopBatch(dst, &c)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/task")
}

// [S2] RQ across workers: every goroutine pushes a batch of 32 on the shared RQ
// and pops 32 (its own or another's), retrying partial batches, so every op
// moves 32 tasks each way (the cross-core path).
func BenchmarkS2_RQPushPopBatch32Parallel(b *testing.B) {
	q := NewRQ(4096)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var c Cursor
		ts, dst := benchTasks(1), make([]task.Task, benchBatch)
		for pb.Next() {
			for n := 0; n < benchBatch; {
				n += q.PushBatch(ts[n:])
			}
			for n := 0; n < benchBatch; {
				n += q.PopBatch(dst[n:], &c)
			}
		}
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/task")
}

// [S3] GRQ: PushBatch of 32 tasks of one type, PopBatch of 32, 8 buckets.
func BenchmarkS3_GRQPushPopBatch32(b *testing.B) {
	g := NewGRQ([]uint32{0, 1, 2, 3, 4, 5, 6, 7}, 1024, 7)
	var c GCursor
	ts, dst := benchTasks(1), make([]task.Task, benchBatch)
	now := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		now++
		g.PushBatch(ts, now)
		g.PopBatch(dst, &c, now)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/task")
}

// [S5] EVQ: one Push and one PopDue of one event on a heap holding 1024.
func BenchmarkS5_EVQPushPop(b *testing.B) {
	q := NewEVQ[task.Task](DefaultEVQCapacity)
	for i := range int64(1024) {
		q.Push(i*7%1024, task.Task{})
	}
	dst := make([]task.Task, 1)
	now := int64(1024)
	b.ReportAllocs()
	for b.Loop() {
		q.Push(now+now*7%1024, task.Task{})
		q.PopDue(now, dst)
		now++
	}
}

// baseHeap is the container/heap baseline for the EVQ.
type baseHeap []baseEvent

type baseEvent struct {
	due int64
	seq uint64
	v   task.Task
}

func (h baseHeap) Len() int { return len(h) }
func (h baseHeap) Less(i, j int) bool {
	return h[i].due < h[j].due || h[i].due == h[j].due && h[i].seq < h[j].seq
}
func (h baseHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *baseHeap) Push(x any)   { *h = append(*h, x.(baseEvent)) }
func (h *baseHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// BenchmarkHeapBaseline_PushPop is the container/heap baseline of the EVQ
// benchmark: the same workload through heap.Push/heap.Pop.
func BenchmarkHeapBaseline_PushPop(b *testing.B) {
	h := make(baseHeap, 0, DefaultEVQCapacity)
	seq := uint64(0)
	for i := range int64(1024) {
		heap.Push(&h, baseEvent{due: i * 7 % 1024, seq: seq})
		seq++
	}
	now := int64(1024)
	b.ReportAllocs()
	for b.Loop() {
		heap.Push(&h, baseEvent{due: now + now*7%1024, seq: seq})
		seq++
		if h[0].due <= now {
			_ = heap.Pop(&h).(baseEvent)
		}
		now++
	}
}
