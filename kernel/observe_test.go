package kernel

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// doneLog records what a channel's observer heard, per channel sequence,
// and signals each report on heardc.
type doneLog struct {
	mu     sync.Mutex
	seen   map[uint32][]Status
	subs   map[int]int
	heardc chan struct{}
}

func newDoneLog() *doneLog {
	return &doneLog{seen: map[uint32][]Status{}, subs: map[int]int{}, heardc: make(chan struct{}, 1024)}
}

func (l *doneLog) done(sub int, seq uint32, st Status) {
	l.mu.Lock()
	l.seen[seq] = append(l.seen[seq], st)
	l.subs[sub]++
	l.mu.Unlock()
	l.heardc <- struct{}{}
}

func (l *doneLog) heard(seq uint32) []Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Status(nil), l.seen[seq]...)
}

// observed boots a kernel with module cons consuming the lossless P2P
// channel obs.in, whose deliveries log hears of (ChanObserve from an
// Init, as a bridge endpoint does).
func observed(t *testing.T, cfg BootConfig, fn HandlerFunc, log *doneLog, completions bool) (*Kernel, ChanID) {
	t.Helper()
	var id ChanID
	cons := Module{Name: "cons", Handlers: []Handler{{Type: 1, Fn: fn}},
		Channels: []ChanDecl{{Name: "obs.in", Dir: Consume, Type: 1, Guarantee: Lossless}},
		Init: func(c *Ctx) (err error) {
			if id, err = c.Kernel().Chan("obs.in"); err != nil {
				return err
			}
			return c.Kernel().ChanObserve(id, log.done, completions)
		}}
	cfg.MaxTypes, cfg.ArenaSize = 8, 1<<20
	k, err := Boot(cfg, cons)
	if err != nil {
		t.Fatal(err)
	}
	return k, id
}

// [C9] [F1] [F2] [Y3] The observer of a channel hears of each delivery
// once, when the kernel is done with it, with how it ended: a completion
// (OK, after any yields), a failure to sys.error with its code, RETRY
// once its retries are used up (RETRY_LIMIT), a yield limit — never at a
// yield or a retry that runs it again.
func TestC9_ObserveHearsEachDeliveryOnceAtItsEnd(t *testing.T) {
	const rounds = 4
	kinds := []struct {
		name string
		fn   func(c *Ctx) Status
		want Status
	}{
		{"completes", func(*Ctx) Status { return OK }, OK},
		{"fails", func(*Ctx) Status { return FailCode(-3) }, FailCode(-3)},
		{"retries to the limit", func(*Ctx) Status { return Retry }, task.RetryLimit},
		{"yields twice, then completes", func(c *Ctx) Status {
			if c.Task().YieldCount < 2 {
				c.Yield()
			}
			return OK
		}, OK},
		{"yields for ever", func(c *Ctx) Status { c.Yield(); return OK }, task.YieldLimit},
	}
	log := newDoneLog()
	k, id := observed(t, BootConfig{Workers: 2, Retry: RetryPolicy{Max: 2}}, func(c *Ctx) Status {
		return kinds[c.Task().Meta0].fn(c)
	}, log, true)
	n := rounds * len(kinds)
	for i := range n {
		if err := k.ChanEmit(id, Task{Type: 1, Meta0: uint64(i % len(kinds))}); err != nil {
			t.Fatal(err)
		}
	}
	checkIdentity(t, haltOK(t, k))
	for i := range n { // the channel numbers its deliveries 1, 2, 3 … in emit order
		kd := kinds[i%len(kinds)]
		if got := log.heard(uint32(i + 1)); len(got) != 1 || got[0] != kd.want {
			t.Errorf("delivery %d (%s): heard %v, want [%v] once", i+1, kd.name, got, kd.want)
		}
	}
	if len(log.seen) != n || log.subs[0] != n {
		t.Fatalf("heard of %d deliveries (%v by subscriber), want %d, all to subscriber 0", len(log.seen), log.subs, n)
	}
}

