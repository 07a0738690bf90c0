package supervise

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/kernel"
)

// TestX2_KernelAction pins the directive → kernel action mapping of [X2].
func TestX2_KernelAction(t *testing.T) {
	cases := []struct {
		d        actor.Directive
		a        kernel.Action
		escalate bool
	}{
		{actor.ResumeDirective, kernel.ActRetry, false},
		{actor.RestartDirective, kernel.ActRestart, false},
		{actor.StopDirective, kernel.ActPoison, false},
		{actor.EscalateDirective, kernel.ActError, true},
		{actor.Directive(99), kernel.ActError, true},
	}
	for _, tc := range cases {
		if a, esc := KernelAction(tc.d); a != tc.a || esc != tc.escalate {
			t.Errorf("%v → %v %v, want %v %v", tc.d, a, esc, tc.a, tc.escalate)
		}
	}
}

func BenchmarkTreeExitOneForAll(b *testing.B) {
	tr, _ := NewTree(Flags{OneForAll, 1 << 30, time.Hour})
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		_ = tr.Add(id, Permanent)
	}
	b.ReportAllocs()
	now := t0
	for b.Loop() {
		now = now.Add(time.Hour) // keep the restart history short
		if _, err := tr.Exit("c", ExitAbnormal, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStrategyHandleFailure(b *testing.B) {
	system := newSystem()
	defer system.Shutdown()
	s, _ := NewStrategy(Config{Flags: Flags{RestForOne, 1 << 30, time.Nanosecond}})
	sup := &recordSupervisor{self: system.NewLocalPID("sup")}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		p := system.NewLocalPID(n)
		sup.children = append(sup.children, p)
		_ = s.Add(sup.self, p, Permanent)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.HandleFailure(system, sup, sup.children[2], nil, errBoom, nil)
		sup.calls = sup.calls[:0]
	}
}
