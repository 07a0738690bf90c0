package chans_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/actors/chans"
	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel"
)

// A GMK channel is an actor: a plain protoactor actor subscribes to it and
// gets the channel's tasks as Delivery messages, which it acknowledges; any
// actor emits onto it by sending a wire.Emit (or, locally, a kernel.Task).
func Example() {
	const typeGreet = 7
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20}, chans.Module())
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := k.ChanOpen(kernel.ChanSpec{Name: "demo.greet", Type: typeGreet, Guarantee: kernel.Lossless}); err != nil {
		fmt.Println(err)
		return
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	cs, err := chans.Start(sys, k, chans.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ch, _ := cs.PID("demo.greet")

	got := make(chan string, 3)
	subscriber := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if d, ok := ctx.Message().(*wire.Delivery); ok {
			_ = d.Batch.Each(func(i int, t kernel.Task, p []byte) error {
				got <- fmt.Sprintf("#%d %s", d.Batch.FirstSeq+uint64(i), p)
				return nil
			})
			ctx.Respond(d.Ack()) // credit back to the channel actor
		}
	}))
	sub, _ := sys.Root.RequestFuture(ch, &wire.Subscribe{Subscriber: wire.NewPID(subscriber)}, safety).Result()
	fmt.Println("subscribed:", sub.(*wire.Subscribed).Err() == nil)

	var b wire.TaskBatch
	for _, name := range []string{"ada", "grace", "edsger"} {
		b.Append(kernel.Task{Type: typeGreet}, []byte(name))
	}
	res, _ := sys.Root.RequestFuture(ch, &wire.Emit{Batch: &b}, safety).Result()
	fmt.Println("emitted:", res.(*wire.EmitResult).Accepted)
	for range 3 {
		fmt.Println(<-got)
	}

	var bad wire.TaskBatch
	bad.Append(kernel.Task{Type: typeGreet + 1}, nil)
	res, _ = sys.Root.RequestFuture(ch, &wire.Emit{Batch: &bad}, safety).Result()
	fmt.Println(res.(*wire.EmitResult).Err())

	cs.Stop()
	_ = k.Halt(context.Background())
	sys.Shutdown()
	// Output:
	// subscribed: true
	// emitted: 3
	// #1 ada
	// #2 grace
	// #3 edsger
	// gmk: emit on demo.greet: task 0 of 1: gmk: channel type mismatch (CHAN_TYPE_MISMATCH): type 8, the channel carries type 7
}

const safety = 10 * time.Second // a guard against a hang, not a measurement
