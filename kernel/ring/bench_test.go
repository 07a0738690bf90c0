package ring

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/gmkernel/gmk/kernel/task"
)

// Benchmarks of [R1], per element of task.Task, against a buffered Go channel
// as the baseline. "PushPop" runs push then pop on one goroutine, calling the
// concrete types (no contention: the cost of the protocol itself);
// "ProducerConsumer" runs a producer goroutine against the benchmark goroutine
// as consumer, each yielding when the ring is full or empty.

const (
	benchCap   = 1024
	benchBatch = 32
)

func BenchmarkPushPop(b *testing.B) {
	b.Run("chan", func(b *testing.B) {
		ch := make(chan task.Task, benchCap)
		var v task.Task
		b.ReportAllocs()
		for b.Loop() {
			ch <- v
			v = <-ch
		}
	})
	b.Run("MPMC", func(b *testing.B) {
		r := NewMPMC[task.Task](benchCap)
		var v task.Task
		b.ReportAllocs()
		for b.Loop() {
			r.Push(&v)
			r.Pop(&v)
		}
	})
	b.Run("MPMC/batch32", func(b *testing.B) {
		r := NewMPMC[task.Task](benchCap)
		buf := make([]task.Task, benchBatch)
		b.ReportAllocs()
		for i := 0; i < b.N; i += benchBatch { // ns/op is per element
			r.PushBatch(buf)
			r.PopBatch(buf)
		}
	})
	b.Run("MPSC", func(b *testing.B) {
		r := mpscQueue{NewMPSC[task.Task](benchCap)}
		var v task.Task
		b.ReportAllocs()
		for b.Loop() {
			r.Push(&v)
			r.Pop(&v)
		}
	})
	b.Run("MPSC/batch32", func(b *testing.B) {
		r := NewMPSC[task.Task](benchCap)
		buf := make([]task.Task, benchBatch)
		b.ReportAllocs()
		for i := 0; i < b.N; i += benchBatch {
			r.PushBatch(buf)
			r.PopBatch(buf)
		}
	})
	b.Run("SPSC", func(b *testing.B) {
		r := NewSPSC[task.Task](benchCap)
		var v task.Task
		b.ReportAllocs()
		for b.Loop() {
			r.Push(&v)
			r.Pop(&v)
		}
	})
	b.Run("SPSC/batch32", func(b *testing.B) {
		r := NewSPSC[task.Task](benchCap)
		buf := make([]task.Task, benchBatch)
		b.ReportAllocs()
		for i := 0; i < b.N; i += benchBatch {
			r.PushBatch(buf)
			r.PopBatch(buf)
		}
	})
}

func BenchmarkProducerConsumer(b *testing.B) {
	b.Run("chan", func(b *testing.B) {
		ch := make(chan task.Task, benchCap)
		b.ReportAllocs()
		go func() {
			for i := range b.N {
				ch <- task.Task{Meta0: uint64(i)}
			}
		}()
		for range b.N {
			<-ch
		}
	})
	b.Run("MPMC", func(b *testing.B) { benchProdCons(b, NewMPMC[task.Task](benchCap), 1) })
	b.Run("MPMC/batch32", func(b *testing.B) { benchProdCons(b, NewMPMC[task.Task](benchCap), benchBatch) })
	b.Run("MPSC", func(b *testing.B) { benchProdCons(b, mpscQueue{NewMPSC[task.Task](benchCap)}, 1) })
	b.Run("MPSC/batch32", func(b *testing.B) { benchProdCons(b, mpscQueue{NewMPSC[task.Task](benchCap)}, benchBatch) })
	b.Run("SPSC", func(b *testing.B) { benchProdCons(b, NewSPSC[task.Task](benchCap), 1) })
	b.Run("SPSC/batch32", func(b *testing.B) { benchProdCons(b, NewSPSC[task.Task](benchCap), benchBatch) })
}

// benchProdCons moves b.N elements from a producer goroutine to the benchmark
// goroutine, batch at a time (single operations when batch is 1).
func benchProdCons(b *testing.B, r queue[task.Task], batch int) {
	done := make(chan struct{})
	b.ReportAllocs()
	go func() {
		defer close(done)
		buf := make([]task.Task, batch)
		for sent := 0; sent < b.N; {
			n := min(batch, b.N-sent)
			k := moveBatch(r.Push, r.PushBatch, buf[:n])
			if k == 0 {
				runtime.Gosched()
			}
			sent += k
		}
	}()
	buf := make([]task.Task, batch)
	for got := 0; got < b.N; {
		k := moveBatch(r.Pop, r.PopBatch, buf[:min(batch, b.N-got)])
		if k == 0 {
			runtime.Gosched()
		}
		got += k
	}
	<-done
}

// moveBatch runs one single operation when buf has one element, else one batch.
func moveBatch(single func(*task.Task) bool, batch func([]task.Task) int, buf []task.Task) int {
	if len(buf) == 1 {
		return b2i(single(&buf[0]))
	}
	return batch(buf)
}

// mpscQueue gives an MPSC the single Pop of the queue interface (a PopBatch
// of one), for the benchmarks.
type mpscQueue struct{ *MPSC[task.Task] }

func (q mpscQueue) Pop(v *task.Task) bool { return q.PopBatch(unsafe.Slice(v, 1)) == 1 }
