package sched

import (
	"slices"
	"sync/atomic"
	"testing"

	"github.com/gmkernel/gmk/kernel/metrics"
	"github.com/gmkernel/gmk/kernel/task"
)

// Counter layout of the core tests' metrics set: per-tenant enqueues at
// coreEnq+tenant, per-tenant admissions from outside at coreSub+tenant.
const (
	coreEnq     = 0
	coreSub     = 4
	coreWorkers = 2
	coreLQCap   = 8 // watermark 6
	coreQCap    = 4 // per priority (RQ) or per bucket
	coreOvfCap  = 4
)

// coreFixture is a two-worker core with a metrics set and a counting clock.
type coreFixture struct {
	c      *Core
	ls     []*Local
	stats  *metrics.Set
	clocks atomic.Int64 // Clock calls
}

func newCoreFixture(p Policy) *coreFixture {
	f := &coreFixture{stats: metrics.NewSet(8, coreWorkers)}
	f.c, f.ls = NewCore(CoreConfig{
		Policy: p, Workers: coreWorkers, QueueCap: coreQCap, LQCap: coreLQCap, OverflowCap: coreOvfCap,
		Types: []uint32{1, 2}, MaxType: 2, Stats: f.stats, EnqBase: coreEnq, SubmitBase: coreSub,
		Clock: func() int64 { return f.clocks.Add(1) },
	})
	return f
}

// enq returns the flushed per-tenant enqueue count.
func (f *coreFixture) enq(tenant int) uint64 {
	for _, l := range f.ls {
		l.Shard.Flush()
	}
	return f.stats.Value(coreEnq + tenant)
}

// coreTask is a task of type 1, priority prio and tenant ten carrying id in Meta0.
func coreTask(prio, ten int, id uint64) task.Task {
	t := mkTask(1, prio, id)
	t.Tenant = uint16(ten)
	return t
}

// pending reports whether worker w has a wake token, taking it.
func pending(i *Idle, w int) bool {
	select {
	case <-i.C(w):
		return true
	default:
		return false
	}
}

// extSeq is the seq of the k-th submit from outside (k from 1): the residue
// class coreWorkers modulo coreWorkers+1 (see NewCore).
func extSeq(k int) uint32 { return uint32(k*(coreWorkers+1) + coreWorkers) }

// [S1] Submit assigns increasing seqs in the submitters' residue class, pushes
// to the shared queue and counts the admission per tenant; a full queue
// refuses without counting.
func TestS1_SubmitSeqAndTenantCount(t *testing.T) {
	f := newCoreFixture(PolicyRQ)
	for i, ten := range []int{0, 1, 1, 1} {
		tk := coreTask(1, ten, uint64(i))
		if !f.c.Submit(&tk) || tk.Seq != extSeq(i+1) {
			t.Fatalf("Submit %d: seq %d, want %d", i, tk.Seq, extSeq(i+1))
		}
	}
	tk := coreTask(1, 0, 9)
	if f.c.Submit(&tk) {
		t.Error("Submit into a full priority ring = true")
	}
	if f.c.SharedLen() != 4 || f.stats.Value(coreSub) != 1 || f.stats.Value(coreSub+1) != 3 {
		t.Errorf("SharedLen %d, admitted %d/%d; want 4, 1/3", f.c.SharedLen(), f.stats.Value(coreSub), f.stats.Value(coreSub+1))
	}
	if f.c.Policy() != PolicyRQ || PolicyRQ.String() != "rq" || PolicyGRQ.String() != "grq" {
		t.Error("Policy names")
	}
}

// [S1] SubmitBatch numbers the whole batch, admits the prefix that fits and
// counts it per tenant run; a later Submit continues the numbering.
func TestS1_SubmitBatchPrefix(t *testing.T) {
	f := newCoreFixture(PolicyRQ)
	ts := make([]task.Task, 6)
	for i, ten := range []int{0, 0, 1, 1, 1, 0} {
		ts[i] = coreTask(2, ten, uint64(i))
	}
	if n := f.c.SubmitBatch(ts); n != coreQCap {
		t.Fatalf("SubmitBatch = %d, want %d (the ring's capacity)", n, coreQCap)
	}
	if got, want := []uint32{ts[0].Seq, ts[3].Seq, ts[5].Seq}, []uint32{extSeq(1), extSeq(4), extSeq(6)}; !slices.Equal(got, want) {
		t.Errorf("batch seqs %v, want %v", got, want)
	}
	if f.stats.Value(coreSub) != 2 || f.stats.Value(coreSub+1) != 2 {
		t.Errorf("admitted %d/%d, want 2/2 (the admitted prefix only)", f.stats.Value(coreSub), f.stats.Value(coreSub+1))
	}
	tk := coreTask(0, 0, 7)
	if !f.c.Submit(&tk) || tk.Seq != extSeq(7) {
		t.Errorf("Submit after the batch: seq %d, want %d", tk.Seq, extSeq(7))
	}
	if f.c.SubmitBatch(ts[4:]) != 0 {
		t.Error("SubmitBatch into a full ring admitted tasks")
	}
}

