package kernel

// Spec tests of halt and identity ([K2], [K3]): Halt drains in-flight work
// when its context allows, accounts for what it could not run when it does
// not, runs Fini in reverse boot order, and closes the kernel for good.
//
// The file also holds the fx* fixtures shared by the spec tests of yield,
// faults, observability, halt and the soak: a test-controlled clock, a
// sys.error/sys.dropped sink, a recording supervisor, bounded polls.

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// fxFiniOrder returns modules named names whose Fini hooks append their name
// to *order.
func fxFiniOrder(order *[]string, mu *sync.Mutex, names ...string) []Module {
	var mods []Module
	for _, name := range names {
		mods = append(mods, Module{Name: name, Fini: func(*Ctx) error {
			mu.Lock()
			*order = append(*order, name)
			mu.Unlock()
			return nil
		}})
	}
	return mods
}

// [K2] Halt with a context that allows it drains everything in flight —
// ready queues, follow-on emits, channel deliveries, retries waiting on the
// EVQ — before stopping: nothing is left queued, every task completes, and
// Fini runs in reverse boot order. Afterwards the kernel is closed: a second
// Halt, Submit, SubmitBatch and ChanEmit return ErrClosed.
func TestK2_HaltDrainsInFlight(t *testing.T) {
	const tRoot, tNext, tChan, n = 1, 2, 3, 3000
	var done atomic.Int64
	var ch ChanID
	m := Module{Name: "work",
		Handlers: []Handler{
			{Type: tRoot, Fn: func(c *Ctx) Status {
				x := c.Task()
				if x.Meta0%10 == 0 && x.Aux == 0 {
					return Retry // once, after a real 1 ms backoff
				}
				if c.Emit(Task{Type: tNext, Meta0: x.Meta0}) != nil {
					return Retry
				}
				done.Add(1)
				return OK
			}},
			{Type: tNext, Fn: func(c *Ctx) Status {
				if c.ChanEmit(ch, Task{Type: tChan}) != nil {
					return Retry
				}
				done.Add(1)
				return OK
			}},
			{Type: tChan, Fn: func(*Ctx) Status { done.Add(1); return OK }},
		},
		Channels: []ChanDecl{{Name: "halt.x", Dir: Consume, Type: tChan, Guarantee: Lossless}},
		Init: func(c *Ctx) (err error) {
			ch, err = c.Kernel().Chan("halt.x")
			return err
		},
	}
	var order []string
	var mu sync.Mutex
	mods := append([]Module{m}, fxFiniOrder(&order, &mu, "first", "second", "third")...)
	k := fxBoot(t, BootConfig{Workers: 2, Retry: RetryPolicy{Max: 100}}, mods...)
	ts := make([]Task, n)
	for i := range ts {
		ts[i] = Task{Type: tRoot, Meta0: uint64(i)}
	}
	fxSubmitAll(t, k, ts)
	r := haltOK(t, k) // right after submitting: most of the work is still in flight
	checkIdentity(t, r)
	if r.Queued != 0 || done.Load() != 3*n || r.Stats.Completed != 3*n || r.Stats.Retried < n/10 {
		t.Fatalf("queued %d, done %d of %d: %v", r.Queued, done.Load(), 3*n, r.Stats)
	}
	if got := []string{"third", "second", "first"}; len(order) != 3 || order[0] != got[0] || order[1] != got[1] || order[2] != got[2] {
		t.Fatalf("Fini order %v, want %v", order, got)
	}
	fxClosed(t, k, ch)
}

