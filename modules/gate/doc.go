// Package gate is the gate module ([U2], [G5]; [U1] gates): barriers of N
// arrivals, named by id, served over channels.
//
// # Channel contract
//
//	gate.arrive  consumed; P2P, lossless; type ArriveType (default 969)
//	             meta0 = gate id (bits 0..31) | N (bits 32..63); meta1 unused
//	gate.open    produced; fan-out, lossless; type OpenType (default 970)
//	             meta0 = gate id | N<<32 (as arrived), meta1 = round (1, 2, 3 …)
//
// A gate opens when the N-th arrival of a round is handled: one task on
// gate.open, then the next round starts with no arrivals. A gate is cyclic:
// round k opens after k·N arrivals (when every round used the same N). N
// is fixed from a round's first arrival to its opening; the next round may
// use another N.
//
// Failure codes: CodeBadRequest (N = 0 or N above MaxArrivals), CodeMismatch
// (an arrival whose N differs from its round's), CodeFull (more than
// MaxGates distinct gate ids). A failed arrival is not counted.
//
// Order and backpressure: arrivals count in gate.arrive order, and
// openings leave in round order. gate.open is lossless, so it needs a
// consumer; the kernel drains gate.arrive only as far as gate.open has room
// (flow control for declared lossless outputs), and an opening that still
// finds it full is sent once there is room — the arrival is counted once
// (it remembers, in meta1, that it was).
//
// # Concurrency
//
// The gate table is guarded by a mutex and allocated at New (MaxGates
// entries); a gate id keeps its entry for the module's life.
package gate
