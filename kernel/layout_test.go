package kernel

import (
	"fmt"
	"testing"
)

// chainMods returns an n-stage pipeline on lossless P2P channels p.0 → p.1 →
// … → p.n: stage i consumes p.i and, but for the last, produces p.(i+1).
func chainMods(p string, n int) []Module {
	mods := make([]Module, n)
	for i := range n {
		out := ""
		if i < n-1 {
			out = fmt.Sprintf("%s.%d", p, i+1)
		}
		mods[i] = stageModule(fmt.Sprintf("%s%d", p, i), fmt.Sprintf("%s.%d", p, i), out, uint32(i+1), nil)
	}
	return mods
}

// homesOf returns the home worker of the consumer of p.0 … p.(n-1).
func homesOf(t *testing.T, k *Kernel, p string, n int) []int {
	t.Helper()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s.%d", p, i)
	}
	return homesOfChans(t, k, names...)
}

// TestLayoutCutsPipelinesIntoSegments: Boot lays a pipeline's stages over
// the workers in segments of at least two stages' work, the feed from outside
// counting as one (layout.go); within a segment the stages share a worker.
func TestLayoutCutsPipelinesIntoSegments(t *testing.T) {
	for _, tc := range []struct {
		workers, stages int
		want            []int // homes relative to the first stage's
	}{
		{1, 3, []int{0, 0, 0}},
		{2, 1, []int{0}},
		{2, 2, []int{0, 0}},                // (2+1)/2 = 1 segment: co-located
		{2, 3, []int{0, 1, 1}},             // feed+stage 1 | stages 2, 3
		{2, 4, []int{0, 0, 1, 1}},          // 2 segments of 2
		{4, 5, []int{0, 1, 1, 2, 2}},       // 3 segments
		{4, 7, []int{0, 1, 1, 2, 2, 3, 3}}, // 4 segments, one per worker
		{8, 3, []int{0, 1, 1}},             // never more segments than (L+1)/2
	} {
		t.Run(fmt.Sprintf("w%d_l%d", tc.workers, tc.stages), func(t *testing.T) {
			k := bootT(t, BootConfig{Workers: tc.workers, ArenaSize: 1 << 20, MaxTypes: 16, MaxChannels: 16}, chainMods("p", tc.stages)...)
			hs := homesOf(t, k, "p", tc.stages)
			for i, h := range hs {
				if want := (hs[0] + tc.want[i]) % tc.workers; h != want {
					t.Fatalf("homes %v, want %v relative to the first", hs, tc.want)
				}
			}
		})
	}
}

// TestLayoutPinCyclesAndIndependentPipelines: a pinned stage stays where it
// is pinned; a channel fed back upstream neither hangs Boot nor stretches the
// pipeline; independent pipelines start on different workers.
func TestLayoutPinCyclesAndIndependentPipelines(t *testing.T) {
	cfg := BootConfig{Workers: 2, ArenaSize: 1 << 20, MaxTypes: 16, MaxChannels: 16}

	a := chainMods("a", 3)
	a[2].Channels[0].Pin, a[2].Channels[0].Worker = true, 0
	k := bootT(t, cfg, a...)
	if hs := homesOf(t, k, "a", 3); hs[2] != 0 || hs[1] == hs[0] {
		t.Errorf("pinned: homes %v, want stage 3 on worker 0 and stage 2 off stage 1's worker", hs)
	}

	// c0 → c1 → c2, and c2 also produces c.0 (fed back to c0): the cycle
	// adds nothing, the pipeline is still three stages.
	c := chainMods("c", 3)
	c[2].Channels = append(c[2].Channels, ChanDecl{Name: "c.0", Dir: Produce, Type: 1, Guarantee: Lossless})
	k = bootT(t, cfg, c...)
	if hs := homesOf(t, k, "c", 3); hs[1] == hs[0] || hs[2] != hs[1] {
		t.Errorf("cycle: homes %v, want stage 1 | stages 2, 3", hs)
	}

	k = bootT(t, cfg, append(chainMods("x", 2), chainMods("y", 2)...)...)
	x, y := homesOf(t, k, "x", 2), homesOf(t, k, "y", 2)
	if x[0] != x[1] || y[0] != y[1] || x[0] == y[0] {
		t.Errorf("independent 2-stage pipelines: x %v, y %v; want each co-located, on different workers", x, y)
	}
}

// TestC4_SplitPipelineKeepsOrder: a three-stage chain on two workers, cut
// by Boot's layout into first | relay, sink, so that the first hop crosses
// workers (the outbox) and the second stays on one (the handoff slot); both
// channels still deliver every task once, in emit order, with sequences
// 1, 2, 3 … ([C4] P2P FIFO), and the accounting identity holds ([C9]).
func TestC4_SplitPipelineKeepsOrder(t *testing.T) {
	const n = 64 * 300
	var mid, out ChanID
	var midOrder, outOrder spOrder
	first := Module{Name: "first",
		Handlers: []Handler{{Type: 1, Fn: func(c *Ctx) Status {
			x := *c.Task()
			x.Type = 2
			if c.ChanEmit(mid, x) != nil {
				t.Error("emit on s.mid refused")
			}
			return OK
		}}},
		Channels: []ChanDecl{{Name: "s.in", Dir: Consume, Type: 1, Guarantee: Lossless},
			{Name: "s.mid", Dir: Produce, Type: 2, Guarantee: Lossless}},
	}
	sink := spCons("sink", ChanDecl{Name: "s.out", Type: 3, Guarantee: Lossless},
		func(c *Ctx) Status { outOrder.see(c.Task()); return OK })
	k := spBoot(t, spCfg(), first, relayMod(t, "s", 0, &midOrder, &out), sink)
	in := spChan(t, k, "s.in")
	mid, out = spChan(t, k, "s.mid"), spChan(t, k, "s.out")
	if hs := homesOfChans(t, k, "s.in", "s.mid", "s.out"); hs[0] == hs[1] || hs[1] != hs[2] {
		t.Fatalf("homes %v: want first | relay, sink", hs)
	}
	emitSeq(t, k, in, n, 64)
	r := haltOK(t, k)
	checkIdentity(t, r)
	midOrder.check(t, "relay (s.mid)", n)
	outOrder.check(t, "sink (s.out)", n)
	if r.Stats.Completed != 3*n {
		t.Errorf("completed %d, want %d", r.Stats.Completed, 3*n)
	}
}

// homesOfChans returns the home worker of each named channel's one consumer.
func homesOfChans(t testing.TB, k *Kernel, names ...string) []int {
	t.Helper()
	hs := make([]int, len(names))
	for i, name := range names {
		ci := chanInfo(t, k, name)
		if len(ci.Subs) != 1 {
			t.Fatalf("%s: subscriptions %+v", name, ci.Subs)
		}
		hs[i] = ci.Subs[0].Home
	}
	return hs
}

// bootT boots a kernel that the test's cleanup halts.
func bootT(t *testing.T, cfg BootConfig, mods ...Module) *Kernel {
	t.Helper()
	k, err := Boot(cfg, mods...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { haltOK(t, k) })
	return k
}