// [S6] Submitting work wakes a parked worker (and only a parked one); a batch
// that admits nothing wakes nobody.
func TestS6_SubmitWakesParkedWorker(t *testing.T) {
	f := newCoreFixture(PolicyRQ)
	idle := f.c.Idle
	idle.Mark(1)
	tk := coreTask(0, 0, 1)
	f.c.Submit(&tk)
	if !pending(idle, 1) || pending(idle, 0) {
		t.Error("Submit did not wake exactly the parked worker 1")
	}
	full := make([]task.Task, coreQCap)
	f.c.SubmitBatch(full[:coreQCap-1]) // priority 0 ring now full
	pending(idle, 1)
	if f.c.SubmitBatch(full[:1]) != 0 || pending(idle, 1) {
		t.Error("an empty admission woke a worker")
	}
}

// [S1] [S4] Emit keeps follow-on work in the worker's LQ below the watermark
// and spills to the shared queue above it (waking a parked worker); worker
// seqs are interleaved so two workers never share one; false when both are
// full. Enqueues count per tenant on the worker's shard.
func TestS4_EmitWatermarkSpill(t *testing.T) {
	f := newCoreFixture(PolicyRQ)
	l0, l1 := f.ls[0], f.ls[1]
	water := l0.LQ.Water()
	var seqs []uint32
	for i := range water {
		tk := coreTask(1, 2, uint64(i))
		if !f.c.Emit(l0, &tk) {
			t.Fatalf("Emit %d = false", i)
		}
		seqs = append(seqs, tk.Seq)
	}
	if l0.LQ.Len() != water || f.c.SharedLen() != 0 {
		t.Fatalf("below the watermark: LQ %d, shared %d", l0.LQ.Len(), f.c.SharedLen())
	}
	f.c.Idle.Mark(1)
	for i := range coreQCap {
		tk := coreTask(1, 2, uint64(water+i))
		if !f.c.Emit(l0, &tk) {
			t.Fatalf("spilling Emit %d = false", i)
		}
	}
	if woken := pending(f.c.Idle, 1); l0.LQ.Len() != water || f.c.SharedLen() != coreQCap || !woken {
		t.Errorf("above the watermark: LQ %d, shared %d, parked worker woken %v", l0.LQ.Len(), f.c.SharedLen(), woken)
	}
	tk := coreTask(1, 2, 99)
	if f.c.Emit(l0, &tk) {
		t.Error("Emit with LQ and shared queue full = true")
	}
	stride := uint32(coreWorkers + 1) // the workers' classes plus one for submits
	if want := []uint32{stride, 2 * stride, 3 * stride}; !slices.Equal(seqs[:3], want) {
		t.Errorf("worker 0 seqs %v, want %v…", seqs[:3], want)
	}
	other := coreTask(1, 2, 100)
	f.c.Emit(l1, &other)
	if other.Seq%stride != 1 {
		t.Errorf("worker 1 seq %d is not in its residue class", other.Seq)
	}
	if f.enq(2) != uint64(water+coreQCap+1) {
		t.Errorf("tenant 2 enqueues %d, want %d", f.enq(2), water+coreQCap+1)
	}
}

// [S1] [T1] seq is "a monotonic sequence assigned by the enqueue core":
// worker seqs and submit seqs live in different residue classes, so a
// submitted task and a follow-on emit never share one (the canonical
// (tick, priority, type, seq) order of [D1] has no ties).
func TestS1_SeqUniqueAcrossSubmitAndEmit(t *testing.T) {
	f := newCoreFixture(PolicyRQ)
	seen := map[uint32]string{}
	for i := range 3 {
		tk := coreTask(0, 0, uint64(i))
		f.c.Submit(&tk)
		seen[tk.Seq] = "Submit"
	}
	for w, l := range f.ls {
		for i := range 2 {
			tk := coreTask(1, 0, uint64(i))
			f.c.Emit(l, &tk)
			if by, dup := seen[tk.Seq]; dup {
				t.Errorf("worker %d's Emit got seq %d, already given by %s", w, tk.Seq, by)
			}
			seen[tk.Seq] = "Emit"
		}
	}
}

