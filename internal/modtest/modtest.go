// Package modtest holds the fixtures of the standard modules' tests: a real
// kernel booted for a test and halted at its end with the accounting checked,
// a sink module that records what arrives on a channel, and bounded polls.
package modtest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel"
)

// Boot starts a kernel (2 workers, 8 MiB arena unless cfg says otherwise)
// and halts it at the end of the test (Halt checks).
func Boot(t testing.TB, cfg kernel.BootConfig, mods ...kernel.Module) *kernel.Kernel {
	t.Helper()
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.ArenaSize == 0 {
		cfg.ArenaSize = 8 << 20
	}
	if cfg.QueueCap == 0 {
		cfg.QueueCap = 4096
	}
	if cfg.EVQCap == 0 {
		cfg.EVQCap = 4096
	}
	k, err := kernel.Boot(cfg, mods...)
	if err != nil {
		t.Fatalf("boot: %v", err)
	}
	t.Cleanup(func() { Halt(t, k) })
	return k
}

// Halt halts k once (30 s at most) and checks the accounting of [C9] — every
// task created is completed, errored, dropped or counted as queued — and that
// no payload is left live.
func Halt(t testing.TB, k *kernel.Kernel) kernel.HaltReport {
	t.Helper()
	if r, ok := k.Halted(); ok {
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := k.Halt(ctx); err != nil && !errors.Is(err, kernel.ErrClosed) {
		t.Errorf("halt: %v", err)
	}
	r, _ := k.Halted()
	if s := r.Stats; s.Created() != s.Completed+s.Errored+s.Dropped+r.Queued {
		t.Errorf("[C9] accounting: %v queued=%d", s, r.Queued)
	}
	if n := k.LivePayloads(); n != 0 {
		t.Errorf("%d payloads live after halt", n)
	}
	return r
}

// WaitFor polls cond until it holds, failing after a generous deadline.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// Submit submits x, retrying while the ready queue is full.
func Submit(t testing.TB, k *kernel.Kernel, x kernel.Task) {
	t.Helper()
	for {
		err := k.Submit(x)
		if err == nil {
			return
		}
		if !errors.Is(err, kernel.ErrChanFull) {
			t.Fatalf("submit: %v", err)
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// Record is a task that arrived at a Sink, with a copy of its payload.
type Record struct {
	Task    kernel.Task
	Payload []byte
	Code    kernel.Status // the status code of a sys.error or sys.dropped report
}

// Sink records the tasks delivered on one channel, in the order its handler
// ran them.
type Sink struct {
	mu   sync.Mutex
	recs []Record
}

// Module returns a module named name that consumes channel ch (task type
// typ, with the mode and guarantee given) into the sink. For sys.error and
// sys.dropped, typ only picks the handler.
func (s *Sink) Module(name, ch string, typ uint32, mode kernel.ChanSpec) kernel.Module {
	return kernel.Module{Name: name,
		Handlers: []kernel.Handler{{Type: typ, Fn: func(c *kernel.Ctx) kernel.Status {
			r := Record{Task: *c.Task(), Payload: slices.Clone(c.Payload())}
			r.Code = kernel.Status(int16(r.Task.Aux))
			s.mu.Lock()
			s.recs = append(s.recs, r)
			s.mu.Unlock()
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{{Name: ch, Dir: kernel.Consume, Type: typ, Mode: mode.Mode,
			Guarantee: mode.Guarantee, Slots: mode.Slots}},
	}
}

// Records returns a copy of what arrived so far.
func (s *Sink) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs)
}

// Len returns how many tasks arrived so far.
func (s *Sink) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// Wait waits until at least n tasks arrived and returns them.
func (s *Sink) Wait(t testing.TB, n int) []Record {
	t.Helper()
	WaitFor(t, "deliveries to the sink", func() bool { return s.Len() >= n })
	return s.Records()
}

// Lossless and LossyFan are the usual shapes of a sink's channel.
var (
	Lossless = kernel.ChanSpec{Mode: kernel.P2P, Guarantee: kernel.Lossless}
	LossyFan = kernel.ChanSpec{Mode: kernel.FanOut, Guarantee: kernel.Lossy}
)

// Clock is a kernel clock the test moves (BootConfig.Clock = c.Now): time
// as a parameter, so timer tests assert exact due times.
type Clock struct{ ns atomic.Int64 }

// Now returns the clock's time in ns.
func (c *Clock) Now() int64 { return c.ns.Load() }

// Add moves the clock forward by d.
func (c *Clock) Add(d time.Duration) { c.ns.Add(int64(d)) }