// fxClosed checks that a halted kernel refuses everything with ErrClosed.
func fxClosed(t *testing.T, k *Kernel, ch ChanID) {
	t.Helper()
	if err := k.Halt(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Halt: %v, want ErrClosed", err)
	}
	if err := k.Submit(Task{Type: 1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Submit after Halt: %v, want ErrClosed", err)
	}
	if n, err := k.SubmitBatch([]Task{{Type: 1}, {Type: 1}}); n != 0 || !errors.Is(err, ErrClosed) {
		t.Fatalf("SubmitBatch after Halt: %d, %v, want 0, ErrClosed", n, err)
	}
	if err := k.ChanEmit(ch, Task{Type: 3}); !errors.Is(err, ErrClosed) {
		t.Fatalf("ChanEmit after Halt: %v, want ErrClosed", err)
	}
	if _, ok := k.Halted(); !ok {
		t.Fatal("Halted reports no halt")
	}
}

// [K2] Halt with an already expired context under load stops at once: it
// returns an error wrapping context.DeadlineExceeded and still accounts for
// every task — queued in the ready queue, in a subscription queue, or
// waiting for a retry on the EVQ — releasing the payloads they carried.
func TestK2_HaltExpiredContextUnderLoad(t *testing.T) {
	const tGate, tWork, tRetry, tChan, nWork, nChan, nRetry = 1, 2, 3, 4, 5000, 100, 20
	gate := make(chan struct{})
	gated := make(chan struct{})
	var finis atomic.Int64
	m := Module{Name: "load",
		Handlers: []Handler{
			{Type: tGate, Fn: func(*Ctx) Status { close(gated); <-gate; return OK }},
			{Type: tWork, Fn: func(*Ctx) Status { return OK }},
			{Type: tRetry, Fn: func(*Ctx) Status { return Retry }},
			{Type: tChan, Fn: func(*Ctx) Status { return OK }},
		},
		Channels: []ChanDecl{{Name: "load.x", Dir: Consume, Type: tChan, Guarantee: Lossless, Slots: 256}},
		Fini:     func(*Ctx) error { finis.Add(1); return nil },
	}
	// One worker; retries back off for a (real) minute.
	k := fxBoot(t, BootConfig{Workers: 1, ArenaSize: 4 << 20, QueueCap: 2 * nWork,
		Retry: RetryPolicy{Min: time.Minute, Cap: time.Hour}}, m)
	for range nRetry {
		if err := k.Submit(Task{Type: tRetry}); err != nil {
			t.Fatal(err)
		}
	}
	fxWait(t, "retries parked on the EVQ", func() bool { return k.Stats().Retried == nRetry })
	if err := k.Submit(Task{Type: tGate}); err != nil {
		t.Fatal(err)
	}
	<-gated // the only worker is busy from now on
	ts := make([]Task, nWork)
	for i := range ts {
		ts[i] = Task{Type: tWork}
		if i%4 == 0 {
			h, b, err := k.arena.Alloc(0, 100)
			if err != nil {
				t.Fatal(err)
			}
			b[0] = 1
			ts[i].Payload, ts[i].PayloadLen = uint64(h), 100
		}
	}
	fxSubmitAll(t, k, ts)
	ch := fxChan(t, k, "load.x")
	for range nChan {
		if err := k.ChanEmit(ch, Task{Type: tChan}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	halted := make(chan error)
	go func() { halted <- k.Halt(ctx) }()
	fxWait(t, "halt to begin", func() bool { return k.state.Load() != stateRunning })
	close(gate)
	err := <-halted
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("halt with an expired context: %v, want an error wrapping DeadlineExceeded", err)
	}
	r, _ := k.Halted()
	checkIdentity(t, r)
	// The gated batch ran; everything else is still queued.
	if r.Queued < nWork+nChan+nRetry-uint64(k.Config().BatchSize) {
		t.Fatalf("queued %d, want nearly all of %d", r.Queued, nWork+nChan+nRetry)
	}
	if live := k.arena.Live(); live != 0 {
		t.Fatalf("%d payload blocks live after halt", live)
	}
	if finis.Load() != 1 {
		t.Fatalf("Fini ran %d times", finis.Load())
	}
	fxClosed(t, k, ch)
}

// [K3] The kernel identity is "cpu.0" unless configured.
func TestK3_KernelID(t *testing.T) {
	for _, tc := range []struct{ cfg, want string }{{"", "cpu.0"}, {"cpu.1@node-a", "cpu.1@node-a"}} {
		k := fxBoot(t, BootConfig{Workers: 1, ID: tc.cfg})
		if k.ID() != tc.want || k.Config().ID != tc.want {
			t.Fatalf("ID %q (config %q), want %q", k.ID(), k.Config().ID, tc.want)
		}
		haltOK(t, k)
	}
}

// Fixtures.

// fxClock is a kernel clock the test moves by hand (BootConfig.Clock): time
// is a parameter, so backoff, poison windows and budgets are exact.
type fxClock struct{ ns atomic.Int64 }

func (c *fxClock) Now() int64               { return c.ns.Load() }
func (c *fxClock) Set(ns int64)             { c.ns.Store(ns) }
func (c *fxClock) Add(d time.Duration)      { c.ns.Add(int64(d)) }
func (c *fxClock) Ticking(step int64) int64 { return c.ns.Add(step) }

// fxWait polls cond until it holds, failing the test after a generous
// deadline. Only for state the kernel reaches asynchronously.
func fxWait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	fxWaitFor(t, what, 30*time.Second, cond)
}

func fxWaitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// fxSink collects the reports of the system channels it consumes: sys.*
// carry AnyType, so a Consume declaration's Type only picks the handler.
type fxSink struct {
	countOnly bool // count, do not keep the reports
	mu        sync.Mutex
	reports   []Task
	n         atomic.Int64
}

func (s *fxSink) module(name string, typ uint32, chans ...string) Module {
	m := Module{Name: name, Handlers: []Handler{{Type: typ, Fn: func(c *Ctx) Status {
		if !s.countOnly {
			s.mu.Lock()
			s.reports = append(s.reports, *c.Task())
			s.mu.Unlock()
		}
		s.n.Add(1)
		return OK
	}}}}
	for _, ch := range chans {
		m.Channels = append(m.Channels, ChanDecl{Name: ch, Dir: Consume, Type: typ, Mode: FanOut})
	}
	return m
}

// fxCode returns a report's status code (carried in Aux).
func fxCode(r *Task) Status { return task.Status(int16(r.Aux)) }

// byCode returns the reports with status code st (not with countOnly).
func (s *fxSink) byCode(st Status) []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Task
	for _, r := range s.reports {
		if fxCode(&r) == st {
			out = append(out, r)
		}
	}
	return out
}