// [S1] Requeue (retry, EVQ fire) keeps the task's seq.
func TestS1_RequeueKeepsSeq(t *testing.T) {
	f := newCoreFixture(PolicyRQ)
	l := f.ls[0]
	tk := coreTask(0, 1, 5)
	tk.Seq = 12345
	if !f.c.Requeue(l, &tk) {
		t.Fatal("Requeue = false")
	}
	var out [1]task.Task
	if l.LQ.PopBatch(out[:]) != 1 || out[0].Seq != 12345 || f.enq(1) != 1 {
		t.Errorf("requeued %+v, enq %d", out[0], f.enq(1))
	}
}

// [Y2] A yield uses the LQ reserve past the watermark, then the shared
// yield-overflow queue, then reports false; every accepted yield counts.
func TestY2_YieldReserveThenOverflow(t *testing.T) {
	f := newCoreFixture(PolicyRQ)
	l := f.ls[0]
	for i := range l.LQ.Water() {
		tk := coreTask(1, 0, uint64(i))
		f.c.Emit(l, &tk)
	}
	accepted := 0
	for i := range 20 {
		tk := coreTask(1, 0, uint64(100+i))
		if !f.c.Yield(l, &tk) {
			break
		}
		accepted++
	}
	reserve := l.LQ.Cap() - l.LQ.Water()
	if accepted != reserve+coreOvfCap || l.LQ.Len() != l.LQ.Cap() || f.c.SharedLen() != coreOvfCap {
		t.Errorf("accepted %d yields (LQ %d/%d, overflow %d), want %d", accepted, l.LQ.Len(), l.LQ.Cap(), f.c.SharedLen(), reserve+coreOvfCap)
	}
	if f.enq(0) != uint64(l.LQ.Water()+accepted) {
		t.Errorf("enqueues %d, want %d", f.enq(0), l.LQ.Water()+accepted)
	}
}

// [Y2] PopShared drains the yield-overflow queue before the ready queue.
func TestY2_PopSharedOverflowFirst(t *testing.T) {
	f := newCoreFixture(PolicyRQ)
	l := f.ls[0]
	for i := range 3 {
		tk := coreTask(0, 0, uint64(i))
		f.c.Submit(&tk)
	}
	for l.LQ.PushReserve(&task.Task{}) {
	}
	for i := range 2 {
		tk := coreTask(3, 0, uint64(100+i))
		if !f.c.Yield(l, &tk) {
			t.Fatal("Yield to the overflow queue = false")
		}
	}
	buf := make([]task.Task, 8)
	n := f.c.PopShared(l, buf)
	if got := idsOf(buf[:n]); !slices.Equal(got, []uint64{100, 101}) {
		t.Errorf("first PopShared = %v, want the overflow tasks 100, 101", got)
	}
	n = f.c.PopShared(l, buf)
	if got := idsOf(buf[:n]); !slices.Equal(got, []uint64{0, 1, 2}) {
		t.Errorf("second PopShared = %v, want the ready tasks 0..2", got)
	}
	if f.c.PopShared(l, buf) != 0 {
		t.Error("PopShared of empty queues returned tasks")
	}
}

// idsOf returns the Meta0 of each task.
func idsOf(ts []task.Task) []uint64 {
	out := make([]uint64, len(ts))
	for i := range ts {
		out[i] = ts[i].Meta0
	}
	return out
}

// [S1] [S4] A drain straight into the LQ: Free offers the slots below the
// watermark as two slices when they wrap, DeliverFree appends what was
// filled, in order, and counts it per tenant; nothing past the watermark is
// offered.
func TestS4_DeliverFreeIntoLQ(t *testing.T) {
	f := newCoreFixture(PolicyRQ)
	l := f.ls[1]
	for i := range 5 { // move head and tail to 5, so that the free space wraps
		x := coreTask(0, 0, uint64(i))
		l.LQ.Push(&x)
	}
	l.LQ.PopBatch(make([]task.Task, 5))
	a, b := l.LQ.Free(100)
	if len(a) != 3 || len(b) != l.LQ.Water()-3 {
		t.Fatalf("free %d+%d, want 3+%d", len(a), len(b), l.LQ.Water()-3)
	}
	ids := []uint64{10, 11, 12, 13, 14}
	for i, id := range ids {
		x := coreTask(0, 3, id)
		if i == 4 {
			x.Tenant = 2
		}
		if i < len(a) {
			a[i] = x
		} else {
			b[i-len(a)] = x
		}
	}
	f.c.DeliverFree(l, len(ids))
	out := make([]task.Task, l.LQ.Cap())
	if n := l.LQ.PopBatch(out); !slices.Equal(idsOf(out[:n]), ids) {
		t.Errorf("LQ holds %v, want %v", idsOf(out[:n]), ids)
	}
	if f.enq(3) != 4 || f.enq(2) != 1 {
		t.Errorf("enqueues %d (tenant 3) and %d (tenant 2), want 4 and 1", f.enq(3), f.enq(2))
	}
}

