package wire

import (
	"bytes"
	"errors"
	"testing"
	"testing/quick"
	"unsafe"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// TestX3_RecordLayout pins the record offsets to the kernel.Task ABI ([T1]).
func TestX3_RecordLayout(t *testing.T) {
	var x task.Task
	offs := []struct {
		name      string
		got, want uintptr
	}{
		{"type", unsafe.Offsetof(x.Type), offType},
		{"flags", unsafe.Offsetof(x.Flags), offFlags},
		{"tenant", unsafe.Offsetof(x.Tenant), offTenant},
		{"channel", unsafe.Offsetof(x.Channel), offChannel},
		{"seq", unsafe.Offsetof(x.Seq), offSeq},
		{"payload", unsafe.Offsetof(x.Payload), offPayload},
		{"payload_len", unsafe.Offsetof(x.PayloadLen), offPayloadLen},
		{"yield_count", unsafe.Offsetof(x.YieldCount), offYieldCount},
		{"aux", unsafe.Offsetof(x.Aux), offAux},
		{"meta0", unsafe.Offsetof(x.Meta0), offMeta0},
		{"meta1", unsafe.Offsetof(x.Meta1), offMeta1},
	}
	for _, o := range offs {
		if o.got != o.want {
			t.Errorf("offset of %s: Task has %d, record has %d", o.name, o.got, o.want)
		}
	}
	if unsafe.Sizeof(x) != RecordSize {
		t.Fatalf("sizeof(Task) = %d, RecordSize = %d", unsafe.Sizeof(x), RecordSize)
	}
}

// TestX3_RecordRoundTrip: every task survives PutTask/ReadTask, and on this
// (little-endian) machine the record is the task's memory image.
func TestX3_RecordRoundTrip(t *testing.T) {
	f := func(x task.Task) bool {
		var b [RecordSize]byte
		PutTask(b[:], &x)
		image := unsafe.Slice((*byte)(unsafe.Pointer(&x)), RecordSize)
		return ReadTask(b[:]) == x && bytes.Equal(b[:], image)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Fatal(err)
	}
}

// TestX3_BatchRoundTrip: tasks and payloads survive Append, proto encoding
// and Each, in order; payload handles travel as 0.
func TestX3_BatchRoundTrip(t *testing.T) {
	in := []struct {
		t task.Task
		p []byte
	}{
		{task.Task{Type: 7, Tenant: 1, Meta0: 1, Meta1: 2, Payload: 99}, []byte("ada")},
		{task.Task{Type: 7, Flags: kernel.Idempotent | 2, Meta0: 3}, nil},
		{task.Task{Type: 8, Seq: 5, Meta1: ^uint64(0)}, []byte("grace hopper")},
	}
	var b TaskBatch
	for _, x := range in {
		b.Append(x.t, x.p)
	}
	b.FirstSeq = 41
	raw, err := proto.Marshal(&Delivery{Channel: "demo.out", Sub: 3, Batch: &b})
	if err != nil {
		t.Fatal(err)
	}
	var d Delivery
	if err := proto.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.Batch.Len() != len(in) || d.Last() != 43 {
		t.Fatalf("len %d last %d", d.Batch.Len(), d.Last())
	}
	if a := d.Ack(); a.Seq != 43 || a.Sub != 3 || a.Channel != "demo.out" {
		t.Fatalf("ack %v", a)
	}
	err = d.Batch.Each(func(i int, got task.Task, p []byte) error {
		want := in[i].t
		want.Payload, want.PayloadLen = 0, uint32(len(in[i].p))
		if got != want || !bytes.Equal(p, in[i].p) {
			t.Errorf("task %d: got %+v %q, want %+v %q", i, got, p, want, in[i].p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestX3_BatchMalformed: truncated records and payload lengths that do not
// add up are ErrBadBatch, and Each calls nothing.
func TestX3_BatchMalformed(t *testing.T) {
	var good TaskBatch
	good.Append(task.Task{Type: 1}, []byte("xyz"))
	cases := map[string]*TaskBatch{
		"short record":  {Tasks: good.Tasks[:RecordSize-1], Payloads: good.Payloads},
		"payload short": {Tasks: good.Tasks, Payloads: good.Payloads[:2]},
		"payload long":  {Tasks: good.Tasks, Payloads: append(append([]byte(nil), good.Payloads...), 0)},
	}
	for name, b := range cases {
		called := false
		err := b.Each(func(int, task.Task, []byte) error { called = true; return nil })
		if !errors.Is(err, ErrBadBatch) || called {
			t.Errorf("%s: err %v, called %v", name, err, called)
		}
	}
	if err := (*TaskBatch)(nil).Check(); err != nil {
		t.Errorf("nil batch: %v", err)
	}
}

// TestX3_Status: kernel errors map to their stable codes and back, so a
// sender on another ActorSystem can use errors.Is.
func TestX3_Status(t *testing.T) {
	errs := []error{kernel.ErrChanFull, kernel.ErrChanClosed, kernel.ErrChanTypeMismatch,
		kernel.ErrChanUnknown, kernel.ErrAllocFail, kernel.ErrClosed, kernel.ErrChanAlreadyBound}
	for _, e := range errs {
		code := Status(e)
		r := &EmitResult{Status: code, Error: "context: " + e.Error()}
		if !errors.Is(r.Err(), e) || r.Err().Error() != "context: "+e.Error() {
			t.Errorf("%v: code %d, back %v", e, code, r.Err())
		}
	}
	if Status(nil) != 0 || (&EmitResult{}).Err() != nil {
		t.Error("nil error must be status 0")
	}
	if Status(errors.New("other")) != int32(task.Fail) {
		t.Error("an unknown error is FAIL")
	}
	if got := Status(task.FailCode(-42).Err()); got != -42 {
		t.Errorf("application code: %d", got)
	}
	if !errors.Is(StatusErr(-42, ""), task.ErrFail) {
		t.Error("an application code is a FAIL")
	}
}

// TestX3_PID: a protoactor PID survives the wire form; an empty one is nil.
func TestX3_PID(t *testing.T) {
	p := actor.NewPID("127.0.0.1:4020", "gmk/chans/demo.out")
	if got := NewPID(p).Actor(); !got.Equal(p) {
		t.Fatalf("round trip: %v", got)
	}
	if NewPID(nil) != nil || (*PID)(nil).Actor() != nil || (&PID{Address: "x"}).Actor() != nil {
		t.Fatal("nil and empty PIDs must stay nil")
	}
}
