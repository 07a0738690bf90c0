package kernel

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// [C10] Drain is distributed: a subscription's deliveries are drained and run
// by its home worker, whoever emitted them, and there is no global drain
// phase — with many idle channels subscribed, the workers still go idle
// (park) instead of polling.
func TestC10_DrainByHomeWorkerIdleChannelsCostNothing(t *testing.T) {
	const n = 5000
	var wrongWorker, got atomic.Int64
	src := stageModule("src", "", "c10.out", 1, nil)
	sink := Module{Name: "sink",
		Handlers: []Handler{{Type: 2, Fn: func(c *Ctx) Status {
			if c.Worker() != 1 {
				wrongWorker.Add(1)
			}
			got.Add(1)
			return OK
		}}, {Type: 3, Fn: func(*Ctx) Status { return OK }}},
		Channels: []ChanDecl{{Name: "c10.out", Dir: Consume, Type: 2, Guarantee: Lossless, Pin: true, Worker: 1}},
	}
	for i := range 200 { // idle channels, all subscribed
		sink.Channels = append(sink.Channels, ChanDecl{Name: fmt.Sprintf("c10.idle%d", i), Dir: Consume, Type: 3})
	}
	k, err := Boot(BootConfig{Workers: 2, ArenaSize: 2 << 20, QueueCap: 8192, MaxTypes: 8, MaxChannels: 256}, src, sink)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for k.Submit(Task{Type: 1, Meta0: uint64(i)}) != nil {
			time.Sleep(time.Microsecond)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for got.Load() < n || k.core.Idle.Parked() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("got %d of %d, %d workers parked", got.Load(), n, k.core.Idle.Parked())
		}
		time.Sleep(time.Millisecond)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if wrongWorker.Load() != 0 {
		t.Fatalf("%d deliveries ran away from their home worker", wrongWorker.Load())
	}
}

// [C10] [S6] A trickle on a subscription (fewer deliveries than a drain
// batch) is still drained while its worker is saturated by other work:
// lingering, which turns trickles into batches, is bounded.
func TestC10_TrickleDrainedUnderLoad(t *testing.T) {
	var stop atomic.Bool
	var spins atomic.Int64
	busy := Module{Name: "busy", Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
		spins.Add(1)
		if !stop.Load() {
			if c.Emit(*c.Task()) != nil { // keeps the worker's LQ non-empty
				return Retry
			}
		}
		return OK
	}}}}
	ctl := Module{Name: "ctl",
		Handlers: []Handler{{Type: 2, Fn: func(*Ctx) Status { stop.Store(true); return OK }}},
		Channels: []ChanDecl{{Name: "t.ctl", Dir: Consume, Type: 2, Guarantee: Lossless}},
	}
	k, err := Boot(BootConfig{Workers: 1, ArenaSize: 1 << 20, QueueCap: 1024, MaxTypes: 8}, busy, ctl)
	if err != nil {
		t.Fatal(err)
	}
	for range 64 {
		if err := k.Submit(Task{Type: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for spins.Load() < 10000 { // the worker is saturated
		time.Sleep(time.Millisecond)
	}
	id, _ := k.Chan("t.ctl")
	if err := k.ChanEmit(id, Task{Type: 2}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !stop.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the control message was never drained while the worker was busy")
		}
		time.Sleep(time.Millisecond)
	}
	checkIdentity(t, haltOK(t, k))
}
