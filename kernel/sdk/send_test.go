package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/kernel/task"
)

// [U1], [C7] Send with backpressure: a producer floods a 4-slot lossless
// channel whose consumer is paused; every CHAN_FULL becomes a Retry that the
// kernel holds until the channel has room, so once the consumer resumes each
// message arrives exactly once, none goes to sys.error, and every payload of
// a failed attempt is released (none live after halt). The producer and the
// consumer are pinned to different workers, so no send takes the same-worker
// fast path around the full queue.
func TestU1_SendBackpressure(t *testing.T) {
	const tGen, tMsg, n = 1, 2, 600
	var out sdk.Port
	var mu sync.Mutex
	seen := map[uint64]int{}
	gen := kernel.Module{Name: "gen", Handlers: []kernel.Handler{{Type: tGen, Fn: func(c *kernel.Ctx) kernel.Status {
		i := c.Task().Meta0
		if i%2 == 0 {
			return sdk.SendInline(c, out, i, 0)
		}
		return sdk.SendBytes(c, out, i, 0, []byte(fmt.Sprint(i)))
	}}},
		// bp.out is not declared as gen's output: the kernel's flow control
		// would otherwise keep gen from draining bp.gen, and no send would
		// ever meet a full channel.
		Channels: []kernel.ChanDecl{{Name: "bp.gen", Dir: kernel.Consume, Type: tGen, Guarantee: kernel.Lossless, Pin: true, Worker: 0}},
		Init:     func(c *kernel.Ctx) (err error) { out, err = sdk.Dial(c.Kernel(), "bp.out"); return err }}
	sink := kernel.Module{Name: "sink", Handlers: []kernel.Handler{{Type: tMsg, Fn: func(c *kernel.Ctx) kernel.Status {
		i := c.Task().Meta0
		if i%2 == 1 && string(c.Payload()) != fmt.Sprint(i) {
			return kernel.FailCode(-2)
		}
		mu.Lock()
		seen[i]++
		mu.Unlock()
		return kernel.OK
	}}}, Channels: []kernel.ChanDecl{{Name: "bp.out", Dir: kernel.Consume, Type: tMsg, Guarantee: kernel.Lossless, Slots: 4, Pin: true, Worker: 1}}}
	k := boot(t, kernel.BootConfig{}, sink, gen)
	if err := k.ChanPause(out.Chan, 0, true); err != nil {
		t.Fatal(err)
	}
	in, _ := sdk.Dial(k, "bp.gen")
	for i := range n {
		if err := sdk.EmitInline(context.Background(), k, in, 0, uint64(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a send to meet the full channel", func() bool {
		cs, _ := k.ChanStats(out.Chan)
		return cs.Full > 0
	})
	if err := k.ChanPause(out.Chan, 0, false); err != nil {
		t.Fatal(err)
	}
	r := halt(t, k)
	if r.Stats.Errored != 0 || len(seen) != n {
		t.Fatalf("%d distinct of %d arrived, %d errors", len(seen), n, r.Stats.Errored)
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("message %d arrived %d times", i, c)
		}
	}
}

