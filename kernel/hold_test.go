package kernel

import (
	"context"
	"errors"
	"io"
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

// stuckModule is a module "m" whose handler holds task 1's first run until
// proceed is closed (closing inside when it starts, and recording its
// worker), then returns st; every other run succeeds. Its Init and Fini
// count.
type stuckModule struct {
	inside, proceed chan struct{}
	worker          atomic.Int64
	inits, finis    atomic.Int64
	ok              atomic.Int64
}

// startStuck boots cfg with a stuckModule returning st and returns once
// task 1 is in its handler.
func startStuck(t *testing.T, st Status, cfg BootConfig) (*stuckModule, *Kernel) {
	t.Helper()
	s := &stuckModule{inside: make(chan struct{}), proceed: make(chan struct{})}
	m := Module{Name: "m", Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
		if c.Task().Meta0 == 1 && c.Task().Aux == 0 {
			s.worker.Store(int64(c.Worker()))
			close(s.inside)
			<-s.proceed
			return st
		}
		s.ok.Add(1)
		return OK
	}}},
		Init: func(*Ctx) error { s.inits.Add(1); return nil },
		Fini: func(*Ctx) error { s.finis.Add(1); return nil }}
	k := fxBoot(t, cfg, m)
	if err := k.Submit(Task{Type: 1, Meta0: 1}); err != nil {
		t.Fatal(err)
	}
	<-s.inside
	return s, k
}

// background runs fn on its own goroutine; its error comes on the channel.
func background(fn func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return ch
}

// await returns what ch brings; a hang fails the test (after a generous
// minute).
func await(t *testing.T, what string, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("%s: still waiting after a minute (a deadlock)", what)
		return nil
	}
}

// haltIn is a Halt of k given d to drain.
func haltIn(k *Kernel, d time.Duration) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return k.Halt(ctx)
	}
}

// snapshot is a Snapshot of k, written nowhere.
func snapshot(k *Kernel) func() error {
	return func() error { _, err := k.Snapshot(io.Discard); return err }
}

// [X1][K2] A handler fails into a module restart (ActRestart) after a Halt
// whose time ran out has stopped the other worker: the restart's hold must
// not wait for the loop count of a worker that is gone, or Halt, which
// waits for the restarting worker, never returns. The restart runs; the
// retried task is counted as queued.
func TestX1_RestartWhileHaltStopsTheWorkers(t *testing.T) {
	s, k := startStuck(t, FailCode(-5), BootConfig{Workers: 2, Supervisor: &fxSup{act: ActRestart}})
	halted := background(haltIn(k, 20*time.Millisecond))
	other := k.workers[1-s.worker.Load()]
	fxWait(t, "the other worker to leave its loop", func() bool { return other.aside.Load() })
	close(s.proceed) // FAIL → ActRestart → hold
	if err := await(t, "Halt", halted); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("halt: %v, want the deadline (a retried task was still queued)", err)
	}
	r, _ := k.Halted()
	checkIdentity(t, r)
	if r.Stats.Restarts != 1 || r.Queued != 1 || s.inits.Load() != 2 || s.finis.Load() != 2 {
		t.Fatalf("restarts %d queued %d inits %d finis %d, want 1, 1, 2, 2",
			r.Stats.Restarts, r.Queued, s.inits.Load(), s.finis.Load())
	}
}

// [F5][X1] A Snapshot while a worker's handler fails into a module
// restart: the snapshot waits for that worker to pause, and the restart's
// hold must not wait for the worker the snapshot has already paused. Both
// finish; the retried task runs once the world resumes.
func TestF5_SnapshotDuringARestart(t *testing.T) {
	s, k := startStuck(t, FailCode(-5), BootConfig{Workers: 2, Supervisor: &fxSup{act: ActRestart}})
	snapped := background(snapshot(k))
	fxWait(t, "the idle worker to pause", func() bool { return k.world.parked.Load() == 1 })
	close(s.proceed) // FAIL → ActRestart → hold
	if err := await(t, "Snapshot", snapped); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	fxWait(t, "the retried task", func() bool { return s.ok.Load() == 1 })
	r := haltOK(t, k)
	checkIdentity(t, r)
	if r.Stats.Restarts != 1 || r.Stats.Completed != 1 || s.inits.Load() != 2 {
		t.Fatalf("restarts %d completed %d inits %d, want 1, 1, 2", r.Stats.Restarts, r.Stats.Completed, s.inits.Load())
	}
}

// [F5][K2] A Snapshot still waiting for a busy worker when a Halt whose
// time ran out stops the workers returns ErrClosed instead of waiting for
// workers that are gone, and lifts its stop of the world: a Submit after
// the Halt fails with ErrClosed instead of waiting for the snapshot.
func TestF5_SnapshotCutShortByHalt(t *testing.T) {
	s, k := startStuck(t, OK, BootConfig{Workers: 2})
	snapped := background(snapshot(k))
	fxWait(t, "the idle worker to pause", func() bool { return k.world.parked.Load() == 1 })
	halted := background(haltIn(k, 20*time.Millisecond))
	fxWait(t, "Halt to stop the workers", func() bool { return k.stopping() })
	close(s.proceed)
	await(t, "Halt", halted)
	if err := await(t, "Snapshot", snapped); !errors.Is(err, ErrClosed) {
		t.Fatalf("snapshot: %v, want ErrClosed", err)
	}
	submitted := background(func() error { return k.Submit(Task{Type: 1}) })
	if err := await(t, "a Submit after Halt (the snapshot's stop of the world)", submitted); !errors.Is(err, ErrClosed) {
		t.Fatalf("submit after halt: %v, want ErrClosed", err)
	}
	r, _ := k.Halted()
	checkIdentity(t, r)
	if r.Stats.Completed != 1 {
		t.Fatalf("completed %d, want 1", r.Stats.Completed)
	}
}
