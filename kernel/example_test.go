package kernel_test

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel"
)

// A module registers a handler per task type; Boot starts the workers,
// Submit admits tasks from any goroutine, and Halt drains the queues, stops
// the workers and runs the modules' Fini hooks.
func ExampleBoot() {
	const typeAdd = 1
	var sum atomic.Uint64
	adder := kernel.Module{
		Name: "adder",
		Handlers: []kernel.Handler{{Type: typeAdd, Fn: func(c *kernel.Ctx) kernel.Status {
			sum.Add(c.Task().Meta0)
			return kernel.OK
		}}},
		Fini: func(*kernel.Ctx) error { fmt.Println("adder: fini"); return nil },
	}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20}, adder)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := 1; i <= 100; i++ {
		if err := k.Submit(kernel.Task{Type: typeAdd, Meta0: uint64(i)}); err != nil {
			fmt.Println(err)
		}
	}
	if err := k.Halt(context.Background()); err != nil {
		fmt.Println(err)
	}
	r, _ := k.Halted()
	fmt.Println("sum:", sum.Load())
	fmt.Println("completed:", r.Stats.Completed, "queued:", r.Queued)
	fmt.Println("submit after halt:", k.Submit(kernel.Task{Type: typeAdd}))
	// Output:
	// adder: fini
	// sum: 5050
	// completed: 100 queued: 0
	// submit after halt: gmk: kernel closed
}

// A module that declares a Consume channel is subscribed to it at boot; code
// outside the kernel emits on the channel by id. A subscriber runs its
// deliveries one at a time, in order, each numbered with the channel's
// sequence; ChanEmitWait waits while a lossless channel is full.
func ExampleKernel_ChanEmit() {
	const typeGreet = 7
	var got []string // written by the subscription's home worker, read after Halt
	greeter := kernel.Module{
		Name: "greeter",
		Handlers: []kernel.Handler{{Type: typeGreet, Fn: func(c *kernel.Ctx) kernel.Status {
			t := c.Task()
			got = append(got, fmt.Sprintf("#%d %s", t.Seq, string(c.Payload())))
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: "demo.greet", Dir: kernel.Consume, Type: typeGreet,
			Mode: kernel.P2P, Guarantee: kernel.Lossless}},
	}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 2, ArenaSize: 1 << 20}, greeter)
	if err != nil {
		fmt.Println(err)
		return
	}
	id, _ := k.Chan("demo.greet")
	for _, name := range []string{"ada", "grace", "edsger"} {
		h, b, err := k.Alloc(0, len(name)) // the payload travels by handle
		if err != nil {
			fmt.Println(err)
			return
		}
		copy(b, name)
		t := kernel.Task{Type: typeGreet, Payload: h, PayloadLen: uint32(len(name))}
		if err := k.ChanEmitWait(context.Background(), id, t); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println("wrong type:", k.ChanEmit(id, kernel.Task{Type: typeGreet + 1}))
	_ = k.Halt(context.Background())
	for _, g := range got {
		fmt.Println(g)
	}
	fmt.Println("live payloads:", k.LivePayloads())
	// Output:
	// wrong type: gmk: channel type mismatch (CHAN_TYPE_MISMATCH): demo.greet
	// #1 ada
	// #2 grace
	// #3 edsger
	// live payloads: 0
}
