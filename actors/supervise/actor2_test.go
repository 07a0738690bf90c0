package supervise

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// manualScheduler keeps AfterFunc calls until the test fires them: backoff
// without sleeping.
type manualScheduler struct {
	mu     sync.Mutex
	delays []time.Duration
	fns    []func()
}

func (m *manualScheduler) AfterFunc(d time.Duration, f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.delays, m.fns = append(m.delays, d), append(m.fns, f)
}

// fire runs the pending callbacks on the caller's goroutine.
func (m *manualScheduler) fire() []time.Duration {
	m.mu.Lock()
	fns, ds := m.fns, m.delays
	m.fns, m.delays = nil, nil
	m.mu.Unlock()
	for _, f := range fns {
		f()
	}
	return ds
}

// TestX2_ActorBackoff: with a Backoff, restarts wait for the scheduler; the
// delays double from Min, stay within Max, and after MaxRestarts in a row
// the child is stopped (Akka). The clock is injected.
func TestX2_ActorBackoff(t *testing.T) {
	sched := &manualScheduler{}
	now := t0
	var clock sync.Mutex
	s := newStrategy(t, Config{
		Flags:     Flags{OneForOne, 100, time.Minute},
		Backoff:   &Backoff{Min: 100 * time.Millisecond, Max: 300 * time.Millisecond, Factor: 0.2, MaxRestarts: 3},
		Scheduler: sched,
		Clock:     func() time.Time { clock.Lock(); defer clock.Unlock(); return now },
		Rand:      func() float64 { return 0 },
	})
	h := newHarness(t, s, true, childSpec{"a", Permanent}, childSpec{"b", Permanent})
	for i, want := range []time.Duration{100, 200, 300} {
		d := h.fail("a", i, errBoom)
		if d.Directive != actor.RestartDirective || d.Delay != want*time.Millisecond {
			t.Fatalf("failure %d: %v after %v, want restart after %v", i, d.Directive, d.Delay, want*time.Millisecond)
		}
		if got := h.drain(); len(got) != 0 {
			t.Fatalf("restarted before the delay: %v", got)
		}
		if ds := sched.fire(); !slices.Equal(ds, []time.Duration{d.Delay}) {
			t.Fatalf("scheduled %v", ds)
		}
		if got := h.drain(); !slices.Equal(got, []string{"a:restarting", "a:started"}) {
			t.Fatalf("after the delay: %v", got)
		}
	}
	d := h.fail("a", 3, errBoom)
	if d.Directive != actor.StopDirective || !slices.Equal(names(d.Stop), []string{"a"}) {
		t.Fatalf("4th in a row: %v stop %v", d.Directive, names(d.Stop))
	}
	if got := h.drain(); !slices.Equal(got, []string{"a:stopping"}) {
		t.Fatalf("lifecycle %v", got)
	}
	clock.Lock()
	now = now.Add(time.Hour) // b's row is its own, and quiet resets anyway
	clock.Unlock()
	if d := h.fail("b", 4, errBoom); d.Delay != 100*time.Millisecond {
		t.Fatalf("b: %v", d.Delay)
	}
	sched.fire()
}

// TestX2_ActorResume: a Resume decider keeps the child (no lifecycle), it
// serves the next message, and the failing message still reaches the
// callback — protoactor would have dropped it.
func TestX2_ActorResume(t *testing.T) {
	s := newStrategy(t, Config{Flags: DefaultFlags(), Decider: func(any) actor.Directive { return actor.ResumeDirective }})
	h := newHarness(t, s, true, childSpec{"a", Permanent})
	d := h.fail("a", 7, errBoom)
	if d.Directive != actor.ResumeDirective || d.Message.(boom).id != 7 {
		t.Fatalf("decision %v message %v", d.Directive, d.Message)
	}
	h.system.Root.Send(h.pid("a"), "alive")
	if e := <-h.events; e != "a:alive" {
		t.Fatalf("after resume: %s", e)
	}
}

// TestX2_ActorDefaultDispatcher: with protoactor's default (goroutine)
// dispatcher the children restart concurrently, so only the sets are
// checked; the published Decision carries the order.
func TestX2_ActorDefaultDispatcher(t *testing.T) {
	s := newStrategy(t, Config{Flags: Flags{RestForOne, 5, time.Minute}})
	h := newHarness(t, s, false, childSpec{"a", Permanent}, childSpec{"b", Permanent}, childSpec{"c", Temporary}, childSpec{"d", Permanent})
	pub := make(chan *Decision, 1)
	sub := h.system.EventStream.Subscribe(func(e any) {
		if d, ok := e.(*Decision); ok {
			pub <- d
		}
	})
	defer h.system.EventStream.Unsubscribe(sub)
	h.system.Root.Send(h.pid("b"), boom{1, errBoom})
	d := h.decision()
	if p := <-pub; p != d {
		t.Fatal("published decision differs from the callback's")
	}
	want := map[string]bool{"b:restarting": true, "b:started": true, "c:stopping": true, "d:restarting": true, "d:started": true}
	for len(want) > 0 {
		select {
		case e := <-h.events:
			if !want[e] {
				t.Fatalf("unexpected %s", e)
			}
			delete(want, e)
		case <-time.After(10 * time.Second):
			t.Fatalf("missing %v", want)
		}
	}
	if !slices.Equal(names(d.Restart), []string{"b", "d"}) || !slices.Equal(names(d.Stop), []string{"d", "c"}) {
		t.Fatalf("restart %v stop %v", names(d.Restart), names(d.Stop))
	}
}
