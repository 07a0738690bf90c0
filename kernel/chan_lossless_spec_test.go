package kernel

// Spec tests of lossless fan-out and its replay buffer (GMK.md [C7],
// acceptance item 13).

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/task"
)

// TestC7_LosslessFanOutOneMillion proves acceptance item 13 (first part),
// [C7]: 1M messages on a lossless fan-out channel with 3 subscribers; every
// subscriber sees Seq 1..1M in sequence with the matching message, none
// dropped. (-short: 100k.)
func TestC7_LosslessFanOutOneMillion(t *testing.T) {
	const typ = 11
	n := spMillion()
	var orders [3]spOrder
	var mods []Module
	for i := range orders {
		o := &orders[i]
		mods = append(mods, spCons(fmt.Sprintf("sub%d", i),
			ChanDecl{Name: "spec.lfan", Type: typ, Mode: FanOut, Guarantee: Lossless, Slots: 1 << 13},
			func(c *Ctx) Status { o.see(c.Task()); return OK }))
	}
	k := spBoot(t, spCfg(), mods...)
	id := spChan(t, k, "spec.lfan")
	start := time.Now()
	for i := range n {
		spEmit(t, k, id, Task{Type: typ, Meta0: uint64(i)})
	}
	r := haltOK(t, k)
	t.Logf("%d messages x 3 subscribers in %v", n, time.Since(start))
	checkIdentity(t, r)
	for i := range orders {
		orders[i].check(t, fmt.Sprintf("sub%d", i), n)
	}
	if cs, _ := k.ChanStats(id); cs.Emits != n || cs.Drops != 0 || r.Stats.Completed != 3*n {
		t.Errorf("chan %+v, stats %v", cs, r.Stats)
	}
}

// spReplaySeqs lists the sequences c's replay buffer returns after `after`.
func spReplaySeqs(c *channel.Channel, after uint32) []uint32 {
	var s []uint32
	c.Replay(after, func(x *task.Task) { s = append(s, x.Seq) })
	return s
}

// TestC7_ReplayEvictionAndDegrade proves acceptance item 13 "replay eviction
// correct" ([C7]) with Replay=4 and two subscribers A and B that run one
// delivery per token: the buffer keeps exactly the messages some subscriber
// has not acknowledged; when B falls more than 4 behind it is degraded
// (ChanStats.ReplayOvfs counts it, the emit still succeeds and A still gets
// every message), and once B catches up it is restored. Neither loses a
// message, since its queue never fills.
func TestC7_ReplayEvictionAndDegrade(t *testing.T) {
	const typ, replay = 12, 4
	gates := [2]*spGate{newSpGate(), newSpGate()}
	defer gates[0].open()
	defer gates[1].open()
	var orders [2]spOrder
	var mods []Module
	for i, name := range []string{"a", "b"} {
		d := ChanDecl{Name: "spec.replay", Type: typ, Mode: FanOut, Guarantee: Lossless, Slots: 64, Replay: replay, Pin: true, Worker: i}
		mods = append(mods, spCons(name, d, func(c *Ctx) Status { gates[i].wait(); orders[i].see(c.Task()); return OK }))
	}
	k := spBoot(t, spCfg(), mods...)
	id := spChan(t, k, "spec.replay")
	ch := k.chans.Get(id)
	a, b := ch.Sub(0), ch.Sub(1)
	seq := uint64(0)
	emit := func(m int) {
		for range m {
			spEmit(t, k, id, Task{Type: typ, Meta0: seq})
			seq++
		}
	}
	acked := func(wa, wb uint32) {
		t.Helper()
		spWait(t, fmt.Sprintf("acks a=%d b=%d", wa, wb), func() bool { return a.Acked() == wa && b.Acked() == wb })
	}
	expect := func(step string, want []uint32, ovfs uint64, bDegraded bool) {
		t.Helper()
		cs, _ := k.ChanStats(id)
		got := spReplaySeqs(ch, 0)
		if !slices.Equal(got, want) || ch.ReplayLen() != len(want) || cs.ReplayOvfs != ovfs || b.Degraded() != bDegraded || a.Degraded() {
			t.Fatalf("%s: replay %v (len %d), want %v; ReplayOvfs %d want %d; degraded a=%v b=%v want b=%v",
				step, got, ch.ReplayLen(), want, cs.ReplayOvfs, ovfs, a.Degraded(), b.Degraded(), bDegraded)
		}
	}
	emit(3)
	expect("nothing acked", []uint32{1, 2, 3}, 0, false)
	gates[0].give(3)
	gates[1].give(1)
	acked(3, 1)
	emit(1) // evicts 1, acked by both
	expect("a acked 3, b acked 1", []uint32{2, 3, 4}, 0, false)
	if got := spReplaySeqs(ch, 2); !slices.Equal(got, []uint32{3, 4}) {
		t.Fatalf("Replay(after 2) = %v", got)
	}
	gates[0].give(1)
	gates[1].give(2)
	acked(4, 3)
	emit(1)
	expect("a acked 4, b acked 3", []uint32{4, 5}, 0, false)
	gates[0].open() // a runs freely, b stays at 3
	emit(2)
	acked(7, 3)
	expect("b 4 behind", []uint32{4, 5, 6, 7}, 0, false)
	emit(1) // b is 5 behind: degraded, the buffer keeps what a has not acked
	expect("b degraded", []uint32{8}, 1, true)
	gates[1].open()
	acked(8, 8)
	emit(1) // b caught up: restored
	expect("b restored", []uint32{9}, 1, false)
	r := haltOK(t, k)
	checkIdentity(t, r)
	orders[0].check(t, "a", seq)
	orders[1].check(t, "b", seq)
}
