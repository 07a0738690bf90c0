package supervise

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// boom makes a test child panic with reason; id lets the test recognise the
// failing message in OnFailedMessage.
type boom struct {
	id     int
	reason any
}

// failChild asks the test supervisor to forward a boom to child name.
type failChild struct {
	name string
	boom boom
}

type childSpec struct {
	name string
	r    Restart
}

// harness is a real protoactor supervisor with children. With sync set, the
// children use protoactor's synchronized dispatcher and the supervisor
// forwards failures itself, so a failure, the strategy's decision and every
// child's lifecycle all run on the supervisor's goroutine, in order.
type harness struct {
	t      *testing.T
	system *actor.ActorSystem
	sup    *actor.PID
	top    *actor.PID     // sup's parent, which sees escalations
	events chan string    // "name:started" etc., in order
	failed chan *Decision // from OnFailedMessage
	esc    chan any       // reasons escalated to top
	kids   map[string]*actor.PID
	mu     sync.Mutex
}

func newHarness(t *testing.T, s *Strategy, sync bool, specs ...childSpec) *harness {
	t.Helper()
	h := &harness{t: t, system: newSystem(), events: make(chan string, 1024),
		esc: make(chan any, 16), kids: map[string]*actor.PID{}}
	h.failed = make(chan *Decision, 64)
	s.cfg.OnFailedMessage = func(_ *actor.PID, _ any, d *Decision) { h.failed <- d }
	ready := make(chan struct{})
	supProps := actor.PropsFromFunc(h.supervisor(s, sync, specs, ready), actor.WithSupervisor(s))
	topDecider := func(reason any) actor.Directive { h.esc <- reason; return actor.StopDirective }
	topProps := actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*actor.Started); ok {
			ctx.Spawn(supProps) // sets h.sup before closing ready
		}
	}, actor.WithSupervisor(actor.NewOneForOneStrategy(10, time.Second, topDecider)))
	h.top = h.system.Root.Spawn(topProps)
	<-ready
	t.Cleanup(func() {
		_ = h.system.Root.StopFuture(h.top).Wait()
		h.system.Shutdown()
	})
	for range specs { // each child's first Started (already there when sync)
		<-h.events
	}
	return h
}

func (h *harness) supervisor(s *Strategy, sync bool, specs []childSpec, ready chan struct{}) actor.ReceiveFunc {
	return func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Started:
			h.sup = ctx.Self() // read by the test after <-ready
			for _, c := range specs {
				props := actor.PropsFromFunc(h.child(c.name))
				if sync {
					props = actor.PropsFromFunc(h.child(c.name), actor.WithDispatcher(actor.NewSynchronizedDispatcher(300)))
				}
				pid, err := ctx.SpawnNamed(props, c.name)
				if err != nil {
					panic(err)
				}
				h.mu.Lock()
				h.kids[c.name] = pid
				h.mu.Unlock()
				if err := s.Add(ctx.Self(), pid, c.r); err != nil {
					panic(err)
				}
			}
			close(ready)
		case *actor.Terminated:
			s.Remove(ctx.Self(), m.Who)
		case failChild:
			ctx.Send(h.pid(m.name), m.boom)
		}
	}
}

func (h *harness) child(name string) actor.ReceiveFunc {
	return func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Started:
			h.events <- name + ":started"
		case *actor.Restarting:
			h.events <- name + ":restarting"
		case *actor.Stopping:
			h.events <- name + ":stopping"
		case boom:
			panic(m.reason)
		case string:
			h.events <- name + ":" + m
		}
	}
}

func (h *harness) pid(name string) *actor.PID {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.kids[name]
}

// fail makes child name panic with reason (through the supervisor) and
// waits for the strategy's decision.
func (h *harness) fail(name string, id int, reason any) *Decision {
	h.system.Root.Send(h.sup, failChild{name, boom{id, reason}})
	return h.decision()
}

func (h *harness) decision() *Decision {
	select {
	case d := <-h.failed:
		return d
	case <-time.After(10 * time.Second):
		h.t.Fatal("no supervision decision")
		return nil
	}
}

