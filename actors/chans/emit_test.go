package chans

import (
	"fmt"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel"
)

// TestX3_EmitBySend: a plain protoactor actor emits onto a GMK channel by
// Send — kernel.Task values and a wire batch with payloads — and the
// kernel's consumer gets every task, in order, with its payload.
func TestX3_EmitBySend(t *testing.T) {
	f := start(t, Config{})
	ch := f.pid(t, "demo.in")
	const n = 500
	producer := actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*actor.Started); !ok {
			return
		}
		for i := 1; i <= n; i++ { // fire and forget: a full lossless channel makes the channel actor wait
			ctx.Send(ch, kernel.Task{Type: typeIn, Meta0: uint64(i)})
		}
		var b wire.TaskBatch
		for i := n + 1; i <= 2*n; i++ {
			b.Append(kernel.Task{Type: typeIn, Meta0: uint64(i)}, []byte(fmt.Sprint("p", i)))
		}
		ctx.Send(ch, &wire.Emit{Batch: &b})
	})
	pid := f.sys.Root.Spawn(producer)
	defer f.sys.Root.Stop(pid)
	got := recv(t, f.in, 2*n)
	for i, r := range got {
		if r.t.Meta0 != uint64(i+1) {
			t.Fatalf("task %d has Meta0 %d", i, r.t.Meta0)
		}
		if want := fmt.Sprint("p", i+1); i >= n && r.payload != want {
			t.Fatalf("task %d payload %q, want %q", i, r.payload, want)
		}
	}
	waitFor(t, "emit counters", func() bool { return f.cs.Stats().Emitted == 2*n })
}

// TestX3_EmitRequest: an Emit sent with a sender is answered with the number
// of tasks emitted; a *kernel.Task and a []kernel.Task are answered too.
func TestX3_EmitRequest(t *testing.T) {
	f := start(t, Config{})
	ch := f.pid(t, "demo.in")
	h, buf, err := f.k.Alloc(0, 3)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "abc")
	r := ask[*wire.EmitResult](t, f.sys, ch, &kernel.Task{Type: typeIn, Meta0: 1, Payload: h, PayloadLen: 3})
	if r.Accepted != 1 || r.Err() != nil {
		t.Fatalf("task: %v", r)
	}
	r = ask[*wire.EmitResult](t, f.sys, ch, []kernel.Task{{Type: typeIn, Meta0: 2}, {Type: typeIn, Meta0: 3}})
	if r.Accepted != 2 || r.Err() != nil {
		t.Fatalf("tasks: %v", r)
	}
	var b wire.TaskBatch
	b.Append(kernel.Task{Type: typeIn, Meta0: 4}, nil)
	r = ask[*wire.EmitResult](t, f.sys, f.cs.Directory(), &wire.Emit{Channel: "demo.in", Batch: &b, RequestId: 42})
	if r.Accepted != 1 || r.RequestId != 42 || r.Channel != "demo.in" || r.Err() != nil {
		t.Fatalf("emit through the directory: %v", r)
	}
	got := recv(t, f.in, 4)
	if got[0].payload != "abc" || got[3].t.Meta0 != 4 {
		t.Fatalf("got %+v", got)
	}
}

// TestX3_EmitWaitsForRoom: on a full lossless channel an Emit waits for room
// (fail_fast answers CHAN_FULL at once), and emits behind it keep their
// order. demo.out has no subscriber until the test subscribes one, and a
// lossless channel without subscribers refuses with CHAN_FULL.
func TestX3_EmitWaitsForRoom(t *testing.T) {
	f := start(t, Config{})
	ch := f.pid(t, "demo.out")
	batch := func(from, n int) *wire.TaskBatch {
		var b wire.TaskBatch
		for i := from; i < from+n; i++ {
			b.Append(kernel.Task{Type: typeOut, Meta0: uint64(i)}, []byte("x"))
		}
		return &b
	}
	r := ask[*wire.EmitResult](t, f.sys, ch, &wire.Emit{Batch: batch(1, 3), FailFast: true})
	if r.Accepted != 0 || !errorsIs(r.Err(), kernel.ErrChanFull) {
		t.Fatalf("fail-fast on a full channel: %v", r)
	}
	first := f.sys.Root.RequestFuture(ch, &wire.Emit{Batch: batch(1, 3), RequestId: 1}, safety)
	second := f.sys.Root.RequestFuture(ch, &wire.Emit{Batch: batch(4, 2), RequestId: 2}, safety)
	waitFor(t, "the first emit to wait", func() bool {
		st, _ := f.k.ChanStats(mustChan(t, f.k, "demo.out"))
		return st.Full > 1
	})
	sub, out := spawnCollector(f.sys, false, 16)
	subscribe(t, f, "demo.out", sub, &wire.Subscribe{})
	for i, fut := range []*actor.Future{first, second} {
		res, err := fut.Result()
		if err != nil {
			t.Fatal(err)
		}
		if r := res.(*wire.EmitResult); r.Err() != nil || r.RequestId != uint64(i+1) || r.Accepted != uint32(3-i) {
			t.Fatalf("emit %d: %v", i+1, r)
		}
	}
	for i, r := range recv(t, out, 5) {
		if r.t.Meta0 != uint64(i+1) || r.payload != "x" {
			t.Fatalf("delivery %d: %+v", i, r)
		}
	}
}

// TestX3_StopEndsWaitingEmit: Stop answers an emit still waiting for room
// with ErrStopped and releases its payloads (the fixture checks the arena).
func TestX3_StopEndsWaitingEmit(t *testing.T) {
	f := start(t, Config{})
	ch := f.pid(t, "demo.out")
	var b wire.TaskBatch
	b.Append(kernel.Task{Type: typeOut}, []byte("kept?"))
	fut := f.sys.Root.RequestFuture(ch, &wire.Emit{Batch: &b}, safety)
	waitFor(t, "the emit to wait", func() bool {
		st, _ := f.k.ChanStats(mustChan(t, f.k, "demo.out"))
		return st.Full > 0
	})
	f.cs.Stop()
	res, err := fut.Result()
	if err != nil {
		t.Fatal(err)
	}
	if r := res.(*wire.EmitResult); !errorsIs(r.Err(), kernel.ErrClosed) || r.Error != ErrStopped.Error() || r.Accepted != 0 {
		t.Fatalf("waiting emit after Stop: %v", r)
	}
	if st := f.cs.Stats(); st.Rejected != 1 || st.Emitted != 0 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := f.cs.PID("demo.in"); !errorsIs(err, ErrStopped) {
		t.Fatalf("PID after Stop: %v", err)
	}
}

func mustChan(t *testing.T, k *kernel.Kernel, name string) kernel.ChanID {
	t.Helper()
	id, err := k.Chan(name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