// [U1], [T4] A send that cannot succeed maps to the kernel's code (a closed
// channel is CHAN_CLOSED, a wrong type CHAN_TYPE_MISMATCH) and releases the
// payload; Code maps the kernel's errors, wrapped or not.
func TestU1_SendFailureCodes(t *testing.T) {
	const tTry, tMsg = 1, 2
	var out sdk.Port
	got := make(chan [2]kernel.Status, 1)
	m := kernel.Module{Name: "m", Handlers: []kernel.Handler{
		{Type: tTry, Fn: func(c *kernel.Ctx) kernel.Status {
			wrong := sdk.SendBytes(c, sdk.Port{Chan: out.Chan, Type: tTry}, 0, 0, []byte("x"))
			_ = c.ChanClose(out.Chan)
			closed := sdk.SendBytes(c, out, 0, 0, []byte("y"))
			got <- [2]kernel.Status{wrong, closed}
			return kernel.OK
		}},
		{Type: tMsg, Fn: func(*kernel.Ctx) kernel.Status { return kernel.OK }},
	}, Channels: []kernel.ChanDecl{{Name: "fc.out", Dir: kernel.Consume, Type: tMsg, Guarantee: kernel.Lossless}},
		Init: func(c *kernel.Ctx) (err error) { out, err = sdk.Dial(c.Kernel(), "fc.out"); return err }}
	k := boot(t, kernel.BootConfig{}, m)
	submit(t, k, kernel.Task{Type: tTry})
	if st := <-got; st != [2]kernel.Status{task.ChanTypeMismatch, task.ChanClosed} {
		t.Fatalf("statuses %v, want CHAN_TYPE_MISMATCH, CHAN_CLOSED", st)
	}
	halt(t, k) // checks that both payloads were released
	for _, c := range []struct {
		err  error
		want kernel.Status
	}{
		{nil, kernel.OK},
		{kernel.ErrChanFull, task.ChanFull},
		{fmt.Errorf("wrapped: %w", kernel.ErrChanClosed), task.ChanClosed},
		{fmt.Errorf("x: %w", kernel.ErrAllocFail), task.AllocFail},
		{sdk.CodeNotFound.Err(), sdk.CodeNotFound},
		{errors.New("other"), kernel.Fail},
	} {
		if got := sdk.Code(c.err); got != c.want {
			t.Errorf("Code(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// [U1] Request/reply: the reply address travels in meta0 and comes back
// unchanged, so the requester matches each reply to its request by the
// correlation id; a request without a reply address gets none.
func TestU1_RequestReply(t *testing.T) {
	const tAsk, tReq, tReply = 1, 2, 3
	var svc, replies sdk.Port
	var mu sync.Mutex
	got := map[uint32]uint64{}
	client := kernel.Module{Name: "client", Handlers: []kernel.Handler{
		{Type: tAsk, Fn: func(c *kernel.Ctx) kernel.Status {
			corr := uint32(c.Task().Meta0)
			r := sdk.NewReplyTo(replies.Chan, corr)
			if corr == 0 {
				r = 0 // no reply wanted
			}
			return sdk.Request(c, svc, r, uint64(corr)*10)
		}},
		{Type: tReply, Fn: func(c *kernel.Ctx) kernel.Status {
			r := sdk.ReplyOf(c.Task())
			mu.Lock()
			got[r.Corr()] = c.Task().Meta1
			mu.Unlock()
			return kernel.OK
		}},
	}, Channels: []kernel.ChanDecl{
		{Name: "rr.req", Dir: kernel.Produce, Type: tReq, Guarantee: kernel.Lossless},
		{Name: "rr.reply", Dir: kernel.Consume, Type: tReply, Guarantee: kernel.Lossless}},
		Init: func(c *kernel.Ctx) (err error) {
			if svc, err = sdk.Dial(c.Kernel(), "rr.req"); err != nil {
				return err
			}
			replies, err = sdk.Dial(c.Kernel(), "rr.reply")
			return err
		}}
	server := kernel.Module{Name: "server", Handlers: []kernel.Handler{{Type: tReq, Fn: func(c *kernel.Ctx) kernel.Status {
		return sdk.Reply(c, tReply, c.Task().Meta1+1)
	}}}, Channels: []kernel.ChanDecl{{Name: "rr.req", Dir: kernel.Consume, Type: tReq, Guarantee: kernel.Lossless}}}
	k := boot(t, kernel.BootConfig{}, client, server)
	for corr := range 50 {
		submit(t, k, kernel.Task{Type: tAsk, Meta0: uint64(corr)})
	}
	halt(t, k)
	if len(got) != 49 {
		t.Fatalf("%d replies, want 49 (corr 0 asked for none)", len(got))
	}
	for corr, v := range got {
		if corr == 0 || v != uint64(corr)*10+1 {
			t.Fatalf("reply for corr %d: %d", corr, v)
		}
	}
}
