//go:build !race

// The example starts protoactor cluster members; see cluster_test.go for
// why it is left out of the -race build.

package cluster_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/gmkernel/gmk/actors/cluster"
	"github.com/gmkernel/gmk/kernel"
)

// Example runs a cluster channel across two members of one in-memory
// cluster: member "front" produces orders, member "back" consumes them (only
// it registers the channel's kind, so the consumer grain lands there). The
// tasks cross protoactor remote on 127.0.0.1.
func Example() {
	const tOrder = 1
	agent := test.NewInMemAgent()
	quiet := func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }
	done := make(chan struct{})

	boot := func(consume bool) (*cluster.Member, *kernel.Kernel) {
		m, err := cluster.New(cluster.Config{Channels: []cluster.Channel{{Name: "orders.in", Type: tOrder, Consume: consume}}})
		if err != nil {
			panic(err)
		}
		mods := []kernel.Module{m.Module()}
		if consume {
			seen := 0
			mods = append(mods, m.Consumer(kernel.Module{Name: "orders",
				Handlers: []kernel.Handler{{Type: tOrder, Fn: func(c *kernel.Ctx) kernel.Status {
					fmt.Println("order", c.Task().Meta0)
					if seen++; seen == 3 {
						close(done)
					}
					return kernel.OK
				}}},
				Channels: []kernel.ChanDecl{{Name: "orders.in", Dir: kernel.Consume, Type: tOrder, Guarantee: kernel.Lossless}}}))
		}
		k, err := kernel.Boot(kernel.BootConfig{Workers: 1, ArenaSize: 1 << 20, QueueCap: 1024, EVQCap: 1024, MaxTypes: 4}, mods...)
		if err != nil {
			panic(err)
		}
		return m, k
	}
	front, fk := boot(false)
	back, bk := boot(true)

	// Join both at once: protoactor's StartMember sleeps a second.
	var wg sync.WaitGroup
	join := func(m *cluster.Member) {
		defer wg.Done()
		sys := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(quiet)))
		if _, err := cluster.Join(sys, m, "shop", test.NewTestProvider(agent), remote.Configure("127.0.0.1", 0)); err != nil {
			panic(err)
		}
	}
	wg.Add(2)
	go join(front)
	go join(back)
	wg.Wait()

	id, _ := front.Chan("orders.in")
	for i := range 3 {
		if err := fk.ChanEmitWait(context.Background(), id, kernel.Task{Type: tOrder, Meta0: uint64(i + 1)}); err != nil {
			panic(err)
		}
	}
	<-done
	ctx := context.Background()
	for _, m := range []*cluster.Member{front, back} {
		_ = m.Leave(ctx) // waits until every order is acknowledged
		m.Cluster().Shutdown(false)
	}
	fmt.Println("acknowledged:", front.Stats().Acked)
	_ = fk.Halt(ctx)
	_ = bk.Halt(ctx)
	// Output:
	// order 1
	// order 2
	// order 3
	// acknowledged: 3
}
