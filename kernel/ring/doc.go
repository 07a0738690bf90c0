// Package ring provides the bounded lock-free rings of GMK.md [R1]: SPSC, a
// single-producer single-consumer ring (trace buffers), MPSC, a
// multi-producer ring with one consumer that frees a drained batch with one
// index store (channel subscription queues, drained by their home worker),
// and MPMC, a Vyukov-style multi-producer multi-consumer ring (ready queues,
// overflow, allocator free lists).
//
// All store elements by value in a power-of-two array allocated once, at
// construction: Push, Pop, PushBatch and PopBatch never allocate, never block
// and never wait for another goroutine. An operation that cannot proceed
// returns at once — Push false when full, Pop false when empty, the batch
// forms 0 — and the caller decides whether to retry, yield, spill or drop.
// The rings know nothing of what they carry; GMK stores task.Task, a 48-byte
// plain value, so the garbage collector never scans a queue.
//
// # Concurrency rules
//
// An MPMC may be used by any number of goroutines at once. An MPSC may have
// any number of producers but one consumer (PopBatch) at a time. An SPSC may
// have one producer goroutine (Push, PushBatch) and one consumer goroutine
// (Pop, PopBatch) at a time; GMK.md [R2]: wherever several producers can
// reach a queue, that queue must be an MPSC or an MPMC. Breaking the SPSC discipline is a data
// race, which `go test -race` reports. Len and Cap are safe everywhere; Len is
// a snapshot, exact only when the ring is quiescent.
//
// In the words of the Go memory model: a push of a value synchronizes before
// the pop that returns it, so what the producer wrote before pushing is
// visible to the consumer after popping — a ring may carry a handle to data
// that is not itself synchronized. A pop synchronizes before the push that
// reuses the popped cell.
//
// Producer and consumer indices sit on separate cache lines (cacheLinePad);
// an SPSC side also caches the other side's index, so in the steady state
// each side writes and reads mostly its own line.
//
// # The caller's duties
//
// Do not copy a ring (go vet reports it). Pass Push a pointer to the value to
// copy in, Pop a pointer to the value to fill; the rings keep no reference to
// either. A ring whose cells live in caller memory (NewSPSCIn) must carry
// element types without Go pointers, and the caller keeps the memory alive.
//
// A full MPMC (false from Push) is an ordinary condition, as is an empty one.
// MPMC may also report full or empty for the instant between another
// goroutine claiming a cell and finishing with it; that is the price of never
// waiting, and a retry sees the settled state.
package ring
