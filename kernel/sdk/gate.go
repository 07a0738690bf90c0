package sdk

import (
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel"
)

// Gates ([U1] barrier of N arrivals).
//
// Gate is the in-process form: a cyclic barrier that never blocks. Each
// Arrive counts one arrival; the N-th arrival of a round opens it — that
// caller, and only that one, learns it and does what follows the barrier
// (typically emits the next stage). Then the next round begins.
//
// modules/gate serves named gates over channels:
//
//	gate.arrive  meta0 = gate id (bits 0..31) | N (bits 32..63), meta1 unused
//	gate.open    meta0 = the same gate id | N, meta1 = round (1, 2, 3 …)
//
// Arrivals that disagree on N within a round fail with CodeMismatch; N = 0
// or N above the service's limit fails with CodeBadRequest.
type Gate struct {
	n     uint64
	count atomic.Uint64 // arrivals so far, over all rounds
}

// NewGate returns a gate that opens every n arrivals (n below 1 is 1).
func NewGate(n int) *Gate { return &Gate{n: uint64(max(n, 1))} }

// Arrive counts an arrival. It reports whether this arrival opened the gate,
// and the round it belongs to (1 for the first N arrivals). Safe for
// concurrent use; one atomic add.
func (g *Gate) Arrive() (opened bool, round uint64) {
	c := g.count.Add(1)
	return c%g.n == 0, (c-1)/g.n + 1
}

// N returns the arrivals per round.
func (g *Gate) N() int { return int(g.n) }

// GateMeta returns an arrival's meta0 for gate id and n arrivals per round.
func GateMeta(id, n uint32) uint64 { return uint64(id) | uint64(n)<<32 }

// SplitGateMeta splits an arrival's (or an opening's) meta0.
func SplitGateMeta(meta0 uint64) (id, n uint32) { return uint32(meta0), uint32(meta0 >> 32) }

// Arrive sends an arrival at gate id (n per round) to the gate service at p.
func Arrive(c *kernel.Ctx, p Port, id, n uint32) kernel.Status {
	return SendInline(c, p, GateMeta(id, n), 0)
}