// drain returns the lifecycle events already recorded.
func (h *harness) drain() []string {
	var out []string
	for {
		select {
		case e := <-h.events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func names(pids []*actor.PID) []string {
	var out []string
	for _, p := range pids {
		out = append(out, p.Id[strings.LastIndex(p.Id, "/")+1:])
	}
	return out
}

func newStrategy(t *testing.T, c Config) *Strategy {
	t.Helper()
	s, err := NewStrategy(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var errBoom = errors.New("boom")

// newSystem is a local ActorSystem whose logs are discarded. Its dead-letter
// throttle runs a goroutine for one throttle interval after a dead letter
// (a Terminated reaching a stopped supervisor, say); a 1 ms interval lets
// it end before goleak looks, so no protoactor goroutine needs ignoring.
func newSystem() *actor.ActorSystem {
	return actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }),
		actor.WithDeadLetterThrottleInterval(time.Millisecond))
}

// TestX2_OTP_ActorRestartOrder runs GMK's strategies under a real
// protoactor supervisor: the right siblings restart in start order, the
// temporary ones stop (last started first) and are never restarted, and the
// failing message reaches the callback.
func TestX2_OTP_ActorRestartOrder(t *testing.T) {
	five := []childSpec{{"a", Permanent}, {"b", Temporary}, {"c", Permanent}, {"d", Transient}, {"e", Temporary}}
	cases := []struct {
		kind    Kind
		fail    string
		events  []string
		stop    []string
		restart []string
	}{
		{OneForOne, "c", []string{"c:restarting", "c:started"}, nil, []string{"c"}},
		{OneForAll, "c",
			[]string{"e:stopping", "b:stopping", "a:restarting", "a:started", "c:restarting", "c:started", "d:restarting", "d:started"},
			[]string{"e", "d", "b", "a"}, []string{"a", "c", "d"}},
		{RestForOne, "c",
			[]string{"e:stopping", "c:restarting", "c:started", "d:restarting", "d:started"},
			[]string{"e", "d"}, []string{"c", "d"}},
	}
	for _, tc := range cases {
		t.Run(tc.kind.String(), func(t *testing.T) {
			s := newStrategy(t, Config{Flags: Flags{tc.kind, 5, 30 * time.Second}})
			h := newHarness(t, s, true, five...)
			d := h.fail(tc.fail, 42, errBoom)
			if got := h.drain(); !slices.Equal(got, tc.events) {
				t.Errorf("lifecycle %v\nwant      %v", got, tc.events)
			}
			if d.Directive != actor.RestartDirective || !slices.Equal(names(d.Stop), tc.stop) ||
				!slices.Equal(names(d.Restart), tc.restart) {
				t.Errorf("decision %v stop %v restart %v", d.Directive, names(d.Stop), names(d.Restart))
			}
			if m, ok := d.Message.(boom); !ok || m.id != 42 || d.Reason != errBoom {
				t.Errorf("failing message %#v reason %v", d.Message, d.Reason)
			}
			h.system.Root.Send(h.pid(tc.fail), "alive") // the restarted child serves again
			if e := <-h.events; e != tc.fail+":alive" {
				t.Errorf("after restart: %s", e)
			}
		})
	}
}

// TestX2_OTP_ActorIntensityEscalates: restarts of two different children
// exceed the supervisor's intensity; all children stop, last started first
// (the failed one included), and the supervisor's parent gets the failure.
func TestX2_OTP_ActorIntensityEscalates(t *testing.T) {
	s := newStrategy(t, Config{Flags: Flags{OneForOne, 1, time.Minute}, Clock: func() time.Time { return t0 }})
	h := newHarness(t, s, true, childSpec{"a", Permanent}, childSpec{"b", Permanent}, childSpec{"c", Permanent})
	if d := h.fail("a", 1, errBoom); d.Directive != actor.RestartDirective {
		t.Fatalf("first failure: %v", d.Directive)
	}
	h.drain()
	h.system.Root.Send(h.sup, failChild{"b", boom{2, errBoom}})
	select {
	case r := <-h.esc:
		if r != errBoom {
			t.Fatalf("escalated reason %v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no escalation")
	}
	if got, want := h.drain(), []string{"c:stopping", "b:stopping", "a:stopping"}; !slices.Equal(got, want) {
		t.Fatalf("lifecycle %v, want %v", got, want)
	}
	if d := h.decision(); d.Directive != actor.EscalateDirective || d.Message.(boom).id != 2 {
		t.Fatalf("decision %v, message %v", d.Directive, d.Message)
	}
}

// TestX2_OTP_ActorTransientNormal: a transient child that fails with
// ErrExitNormal is let go, not restarted; a permanent one is restarted.
func TestX2_OTP_ActorTransientNormal(t *testing.T) {
	s := newStrategy(t, Config{Flags: DefaultFlags()})
	h := newHarness(t, s, true, childSpec{"p", Permanent}, childSpec{"t", Transient})
	d := h.fail("t", 1, fmt.Errorf("done: %w", ErrExitNormal))
	if d.Directive != actor.StopDirective || d.Exit != ExitNormal {
		t.Fatalf("transient normal: %v %v", d.Directive, d.Exit)
	}
	if got := h.drain(); !slices.Equal(got, []string{"t:stopping"}) {
		t.Fatalf("lifecycle %v", got)
	}
	d = h.fail("p", 2, fmt.Errorf("done: %w", ErrExitNormal))
	if d.Directive != actor.RestartDirective {
		t.Fatalf("permanent normal: %v", d.Directive)
	}
}
