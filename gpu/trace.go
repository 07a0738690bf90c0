package gpu

import (
	"encoding/binary"

	"github.com/gmkernel/gmk/kernel/trace"
)

// GPU traces on the CPU ([O4]): a GPU kernel's trace records travel to the
// CPU kernel over the bridge channel TraceChan, produced on the GPU kernel
// and consumed on the CPU, lossy (a trace must never hold the GPU back). A
// task on it carries one worker's records: Meta0 is the worker, Meta1 the
// number of records, the payload the records back to back in the trace
// record ABI (trace.Record, RecordSize bytes each, little-endian) — the
// layout a device kernel writes too.
const TraceChan = "sys.trace"

// TraceBatch is the most records one task on TraceChan carries.
const TraceBatch = 64

// PutTraceRecords writes rs into dst in the trace record ABI and returns
// the bytes written; dst must hold len(rs)*trace.RecordSize.
func PutTraceRecords(dst []byte, rs []trace.Record) int {
	le := binary.LittleEndian
	for i := range rs {
		r, b := &rs[i], dst[i*trace.RecordSize:(i+1)*trace.RecordSize]
		le.PutUint64(b[0:], uint64(r.TS))
		le.PutUint32(b[8:], r.Type)
		le.PutUint16(b[12:], r.Tenant)
		b[14], b[15] = byte(r.Event), byte(r.Flags)
		le.PutUint64(b[16:], r.Arg0)
		le.PutUint64(b[24:], r.Arg1)
	}
	return len(rs) * trace.RecordSize
}

// TraceRecords appends the records in p (the trace record ABI) to dst; a
// trailing partial record is ignored.
func TraceRecords(dst []trace.Record, p []byte) []trace.Record {
	le := binary.LittleEndian
	for ; len(p) >= trace.RecordSize; p = p[trace.RecordSize:] {
		dst = append(dst, trace.Record{TS: int64(le.Uint64(p[0:])), Type: le.Uint32(p[8:]), Tenant: le.Uint16(p[12:]),
			Event: trace.Event(p[14]), Flags: trace.Flags(p[15]), Arg0: le.Uint64(p[16:]), Arg1: le.Uint64(p[24:])})
	}
	return dst
}
