package system_test

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/gpumod"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/kernel"
)

func newActorSystem() *actor.ActorSystem {
	return actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }),
		actor.WithDeadLetterThrottleInterval(time.Millisecond))
}

// client is a plain actor: it sends n tasks to the GPU kernel's PID as one
// *wire.Emit, then a task of the wrong type, and passes on what comes back.
type client struct {
	gpu     *actor.PID
	n       int
	out     chan kernel.Task
	data    chan string
	results chan *wire.EmitResult
}

func (c *client) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		var b wire.TaskBatch
		for i := range c.n {
			b.Append(kernel.Task{Type: gpumod.XformInType, Meta0: uint64(i)}, fmt.Appendf(nil, "item %d", i))
		}
		ctx.Request(c.gpu, &wire.Emit{Batch: &b, RequestId: 1})
		var bad wire.TaskBatch
		bad.Append(kernel.Task{Type: 12345, Meta0: 1 << 40}, nil)
		ctx.Request(c.gpu, &wire.Emit{Batch: &bad, RequestId: 2})
	case *wire.EmitResult:
		c.results <- m
	case *wire.Delivery:
		_ = m.GetBatch().Each(func(_ int, t kernel.Task, p []byte) error {
			c.out <- t
			c.data <- string(p)
			return nil
		})
	}
}

// [X6] The GPU kernel is addressable as an actor: a message to its PID
// becomes tasks on a bridge channel to the GPU kernel (host.rx), and the
// GPU kernel's outputs (host.tx, here the WARP Xform's) come back to the
// sender as messages — each to the sender of the task it answers. A task
// of the wrong type is refused in the answer, none of it emitted.
func TestX6_GPUKernelAsActor(t *testing.T) {
	sys := newActorSystem()
	defer sys.Shutdown()
	s := boot(t, system.Config{GPUModules: []gpu.Module{gpumod.Xform(gpumod.XformConfig{Scale: 3})},
		Actor: &system.ActorConfig{System: sys}})
	if s.PID() == nil || s.PID().Id != "gpu.0" {
		t.Fatalf("GPU kernel PID %v, want gpu.0", s.PID())
	}
	const n = 300
	c := &client{gpu: s.PID(), n: n, out: make(chan kernel.Task, n), data: make(chan string, n), results: make(chan *wire.EmitResult, 2)}
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return c }))
	got := map[uint64]bool{}
	for range n {
		select {
		case x := <-c.out:
			p := <-c.data
			if x.Type != gpumod.XformOutType || x.Meta1 != 3*x.Meta0 || p != fmt.Sprintf("ITEM %d", x.Meta0) || got[x.Meta0] {
				t.Fatalf("reply %+v %q", x, p)
			}
			got[x.Meta0] = true
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of %d replies", len(got), n)
		}
	}
	for range 2 {
		r := <-c.results
		switch r.GetRequestId() {
		case 1:
			if r.GetAccepted() != n || r.GetStatus() != 0 {
				t.Fatalf("emit: %v", r)
			}
		case 2:
			if r.GetAccepted() != 0 || !errors.Is(wire.StatusErr(r.GetStatus(), r.GetError()), kernel.ErrChanTypeMismatch) {
				t.Fatalf("emit of the wrong type: %v", r)
			}
		}
	}
	if err := sys.Root.StopFuture(pid).Wait(); err != nil {
		t.Fatal(err)
	}
	halt(t, s)
	if st := s.ActorStats(); st.Requests != n || st.Replies != n || st.Rejected != 1 || st.Orphaned != 0 {
		t.Fatalf("actor stats %+v", st)
	}
}
