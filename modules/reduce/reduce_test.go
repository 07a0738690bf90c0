package reduce_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/reduce"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fixture struct {
	k         *kernel.Kernel
	in        sdk.Port
	out, errs *modtest.Sink
	cfg       reduce.Config
}

func newFixture(t *testing.T, cfg reduce.Config) *fixture {
	t.Helper()
	f := &fixture{out: &modtest.Sink{}, errs: &modtest.Sink{}, cfg: cfg.WithDefaults()}
	f.k = modtest.Boot(t, kernel.BootConfig{}, reduce.Module(cfg),
		f.out.Module("sink", "reduce.out", f.cfg.OutType, kernel.ChanSpec{Guarantee: kernel.Lossless, Slots: cfg.Slots}),
		f.errs.Module("errs", kernel.SysError, 1, modtest.LossyFan))
	var err error
	if f.in, err = sdk.Dial(f.k, "reduce.in"); err != nil {
		t.Fatal(err)
	}
	return f
}

type elem struct {
	group, index uint32
	last         bool
	v            uint64
	b            string
}

func (f *fixture) send(t *testing.T, es ...elem) {
	t.Helper()
	for _, e := range es {
		var b []byte
		if e.b != "" {
			b = []byte(e.b)
		}
		if err := sdk.EmitBytes(context.Background(), f.k, f.in, 0, sdk.ElemMeta(e.group, e.index, e.last), e.v, b); err != nil {
			t.Fatal(err)
		}
	}
}

// groupOf returns the elements of one group of n values, last flagged.
func groupOf(g uint32, vals ...uint64) []elem {
	es := make([]elem, len(vals))
	for i, v := range vals {
		es[i] = elem{group: g, index: uint32(i), last: i == len(vals)-1, v: v}
	}
	return es
}

func shuffled(seed uint64, es []elem) []elem {
	rng := rand.New(rand.NewPCG(seed, seed))
	out := append([]elem(nil), es...)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func neg(v int64) uint64 { return uint64(v) }

// [U2] reduce's contract for each operation and kind: groups interleave
// and arrive out of order, and each result is the fold in index order, with
// the group and count in meta0.
func TestU2_ReduceOps(t *testing.T) {
	for _, c := range []struct {
		r    sdk.Reducer
		vals []uint64
		want uint64
	}{
		{sdk.Reducer{Op: sdk.OpSum, Kind: sdk.KindInt}, []uint64{neg(-5), 7, 9, neg(-1)}, 10},
		{sdk.Reducer{Op: sdk.OpMin, Kind: sdk.KindInt}, []uint64{neg(-5), 7, 9, neg(-1)}, neg(-5)},
		{sdk.Reducer{Op: sdk.OpMax, Kind: sdk.KindUint}, []uint64{neg(-5), 7, 9, 1}, neg(-5)},
		{sdk.Reducer{Op: sdk.OpMin, Kind: sdk.KindFloat}, []uint64{sdk.F(2), sdk.F(-0.5), sdk.F(1)}, sdk.F(-0.5)},
		{sdk.Reducer{Op: sdk.OpCustom, Init: 0, Fn: func(a, v uint64) uint64 { return a*10 + v }}, []uint64{1, 2, 3, 4}, 1234},
	} {
		t.Run(fmt.Sprintf("%v-%d", c.r.Op, c.r.Kind), func(t *testing.T) {
			f := newFixture(t, reduce.Config{Reducer: c.r})
			var all []elem
			for g := range uint32(3) {
				all = append(all, groupOf(100+g, c.vals...)...)
			}
			f.send(t, shuffled(7, all)...)
			recs := f.out.Wait(t, 3)
			seen := map[uint32]bool{}
			for _, r := range recs {
				g, n := uint32(r.Task.Meta0>>32), int(uint32(r.Task.Meta0))
				if g < 100 || g > 102 || seen[g] || n != len(c.vals) || r.Task.Meta1 != c.want {
					t.Fatalf("result group %d count %d value %d, want count %d value %d", g, n, r.Task.Meta1, len(c.vals), c.want)
				}
				seen[g] = true
			}
		})
	}
}

// [U2] Determinism: a float sum whose value depends on the order of the
// additions gives the bits of the sequential index-order sum, whatever the
// arrival order, run after run.
func TestU2_ReduceFloatSumDeterministic(t *testing.T) {
	const n = 500
	rng := rand.New(rand.NewPCG(11, 12))
	vals := make([]uint64, n)
	var ref float64
	for i := range vals {
		v := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(14)))
		vals[i], ref = sdk.F(v), ref+v
	}
	f := newFixture(t, reduce.Config{Reducer: sdk.Reducer{Op: sdk.OpSum, Kind: sdk.KindFloat}})
	for run := range uint64(3) {
		f.send(t, shuffled(run, groupOf(uint32(run), vals...))...)
	}
	for i, r := range f.out.Wait(t, 3) {
		if r.Task.Meta1 != sdk.F(ref) {
			t.Fatalf("run %d: sum %v, index-order sum %v", i, math.Float64frombits(r.Task.Meta1), ref)
		}
	}
}

