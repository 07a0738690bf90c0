package chans

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel"
)

// Task types and channels of the tests.
const (
	typeIn  = 7 // demo.in: lossless P2P, consumed by the sink module
	typeOut = 8 // demo.out: lossless P2P; demo.fan: lossy fan-out; demo.wide: lossless fan-out
	typeMsg = 9 // demo.msg: lossless fan-out of codec messages
)

// safety bounds a wait for an event; it is never the thing a test measures.
const safety = 20 * time.Second

// newSystem is a local ActorSystem whose logs are discarded; a 1 ms
// dead-letter throttle interval lets its throttle goroutine end before
// goleak looks.
func newSystem() *actor.ActorSystem {
	return actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }),
		actor.WithDeadLetterThrottleInterval(time.Millisecond))
}

// rec is one task as a test saw it.
type rec struct {
	t       kernel.Task
	payload string
	seq     uint64 // subscription sequence (Delivery) — 0 for a kernel consumer
	dropped uint64 // Delivery.dropped when it arrived
	msg     proto.Message
}

// sink consumes demo.in in the kernel and reports every task on out.
func sink(out chan<- rec) kernel.Module {
	return kernel.Module{
		Name: "sink",
		Handlers: []kernel.Handler{{Type: typeIn, Fn: func(c *kernel.Ctx) kernel.Status {
			out <- rec{t: *c.Task(), payload: string(c.Payload())}
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: "demo.in", Dir: kernel.Consume, Type: typeIn, Guarantee: kernel.Lossless}},
	}
}

type fixture struct {
	k   *kernel.Kernel
	sys *actor.ActorSystem
	cs  *Channels
	in  chan rec // what the sink consumed
}

// start boots a kernel with the relay, the sink and the test channels,
// starts the channel actors in a fresh ActorSystem, and registers the
// shutdown and the accounting checks.
func start(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{in: make(chan rec, 1<<16)}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 8 << 20}, Module(), sink(f.in))
	if err != nil {
		t.Fatal(err)
	}
	f.k = k
	for _, s := range []kernel.ChanSpec{
		{Name: "demo.out", Type: typeOut, Mode: kernel.P2P, Guarantee: kernel.Lossless},
		{Name: "demo.fan", Type: typeOut, Mode: kernel.FanOut, Guarantee: kernel.Lossy},
		{Name: "demo.wide", Type: typeOut, Mode: kernel.FanOut, Guarantee: kernel.Lossless},
		{Name: "demo.msg", Type: typeMsg, Mode: kernel.FanOut, Guarantee: kernel.Lossless},
	} {
		if _, err := k.ChanOpen(s); err != nil {
			t.Fatal(err)
		}
	}
	f.sys = newSystem()
	if f.cs, err = Start(f.sys, k, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.shutdown(t) })
	return f
}

// shutdown stops everything and checks the accounting of the kernel and of
// the relay: nothing lost without being counted, no payload leaked.
func (f *fixture) shutdown(t *testing.T) {
	f.cs.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	if err := f.k.Halt(ctx); err != nil {
		t.Errorf("halt: %v", err)
	}
	f.sys.Shutdown()
	r, _ := f.k.Halted()
	s := r.Stats
	if s.Created() != s.Completed+s.Errored+s.Dropped+r.Queued {
		t.Errorf("kernel accounting: %v queued=%d", s, r.Queued)
	}
	if n := f.k.LivePayloads(); n != 0 {
		t.Errorf("%d payloads leaked", n)
	}
	st := f.cs.Stats()
	if st.Taken != st.Sent+st.Dropped+st.Overflow+st.Abandoned+st.Pending || st.Pending != 0 {
		t.Errorf("relay accounting: %+v", st)
	}
}

func (f *fixture) pid(t *testing.T, name string) *actor.PID {
	t.Helper()
	pid, err := f.cs.PID(name)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// collector is a plain protoactor subscriber: it reports every task it
// receives on out and acknowledges each Delivery to its sender, unless it
// holds its acknowledgements (then a release message sends the last one).
type collector struct {
	out  chan rec
	hold bool
	last *wire.Ack
	to   *actor.PID
}

type release struct{}

func (c *collector) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *wire.Delivery:
		_ = m.Batch.Each(func(i int, t kernel.Task, p []byte) error {
			c.out <- rec{t: t, payload: string(p), seq: m.Batch.FirstSeq + uint64(i), dropped: m.Dropped}
			return nil
		})
		if c.hold {
			c.last, c.to = m.Ack(), ctx.Sender()
			return
		}
		ctx.Respond(m.Ack())
	case release:
		c.hold = false
		if c.last != nil {
			ctx.Send(c.to, c.last)
		}
	case proto.Message:
		if proto.MessageName(m).Parent() != "actor" {
			c.out <- rec{msg: m}
		}
	}
}

func spawnCollector(sys *actor.ActorSystem, hold bool, n int) (*actor.PID, chan rec) {
	out := make(chan rec, n)
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &collector{out: out, hold: hold} }))
	return pid, out
}

// recv waits for n records.
func recv(t *testing.T, ch <-chan rec, n int) []rec {
	t.Helper()
	out := make([]rec, 0, n)
	deadline := time.After(safety)
	for len(out) < n {
		select {
		case r := <-ch:
			out = append(out, r)
		case <-deadline:
			t.Fatalf("got %d of %d", len(out), n)
		}
	}
	return out
}

// ask sends m to pid and waits for the answer.
func ask[T any](t *testing.T, sys *actor.ActorSystem, pid *actor.PID, m any) T {
	t.Helper()
	res, err := sys.Root.RequestFuture(pid, m, safety).Result()
	if err != nil {
		t.Fatalf("request %T: %v", m, err)
	}
	r, ok := res.(T)
	if !ok {
		t.Fatalf("answer to %T is a %T", m, res)
	}
	return r
}

func subscribe(t *testing.T, f *fixture, channel string, sub *actor.PID, m *wire.Subscribe) uint64 {
	t.Helper()
	m.Channel, m.Subscriber = channel, wire.NewPID(sub)
	r := ask[*wire.Subscribed](t, f.sys, f.cs.Directory(), m)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return r.Sub
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(safety)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// emitOut emits n tasks of typeOut on channel from outside the kernel,
// Meta0 = 1..n, waiting while a lossless channel is full.
func emitOut(t *testing.T, k *kernel.Kernel, channel string, n int) {
	t.Helper()
	id, err := k.Chan(channel)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := k.ChanEmitWait(context.Background(), id, kernel.Task{Type: typeOut, Meta0: uint64(i)}); err != nil {
			t.Fatalf("emit %d: %v", i, err)
		}
	}
}
