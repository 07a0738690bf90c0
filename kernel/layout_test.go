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
	hs := make([]int, n)
	for i := range n {
		ci := chanInfo(t, k, fmt.Sprintf("%s.%d", p, i))
		if len(ci.Subs) != 1 {
			t.Fatalf("%s.%d: subscriptions %+v", p, i, ci.Subs)
		}
		hs[i] = ci.Subs[0].Home
	}
	return hs
}

// TestC4_LayoutCutsPipelinesIntoSegments: Boot lays a pipeline's stages over
// the workers in segments of at least two stages' work, the feed from outside
// counting as one (layout.go); within a segment the stages share a worker, so
// lossless P2P deliveries take the handoff path ([C4]).
func TestC4_LayoutCutsPipelinesIntoSegments(t *testing.T) {
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

// TestC4_LayoutPinCyclesAndIndependentPipelines: a pinned stage stays where
// it is pinned; a channel fed back upstream neither hangs Boot nor stretches
// the pipeline; independent pipelines start on different workers.
func TestC4_LayoutPinCyclesAndIndependentPipelines(t *testing.T) {
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