// [U2] concat: the elements' bytes joined in index order (an element may be
// empty), the total length in meta1; every element's payload is released.
func TestU2_ReduceConcat(t *testing.T) {
	f := newFixture(t, reduce.Config{Reducer: sdk.Reducer{Op: sdk.OpConcat}})
	es := []elem{{group: 1, index: 0, b: "alpha "}, {group: 1, index: 1}, {group: 1, index: 2, b: "beta "},
		{group: 1, index: 3, last: true, b: "gamma"}}
	f.send(t, shuffled(3, es)...)
	f.send(t, elem{group: 2, index: 0, last: true}) // a group of one empty element
	recs := f.out.Wait(t, 2)
	if string(recs[0].Payload) != "alpha beta gamma" || recs[0].Task.Meta1 != 16 || uint32(recs[0].Task.Meta0) != 4 {
		t.Fatalf("concat %q (meta %x/%d)", recs[0].Payload, recs[0].Task.Meta0, recs[0].Task.Meta1)
	}
	if recs[1].Task.Meta1 != 0 || recs[1].Task.PayloadLen != 0 {
		t.Fatalf("empty group: %+v", recs[1].Task)
	}
	f.send(t, elem{group: 3, index: 0, b: "kept"}) // still open at halt: Fini releases it
	modtest.WaitFor(t, "the open element", func() bool { return f.k.Stats().InFlight() == 0 })
}

// [U2] Rejected elements fail with their codes and leave the group as it
// was; a group id is free again once its result is out.
func TestU2_ReduceErrors(t *testing.T) {
	f := newFixture(t, reduce.Config{MaxGroups: 2, MaxElems: 8})
	f.send(t,
		elem{group: 1, index: 8},                   // index >= MaxElems
		elem{group: 1, index: 2, v: 1},             //
		elem{group: 1, index: 2, v: 1},             // duplicate
		elem{group: 1, index: 1, last: true},       // last below an index seen
		elem{group: 2, index: 0, v: 5},             //
		elem{group: 3, index: 0},                   // a third group: full
		elem{group: 2, index: 1, last: true},       // group 2 = 5
		elem{group: 1, index: 3, last: true},       // group 1 last = 3
		elem{group: 1, index: 4},                   // above the last
		elem{group: 1, index: 0, v: 10},            //
		elem{group: 1, index: 1, v: 100},           // group 1 = 111
		elem{group: 2, index: 0, last: true, v: 9}) // group 2 again: = 9
	recs := f.out.Wait(t, 3)
	e := f.errs.Wait(t, 5)
	want := []kernel.Status{sdk.CodeBadRequest, sdk.CodeDuplicate, sdk.CodeMismatch, sdk.CodeFull, sdk.CodeMismatch}
	for i, w := range want {
		if e[i].Code != w {
			t.Fatalf("error %d: %v, want %v", i, e[i].Code, w)
		}
	}
	got := []string{}
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%d:%d=%d", r.Task.Meta0>>32, uint32(r.Task.Meta0), r.Task.Meta1))
	}
	if fmt.Sprint(got) != "[2:2=5 1:4=111 2:1=9]" {
		t.Fatalf("results %v", got)
	}
}

// [U2] Results through a 2-slot reduce.out: every group's result arrives
// exactly once, none is lost or doubled when the output is full.
func TestU2_ReduceBackpressure(t *testing.T) {
	const groups = 300
	f := newFixture(t, reduce.Config{Slots: 2})
	for g := range uint32(groups) {
		f.send(t, groupOf(g, uint64(g), 1)...)
	}
	recs := f.out.Wait(t, groups)
	r := modtest.Halt(t, f.k)
	seen := map[uint64]bool{}
	for _, rec := range recs {
		g := rec.Task.Meta0 >> 32
		if seen[g] || rec.Task.Meta1 != g+1 {
			t.Fatalf("group %d: result %d (seen before: %v)", g, rec.Task.Meta1, seen[g])
		}
		seen[g] = true
	}
	if len(seen) != groups || r.Stats.Errored != 0 {
		t.Fatalf("%d results, %d errors", len(seen), r.Stats.Errored)
	}
}
