package trace

import (
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/ring"
)

// cacheLinePad separates fields written by different goroutines. 128 bytes
// covers the adjacent-line prefetcher of current x86 parts and the 128-byte
// lines of Apple silicon.
const cacheLinePad = 128

// Writer is the trace ring of one worker ([O2]): a single-producer,
// single-consumer ring of Records whose cells live in caller memory (an arena
// region), plus the worker's sampling PRNG ([O3]) and a lost-record counter.
//
// Concurrency:
//   - Emit and Sample are called only by the owning worker goroutine.
//   - Drain is called by one consumer goroutine at a time (the host's trace
//     drainer); it never blocks and never makes the worker wait.
//   - Lost and Worker may be called from any goroutine.
//
// An Emit whose record Drain returns synchronizes before that Drain returns
// (the ring's publication); nothing else is shared between the two sides except
// the lost counter.
type Writer struct {
	_ noCopy

	// Read-only after NewWriter; read by the worker and by the drainer.
	ring      *ring.SPSC[Record] // Push by the worker, PopBatch by the drainer
	worker    int
	threshold uint64 // Sample is true when the PRNG's top 32 bits are below this
	_         [cacheLinePad - 24]byte

	// Owner-only: written and read by the worker alone, once per Sample; kept
	// off the line the drainer reads so that draining does not steal it.
	rng       uint64 // xorshift64* state, never zero
	lostLocal uint64 // the worker's own count of lost records; lost mirrors it
	_         [cacheLinePad - 16]byte

	// lost is written (Store) only by the worker, after lostLocal, on the slow
	// path of a full ring; any goroutine Loads it.
	lost atomic.Uint64
	_    [cacheLinePad - 8]byte
}

// noCopy makes go vet's copylocks check reject copies of a Writer.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// NewWriter returns the trace writer of a worker. The ring's cells live in mem
// (see ring.NewSPSCIn: its capacity is the largest power of two of Records that
// fits), which must stay alive and untouched by anyone else while the Writer is
// in use. sampleEvery is the sampling period of level All: Sample returns true
// with probability 1/sampleEvery, or always when sampleEvery <= 1. seed and
// worker together seed the PRNG, so a run is reproducible and workers differ.
// RingBytes says how much mem a given capacity needs; NewWriter panics when mem
// cannot hold 2 records.
func NewWriter(worker int, mem []byte, sampleEvery uint32, seed uint64) *Writer {
	w := &Writer{
		ring:      ring.NewSPSCIn[Record](mem),
		worker:    worker,
		threshold: sampleThreshold(sampleEvery),
		rng:       seedState(seed, worker),
	}
	return w
}

// Worker returns the worker id the writer belongs to.
func (w *Writer) Worker() int { return w.worker }

// Cap returns the capacity of the ring in records.
func (w *Writer) Cap() int { return w.ring.Cap() }

// Len returns the number of records waiting to be drained (approximate while
// the worker emits).
func (w *Writer) Len() int { return w.ring.Len() }

// Emit appends a copy of r to the ring and reports whether it fit. It never
// blocks: when the ring is full the record is counted as lost (see Lost) and
// Emit returns false. Only the owning worker may call Emit. It does not
// allocate.
func (w *Writer) Emit(r *Record) bool {
	if w.ring.Push(r) {
		return true
	}
	w.loseSlow()
	return false
}

// loseSlow counts one lost record. Only the worker writes lost, so a Store of
// its own count is enough; the atomic makes the value safe to read elsewhere.
func (w *Writer) loseSlow() {
	w.lostLocal++
	w.lost.Store(w.lostLocal)
}

// Lost returns how many records Emit could not store because the ring was full.
// Any goroutine may call it; the value trails the worker by at most the Emits in
// flight.
func (w *Writer) Lost() uint64 { return w.lost.Load() }

// Drain moves up to len(dst) records from the ring into dst, oldest first, and
// returns how many it moved. It never blocks and never stalls the worker; call
// it from one consumer goroutine at a time. Records come out in the order the
// worker emitted them.
func (w *Writer) Drain(dst []Record) int { return w.ring.PopBatch(dst) }

// recordAlign is the alignment of a Record (its int64 and uint64 fields).
const recordAlign = 8

// RingBytes returns how many bytes of memory NewWriter needs for a ring of
// capacity records (capacity a power of two, at least 2), whatever the
// alignment of the memory it is given.
func RingBytes(capacity int) int { return capacity*RecordSize + recordAlign - 1 }
