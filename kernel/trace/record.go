package trace

// Record is one fixed-size trace record ([O2]). It is a plain 32-byte value
// without Go pointers, so rings hold it by value in arena memory that the
// garbage collector never scans, and GPU kernels write the same layout ([O4]).
// Field order is the ABI; a test pins the size and the offsets.
type Record struct {
	TS     int64  // wall-clock nanoseconds, or the logical tick when Flags has Logical
	Type   uint32 // task type
	Tenant uint16 // tenant of the task
	Event  Event  // what happened
	Flags  Flags  // how the record came to be (Sampled, Forced) and what TS means (Logical)
	Arg0   uint64 // event-specific argument (channel id, size, worker …), kernel-defined
	Arg1   uint64 // event-specific argument, kernel-defined
}

// RecordSize is the size of a Record in bytes.
const RecordSize = 32

// Flags describe a Record.
type Flags uint8

// Record flags.
const (
	// Sampled marks a per-task record kept by sampling at level All ([O3]).
	Sampled Flags = 1 << iota
	// Forced marks a record of an EMIT_TRACE task, traced whatever the level ([O3]).
	Forced
	// Logical says TS is a logical tick (tick mode, determinism), not nanoseconds.
	Logical
)
