package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gmkernel/gmk/kernel/task"
)

// RecordSize is the size of a task record: the size of kernel.Task ([T1]).
const RecordSize = task.Size

// Offsets of the fields in a record: the kernel.Task ABI ([T1]). A test pins
// them against the struct.
const (
	offType       = 0
	offFlags      = 4
	offTenant     = 6
	offChannel    = 8
	offSeq        = 12
	offPayload    = 16
	offPayloadLen = 24
	offYieldCount = 28
	offAux        = 30
	offMeta0      = 32
	offMeta1      = 40
)

var le = binary.LittleEndian

// PutTask writes t into b[:RecordSize], every field little-endian at its ABI
// offset. On a little-endian machine the record is the task's memory image.
func PutTask(b []byte, t *task.Task) {
	_ = b[RecordSize-1] // one bounds check
	le.PutUint32(b[offType:], t.Type)
	le.PutUint16(b[offFlags:], uint16(t.Flags))
	le.PutUint16(b[offTenant:], t.Tenant)
	le.PutUint32(b[offChannel:], t.Channel)
	le.PutUint32(b[offSeq:], t.Seq)
	le.PutUint64(b[offPayload:], t.Payload)
	le.PutUint32(b[offPayloadLen:], t.PayloadLen)
	le.PutUint16(b[offYieldCount:], t.YieldCount)
	le.PutUint16(b[offAux:], t.Aux)
	le.PutUint64(b[offMeta0:], t.Meta0)
	le.PutUint64(b[offMeta1:], t.Meta1)
}

// ReadTask reads the record in b[:RecordSize].
func ReadTask(b []byte) task.Task {
	_ = b[RecordSize-1]
	return task.Task{
		Type:       le.Uint32(b[offType:]),
		Flags:      task.Flags(le.Uint16(b[offFlags:])),
		Tenant:     le.Uint16(b[offTenant:]),
		Channel:    le.Uint32(b[offChannel:]),
		Seq:        le.Uint32(b[offSeq:]),
		Payload:    le.Uint64(b[offPayload:]),
		PayloadLen: le.Uint32(b[offPayloadLen:]),
		YieldCount: le.Uint16(b[offYieldCount:]),
		Aux:        le.Uint16(b[offAux:]),
		Meta0:      le.Uint64(b[offMeta0:]),
		Meta1:      le.Uint64(b[offMeta1:]),
	}
}

// ErrBadBatch reports a TaskBatch whose bytes do not add up.
var ErrBadBatch = errors.New("gmk: malformed task batch")

// Append adds t and its payload to the batch. The record carries
// PayloadLen = len(payload) and a zero payload handle: a handle means
// nothing outside its kernel.
func (b *TaskBatch) Append(t task.Task, payload []byte) {
	t.Payload, t.PayloadLen = 0, uint32(len(payload))
	n := len(b.Tasks)
	b.Tasks = append(b.Tasks, make([]byte, RecordSize)...)
	PutTask(b.Tasks[n:], &t)
	b.Payloads = append(b.Payloads, payload...)
}

// Len returns the number of task records (whole records only).
func (b *TaskBatch) Len() int { return len(b.GetTasks()) / RecordSize }

// Check reports ErrBadBatch when the records are not whole or their payload
// lengths do not add up to the payload bytes.
func (b *TaskBatch) Check() error {
	ts, ps := b.GetTasks(), b.GetPayloads()
	if len(ts)%RecordSize != 0 {
		return fmt.Errorf("%w: %d record bytes is not a multiple of %d", ErrBadBatch, len(ts), RecordSize)
	}
	var sum uint64
	for off := 0; off < len(ts); off += RecordSize {
		sum += uint64(le.Uint32(ts[off+offPayloadLen:]))
	}
	if sum != uint64(len(ps)) {
		return fmt.Errorf("%w: records announce %d payload bytes, batch has %d", ErrBadBatch, sum, len(ps))
	}
	return nil
}

// Each checks the batch, then calls fn with every task and its payload (a
// sub-slice of the batch's bytes, nil for an inline task) in order. It stops
// at fn's first error and returns it.
func (b *TaskBatch) Each(fn func(i int, t task.Task, payload []byte) error) error {
	if err := b.Check(); err != nil {
		return err
	}
	ts, ps := b.GetTasks(), b.GetPayloads()
	for i := 0; i*RecordSize < len(ts); i++ {
		t := ReadTask(ts[i*RecordSize:])
		var p []byte
		if t.PayloadLen > 0 {
			p, ps = ps[:t.PayloadLen:t.PayloadLen], ps[t.PayloadLen:]
		}
		if err := fn(i, t, p); err != nil {
			return err
		}
	}
	return nil
}