// fxBoot boots a kernel sized for tests: the defaults' 64 Ki-slot queues and
// 64 MiB arena cost about a second to build under -race, so zero sizes get
// small values here.
func fxBoot(t testing.TB, cfg BootConfig, mods ...Module) *Kernel {
	t.Helper()
	small := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	small(&cfg.QueueCap, 4096)
	small(&cfg.EVQCap, 4096)
	small(&cfg.MaxTypes, 64)
	small(&cfg.MaxChannels, 16)
	small(&cfg.ArenaSize, 1<<20)
	k, err := Boot(cfg, mods...)
	if err != nil {
		t.Fatalf("boot: %v", err)
	}
	return k
}

// fxSubmitAll submits ts, retrying while the ready queue is full.
func fxSubmitAll(t testing.TB, k *Kernel, ts []Task) {
	t.Helper()
	for len(ts) > 0 {
		n, err := k.SubmitBatch(ts)
		ts = ts[n:]
		if err != nil && !fxIsFull(err) {
			t.Fatalf("submit: %v", err)
		}
		if n == 0 {
			time.Sleep(20 * time.Microsecond) // the ready queue is full: let workers run
		}
	}
}

func fxIsFull(err error) bool { return err != nil && errors.Is(err, ErrChanFull) }

func fxRecv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("timed out waiting for a dispatch")
	}
	var zero T
	return zero
}

func fxChan(t *testing.T, k *Kernel, name string) ChanID {
	t.Helper()
	id, err := k.Chan(name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// fxEmit emits x on a lossless channel from outside, waiting out CHAN_FULL.
func fxEmit(t testing.TB, k *Kernel, id ChanID, x Task) {
	t.Helper()
	for {
		err := k.ChanEmit(id, x)
		if err == nil {
			return
		}
		if !fxIsFull(err) {
			t.Fatalf("chan emit: %v", err)
		}
		time.Sleep(20 * time.Microsecond) // backpressure: let the consumer drain
	}
}

// fxRecSup wraps a Supervisor and records the failures it saw.
type fxRecSup struct {
	inner  Supervisor
	mu     sync.Mutex
	fs     []Failure
	ds     []Decision
	panics []any
}

func (s *fxRecSup) Decide(f *Failure) Decision {
	d := s.inner.Decide(f)
	s.mu.Lock()
	g := *f
	if g.Panic != nil {
		s.panics = append(s.panics, g.Panic)
	}
	g.Panic = nil // the kernel reuses f; keep a copy
	s.fs = append(s.fs, g)
	s.ds = append(s.ds, d)
	s.mu.Unlock()
	return d
}

func (s *fxRecSup) decisions() []Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Decision(nil), s.ds...)
}

func (s *fxRecSup) panicValues() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]any(nil), s.panics...)
}

func (s *fxRecSup) failures() []Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Failure(nil), s.fs...)
}
