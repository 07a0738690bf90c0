package kernel

import (
	"sync/atomic"
	"testing"
	"time"
)

// heldNow reports whether the named module is held (ModuleInfo.Held).
func heldNow(k *Kernel, name string) bool {
	for _, m := range k.Modules() {
		if m.Name == name {
			return m.Held
		}
	}
	return false
}

// [X1] A second hold of a module whose first hold is still waiting for a
// handler to finish waits for that handler too: holds nest, and each one
// returns only when none of the module's handlers runs. (A nested hold
// used to return at once, while the first one still waited.)
func TestX1_NestedHoldWaitsForTheRunningHandler(t *testing.T) {
	inside, proceed := make(chan struct{}), make(chan struct{})
	var running atomic.Int64
	m := Module{Name: "held", Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
		running.Add(1)
		defer running.Add(-1)
		if c.Task().Meta0 == 1 {
			close(inside)
			<-proceed
		}
		return OK
	}}}}
	k := fxBoot(t, BootConfig{Workers: 2, ExternalLifecycle: true}, m)
	if err := k.Submit(Task{Type: 1, Meta0: 1}); err != nil {
		t.Fatal(err)
	}
	<-inside
	var overlap [2]atomic.Bool // a hold returned while the handler ran
	done := make(chan int, 2)
	hold := func(i int) {
		if err := k.HoldModule("held"); err != nil {
			t.Error(err)
		}
		overlap[i].Store(running.Load() != 0)
		done <- i
	}
	go hold(0)
	fxWait(t, "the first hold", func() bool { return heldNow(k, "held") })
	go hold(1)
	// Either hold returning now is the fault; the pause only gives a
	// faulty second hold the time to show itself.
	select {
	case i := <-done:
		t.Fatalf("hold %d returned while the handler ran", i)
	case <-time.After(20 * time.Millisecond):
	}
	close(proceed)
	<-done
	<-done
	if overlap[0].Load() || overlap[1].Load() {
		t.Fatal("a hold returned while the handler ran")
	}
	for range 2 {
		if err := k.ReleaseModule("held"); err != nil {
			t.Fatal(err)
		}
	}
	if heldNow(k, "held") {
		t.Fatal("the module is still held after both releases")
	}
	if err := k.Submit(Task{Type: 1, Meta0: 2}); err != nil {
		t.Fatal(err)
	}
	r := haltOK(t, k)
	checkIdentity(t, r)
	if r.Stats.Completed != 2 {
		t.Fatalf("completed %d, want 2", r.Stats.Completed)
	}
}

// [X1][X2] Two workers whose handlers failed restart the module at the
// same time (a Supervisor returning ActRestart) while a third worker is
// still in one of its handlers: neither Fini nor Init runs beside a
// handler or beside each other, both tasks are retried and complete, and
// each failure is one restart.
func TestX2_ConcurrentRestartsWaitForHandlers(t *testing.T) {
	const typ = 1
	inC, goC := make(chan struct{}), make(chan struct{})
	inB, goB := make(chan struct{}), make(chan struct{})
	var running, life, bad, inits, finis atomic.Int64
	var runs [4]atomic.Int64 // by Meta0
	lifecycle := func(n *atomic.Int64) func(*Ctx) error {
		return func(*Ctx) error {
			if life.Add(1) != 1 || running.Load() != 0 {
				bad.Add(1)
			}
			time.Sleep(time.Millisecond) // room for an overlap to show
			life.Add(-1)
			n.Add(1)
			return nil
		}
	}
	m := Module{Name: "m", Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
		running.Add(1)
		defer running.Add(-1)
		if life.Load() != 0 {
			bad.Add(1)
		}
		meta := c.Task().Meta0
		if runs[meta].Add(1) > 1 {
			return OK // the retry after the restart
		}
		switch meta {
		case 1: // worker C: stays in its handler until told
			close(inC)
			<-goC
			return OK
		case 2: // worker B: fails once the restart of task 3 waits
			close(inB)
			<-goB
		}
		return FailCode(-5)
	}}}, Init: lifecycle(&inits), Fini: lifecycle(&finis)}
	sup := &fxSup{act: ActRestart}
	k := fxBoot(t, BootConfig{Workers: 3, Supervisor: sup}, m)
	submit := func(meta uint64) {
		if err := k.Submit(Task{Type: typ, Meta0: meta}); err != nil {
			t.Fatal(err)
		}
	}
	submit(1)
	<-inC
	submit(2)
	<-inB
	submit(3) // fails on the third worker: its restart waits for B and C
	fxWait(t, "the first restart's hold", func() bool { return heldNow(k, "m") })
	close(goB)
	fxWait(t, "the second failure", func() bool { return sup.calls.Load() == 2 })
	time.Sleep(20 * time.Millisecond) // a restart that did not wait for C shows now
	close(goC)
	fxWait(t, "the retried tasks", func() bool { return runs[2].Load() == 2 && runs[3].Load() == 2 })
	r := haltOK(t, k)
	checkIdentity(t, r)
	if bad.Load() != 0 {
		t.Fatalf("%d times a handler, Fini or Init ran beside Fini or Init", bad.Load())
	}
	if s := r.Stats; s.Restarts != 2 || s.Retried != 2 || s.Completed != 3 || s.Errored != 0 {
		t.Fatalf("restarts %d retried %d completed %d errored %d, want 2, 2, 3, 0",
			s.Restarts, s.Retried, s.Completed, s.Errored)
	}
	if inits.Load() != 3 || finis.Load() != 3 { // boot, two restarts; two restarts, halt
		t.Fatalf("inits %d finis %d, want 3 and 3", inits.Load(), finis.Load())
	}
}
