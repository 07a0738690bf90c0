package kernel

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// [C4] [C7] Producers outside the kernel block on a full lossless channel
// (ChanEmitWait, ChanEmitAll) and resume when the subscriber drains; a
// context that ends and a kernel that halts release them with an error.
func TestC4_ChanEmitWaitBlocksAndResumes(t *testing.T) {
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	var got atomic.Int64
	cons := Module{Name: "cons",
		Handlers: []Handler{{Type: 1, Fn: func(*Ctx) Status {
			select {
			case entered <- struct{}{}:
			default:
			}
			<-gate // the consumer is held until the test opens the gate
			got.Add(1)
			return OK
		}}},
		Channels: []ChanDecl{{Name: "w.in", Dir: Consume, Type: 1, Guarantee: Lossless, Slots: 16}},
	}
	k, err := Boot(BootConfig{Workers: 1, ArenaSize: 1 << 20, QueueCap: 1024, MaxTypes: 8}, cons)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := k.Chan("w.in")
	const n = 2000
	done := make(chan error, 1)
	go func() {
		ts := make([]Task, n/2)
		for i := range ts {
			ts[i] = Task{Type: 1, Meta0: uint64(i)}
		}
		if err := k.ChanEmitAll(context.Background(), id, ts); err != nil {
			done <- err
			return
		}
		for i := n / 2; i < n; i++ {
			if err := k.ChanEmitWait(context.Background(), id, Task{Type: 1, Meta0: uint64(i)}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	// The consumer is held, the channel fills up and the producer blocks.
	<-entered
	deadline := time.Now().Add(20 * time.Second)
	for {
		if cs, _ := k.ChanStats(id); cs.Depth == 16 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the channel never filled")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("producer returned while the channel was full: %v", err)
	default:
	}
	// A waiting emit with a context that ends returns the context's error.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	if err := k.ChanEmitWait(ctx, id, Task{Type: 1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ChanEmitWait with an expiring context = %v", err)
	}
	cancel()
	close(gate)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the producer was never woken after the consumer drained")
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if got.Load() != n {
		t.Fatalf("consumer got %d of %d", got.Load(), n)
	}
}

// [K2] A producer waiting for room is released with ErrClosed when the
// kernel halts.
func TestK2_HaltReleasesWaitingProducer(t *testing.T) {
	gate := make(chan struct{})
	cons := Module{Name: "cons",
		Handlers: []Handler{{Type: 1, Fn: func(*Ctx) Status { <-gate; return OK }}},
		Channels: []ChanDecl{{Name: "w.in", Dir: Consume, Type: 1, Guarantee: Lossless, Slots: 4}},
	}
	k, err := Boot(BootConfig{Workers: 1, ArenaSize: 1 << 20, QueueCap: 1024, MaxTypes: 8}, cons)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := k.Chan("w.in")
	blocked := make(chan error, 1)
	go func() {
		for {
			if err := k.ChanEmitWait(context.Background(), id, Task{Type: 1}); err != nil {
				blocked <- err
				return
			}
		}
	}()
	for {
		if cs, _ := k.ChanStats(id); cs.Depth == 4 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	halted := make(chan error, 1)
	go func() { halted <- k.Halt(ctx) }()
	if err := <-blocked; !errors.Is(err, ErrClosed) {
		t.Fatalf("waiting producer got %v, want ErrClosed", err)
	}
	close(gate)
	<-halted // queued tasks are accounted for either way
	r, _ := k.Halted()
	checkIdentity(t, r)
}