// [C9] [F3] The kernel ends some deliveries without calling the handler:
// a poisoned type (sys.error, POISONED) and a channel closed while they
// were queued (sys.dropped, CHAN_CLOSED). The observer hears of those too;
// without completions it hears of nothing else.
func TestC9_ObserveHearsDeliveriesEndedWithoutTheirHandler(t *testing.T) {
	log := newDoneLog()
	var ran sync.Map
	handled := make(chan struct{}, 16)
	k, id := observed(t, BootConfig{Workers: 1}, func(c *Ctx) Status {
		ran.Store(c.Task().Seq, true)
		handled <- struct{}{}
		return OK
	}, log, false)
	emit := func(n int) {
		for range n {
			if err := k.ChanEmit(id, Task{Type: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	wait := func(c chan struct{}, n int, what string) {
		hang := time.After(10 * time.Second) // detects a hang only
		for range n {
			select {
			case <-c:
			case <-hang:
				t.Fatalf("waiting for %s: hung", what)
			}
		}
	}
	emit(2) // 1, 2: completed, not heard of
	wait(handled, 2, "the first deliveries handled")
	if err := k.PoisonModule("cons"); err != nil {
		t.Fatal(err)
	}
	emit(3) // 3 … 5: poisoned
	wait(log.heardc, 3, "the poisoned deliveries reported")
	if err := k.ResetModule("cons"); err != nil {
		t.Fatal(err)
	}
	if err := k.ChanPause(id, 0, true); err != nil {
		t.Fatal(err)
	}
	emit(4) // 6 … 9: queued when the channel closes
	if err := k.ChanClose(id); err != nil {
		t.Fatal(err)
	}
	if err := k.ChanPause(id, 0, false); err != nil {
		t.Fatal(err)
	}
	checkIdentity(t, haltOK(t, k))
	want := map[uint32]Status{3: task.Poisoned, 4: task.Poisoned, 5: task.Poisoned,
		6: task.ChanClosed, 7: task.ChanClosed, 8: task.ChanClosed, 9: task.ChanClosed}
	for seq := uint32(1); seq <= 9; seq++ {
		got := log.heard(seq)
		w, ended := want[seq]
		_, handled := ran.Load(seq)
		switch {
		case ended && (len(got) != 1 || got[0] != w || handled):
			t.Errorf("delivery %d: heard %v, handler ran %v; want [%v] once, no handler", seq, got, handled, w)
		case !ended && (len(got) != 0 || !handled):
			t.Errorf("delivery %d: heard %v, handler ran %v; want a completion, not heard of", seq, got, handled)
		}
	}
}

// deferAll is a supervisor whose every decision is made later (Resolve).
type deferAll chan uint64

func (d deferAll) Decide(f *Failure) Decision {
	d <- f.Ticket
	return Decision{Action: ActDefer}
}

// [C9] [X2] A failure whose supervisor decides later is not done while it
// waits: the observer hears of nothing until the decision, and then of how
// the delivery really ended (here: retried, then completed).
func TestC9_ObserveWaitsForADeferredDecision(t *testing.T) {
	log := newDoneLog()
	sup := make(deferAll, 1)
	k, id := observed(t, BootConfig{Workers: 1, Supervisor: sup}, func(c *Ctx) Status {
		if c.Task().Aux == 0 { // the first run fails; the retry completes
			return FailCode(-3)
		}
		return OK
	}, log, true)
	if err := k.ChanEmit(id, Task{Type: 1}); err != nil {
		t.Fatal(err)
	}
	var ticket uint64
	select {
	case ticket = <-sup:
	case <-time.After(10 * time.Second): // detects a hang only
		t.Fatal("the supervisor was never asked")
	}
	if got := log.heard(1); len(got) != 0 {
		t.Fatalf("heard %v while the failure waits for its supervisor", got)
	}
	if err := k.Resolve(ticket, Decision{Action: ActRetry}); err != nil {
		t.Fatal(err)
	}
	checkIdentity(t, haltOK(t, k))
	if got := log.heard(1); len(got) != 1 || got[0] != OK {
		t.Fatalf("heard %v, want [OK] once", got)
	}
}

// [C9] [C11] ChanObserve is control done before the workers start, once
// per channel, on a channel a module may consume: a second observer, a
// system channel and a call after Boot are refused.
func TestC9_ChanObserveRefusals(t *testing.T) {
	log := newDoneLog()
	var twice, sys error
	k, err := Boot(BootConfig{Workers: 1, MaxTypes: 8, ArenaSize: 1 << 20}, Module{Name: "cons",
		Handlers: []Handler{{Type: 1, Fn: func(*Ctx) Status { return OK }}},
		Channels: []ChanDecl{{Name: "obs.in", Dir: Consume, Type: 1, Guarantee: Lossless}},
		Init: func(c *Ctx) error {
			k := c.Kernel()
			id, err := k.Chan("obs.in")
			if err != nil {
				return err
			}
			if err := k.ChanObserve(id, log.done, true); err != nil {
				return err
			}
			twice = k.ChanObserve(id, log.done, false)
			e, _ := k.Chan("sys.error")
			sys = k.ChanObserve(e, log.done, false)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer haltOK(t, k)
	id, _ := k.Chan("obs.in")
	late := k.ChanObserve(id, log.done, true)
	if !errors.Is(twice, ErrChanAlreadyBound) || !errors.Is(sys, ErrConfig) || !errors.Is(late, ErrConfig) {
		t.Fatalf("observe twice: %v; sys.error: %v; after boot: %v; want each refused", twice, sys, late)
	}
}