// [S1] DrainShared empties the overflow and the ready queue, under both
// policies.
func TestS1_DrainShared(t *testing.T) {
	for _, p := range []Policy{PolicyRQ, PolicyGRQ} {
		f := newCoreFixture(p)
		l := f.ls[0]
		for i := range 3 {
			tk := coreTask(i, 0, uint64(i))
			f.c.Submit(&tk)
		}
		for l.LQ.PushReserve(&task.Task{}) {
		}
		tk := coreTask(0, 0, 50)
		f.c.Yield(l, &tk)
		var got []uint64
		f.c.DrainShared(func(t *task.Task) { got = append(got, t.Meta0) })
		slices.Sort(got)
		if !slices.Equal(got, []uint64{0, 1, 2, 50}) || f.c.SharedLen() != 0 {
			t.Errorf("%v: drained %v (left %d), want 0, 1, 2, 50", p, got, f.c.SharedLen())
		}
	}
}

// [S3] The clock is read only by the GRQ policy (bucket ages): the RQ policy
// never calls it, whatever the path.
func TestS3_ClockOnlyForGRQ(t *testing.T) {
	exercise := func(f *coreFixture) {
		l := f.ls[0]
		tk := coreTask(0, 0, 1)
		f.c.Submit(&tk)
		f.c.SubmitBatch([]task.Task{coreTask(1, 0, 2), coreTask(1, 0, 3)})
		for range coreLQCap {
			tk := coreTask(2, 0, 4)
			f.c.Emit(l, &tk) // spills to the shared queue
		}
		f.c.Yield(l, &tk)
		if a, _ := f.ls[1].LQ.Free(1); len(a) == 1 {
			a[0] = coreTask(0, 0, 5)
			f.c.DeliverFree(f.ls[1], 1)
		}
		buf := make([]task.Task, 8)
		for f.c.PopShared(l, buf) > 0 {
		}
		f.c.DrainShared(func(*task.Task) {})
	}
	rq := newCoreFixture(PolicyRQ)
	exercise(rq)
	if rq.clocks.Load() != 0 {
		t.Errorf("the RQ policy read the clock %d times", rq.clocks.Load())
	}
	grq := newCoreFixture(PolicyGRQ)
	exercise(grq)
	if grq.clocks.Load() == 0 {
		t.Error("the GRQ policy never read the clock")
	}
	if grq.c.Policy() != PolicyGRQ {
		t.Error("Policy() is not GRQ")
	}
}

// [C4] [S1] Handoff fills the one-task slot only while a dispatch allows it
// (StartHandoffs) and the slot is free, counts the enqueue, and returns the
// slot's copy; HandoffPending reports it until TakeHandoff returns it, and the slots alternate so the
// running handoff stays valid while its handler hands off the next one.
// After the allowed number of hops, or outside a dispatch, Handoff refuses.
func TestC4_HandoffSlot(t *testing.T) {
	f := newCoreFixture(PolicyRQ)
	l := f.ls[0]
	a, b, c := coreTask(0, 1, 1), coreTask(0, 1, 2), coreTask(0, 1, 3)
	if f.c.Handoff(l, &a) != nil {
		t.Fatal("handoff outside a dispatch")
	}
	l.StartHandoffs(2)
	if d := f.c.Handoff(l, &a); d == nil || d.Meta0 != 1 || !l.HandoffPending() {
		t.Fatalf("first handoff: %v (pending %v)", d, l.HandoffPending())
	}
	if f.c.Handoff(l, &b) != nil {
		t.Fatal("second handoff into a full slot")
	}
	run := l.TakeHandoff()
	if run == nil || run.Meta0 != 1 || l.HandoffPending() || l.TakeHandoff() != nil {
		t.Fatalf("take: %v (pending %v)", run, l.HandoffPending())
	}
	if f.c.Handoff(l, &b) == nil || run.Meta0 != 1 {
		t.Fatalf("the handoff made while running %v overwrote it", run)
	}
	if next := l.TakeHandoff(); next == nil || next.Meta0 != 2 {
		t.Fatalf("take: %v", next)
	}
	if f.c.Handoff(l, &c) != nil {
		t.Fatal("a third handoff with two hops allowed")
	}
	l.StartHandoffs(0)
	if f.enq(1) != 2 || l.LQ.Len() != 0 {
		t.Errorf("enqueues %d, LQ %d; want 2 and 0", f.enq(1), l.LQ.Len())
	}
}
