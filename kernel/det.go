package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/task"
)

// The deterministic lane ([D1], [D2]). Tasks of the types declared
// Deterministic (TypeInfo) do not go through the ready queues: they wait in
// the lane and run on worker 0, one at a time, a logical tick at a time, in
// the canonical order (priority, type, seq) — whatever the number of
// workers, while the other work of every worker runs as usual beside it.
//
// What a deterministic handler emits during tick T runs at T+1: direct
// emits (Ctx.Emit) in emit order, then the tasks that reached the lane from
// elsewhere (Submit, ChanEmit from outside or from other handlers) in
// arrival order, then the deterministic channels' buffered emits, drained
// channel by channel in ascending channel id order, each emit delivered to
// the channel's subscribers in subscriber order; sequence numbers are given
// in that order, then the tick is sorted by (priority, type, seq). The tick
// advances as soon as tick T ran out and something is waiting for T+1; at
// each advance the subscribers of sys.tick get a task whose Meta0 is the new
// tick. A deterministic RETRY or YIELD runs again at the next tick; other
// failures go to sys.error without a supervisor (whose timing is not
// deterministic). Every task the lane runs updates the trace hash
// (TraceHash) with its tick, type, seq, status and arguments (Meta0, Meta1,
// the payload's bytes) — never with wall time, a worker id or a payload
// handle.
//
// Two kernels whose lanes exchange tasks over bridge channels tie their
// lanes with a tick fence (fence.go): their ticks then run in lockstep, and
// the T → T+1 rule holds across the two.
//
// Inputs from outside the lane are deterministic when they are: a tick's
// inputs submitted together with SubmitBatch (a run of deterministic tasks
// reaches one tick), or
// tasks emitted by deterministic handlers. Inputs racing a running lane
// land in whichever tick comes next.

// SysTick is the name of the tick channel (fan-out, lossless, untyped: a
// subscriber's declaration names its handler type). In a kernel with
// deterministic types, every tick advance delivers a task with Meta0 = tick.
const SysTick = "sys.tick"

// ErrNotDeterministic reports a task flagged DETERMINISTIC whose type was not
// declared deterministic, or a non-deterministic handler subscribed to a
// deterministic channel.
var ErrNotDeterministic = errors.New("gmk: not deterministic")

type detIn struct {
	t  Task
	ch ChanID // 0: a direct task
}

type detLane struct {
	mu                sync.Mutex
	inbox             []detIn      // from outside the runner, arrival order
	spare             []detIn      // the other inbox buffer (runner-owned)
	nIn               atomic.Int64 // len(inbox)
	count             atomic.Int64 // tasks in the lane (pending and Halt's accounting); the runner's changes arrive a batch at a time (delta)
	hash              atomic.Uint64
	ticks             atomic.Uint64
	runs              atomic.Uint64 // tasks run
	tickNS, maxTickNS atomic.Int64
	busyNS            atomic.Int64               // worker 0's time in the lane: its tasks and its tick boundaries
	boundaryNS        atomic.Int64               // of which at tick boundaries (runDet)
	fence             atomic.Pointer[fenceState] // SetFence; nil: not fenced (fence.go)

	// Owned by worker 0 (the runner).
	delta     int64  // the runner's changes to count not yet published (publish)
	ran       uint64 // tasks run since the last publish
	tick      uint64
	seq       uint32
	cur       []Task // the tick's tasks, canonical order
	pos       int
	next      []Task   // direct emits of deterministic handlers, for the next tick
	bufs      [][]Task // by channel id: deterministic channel emits of this tick
	dirty     []ChanID
	h         uint64
	tickStart int64
	tickTask  [1]Task
}

// DetStats describes the deterministic lane.
type DetStats struct {
	Tick      uint64 // the current logical tick
	Ran       uint64 // deterministic tasks run
	TickNS    int64  // wall time of the last finished tick
	MaxTickNS int64
	Queued    int64  // waiting in the lane (Ran, Queued and Hash are published after each lane batch)
	Hash      uint64 // the trace hash (TraceHash)
	BusyNS    int64  // worker 0's wall time in the lane (its tasks and tick boundaries): the lane's cost to the other work
	// BoundaryNS is the part of BusyNS spent at tick boundaries, the price
	// of determinism beyond running handlers: taking the inbox, draining
	// the deterministic channels in channel id order, delivering to their
	// subscribers, numbering and sorting the tick; for a fenced lane also
	// its tail and its checks of the peer's marks (FenceWaitNS is wall
	// time, during which worker 0 runs other work).
	BoundaryNS int64
	// Fenced: the lane is tied to a peer's (SetFence). FenceWaits counts
	// the ticks whose start waited for the peer, FenceWaitNS the wall time
	// worker 0 waited.
	Fenced      bool
	FenceWaits  uint64
	FenceWaitNS int64
}

// DetStats returns the lane's counters (zero without deterministic types).
func (k *Kernel) DetStats() DetStats {
	d := k.det
	if d == nil {
		return DetStats{}
	}
	s := DetStats{Tick: d.ticks.Load(), Ran: d.runs.Load(), TickNS: d.tickNS.Load(),
		MaxTickNS: d.maxTickNS.Load(), Queued: d.count.Load(), Hash: d.hash.Load(), BusyNS: d.busyNS.Load(),
		BoundaryNS: d.boundaryNS.Load()}
	if f := d.fence.Load(); f != nil {
		s.Fenced, s.FenceWaits, s.FenceWaitNS = true, f.waits.Load(), f.waitNS.Load()
	}
	return s
}

// TraceHash returns the hash of the deterministic trace so far ([D2]): two
// runs with the same inputs have the same hash after the same work.
func (k *Kernel) TraceHash() uint64 {
	if k.det == nil {
		return fnvOffset
	}
	return k.det.hash.Load()
}

func (k *Kernel) isDet(t *Task) bool {
	return k.det != nil && (t.Flags&task.Deterministic != 0 || k.types[t.Type].info.Deterministic)
}

func (k *Kernel) detChan(c *channel.Channel) bool {
	typ := c.Spec().Type
	return k.det != nil && typ != channel.AnyType && k.types[typ].info.Deterministic
}

// detCheck rejects a DETERMINISTIC flag on a type that is not; it sets the
// flag on tasks of deterministic types.
func (k *Kernel) detCheck(t *Task) error {
	if !k.types[t.Type].info.Deterministic {
		return fmt.Errorf("%w: task type %d flagged DETERMINISTIC", ErrNotDeterministic, t.Type)
	}
	t.Flags |= task.Deterministic
	return nil
}

// detPut takes a deterministic task from outside the runner into the inbox.
func (k *Kernel) detPut(t *Task, ch ChanID, submitted bool) error {
	if err := k.detCheck(t); err != nil {
		return err
	}
	d := k.det
	f := d.fence.Load()
	if f != nil && f.fencedOut(ch) {
		return fenceErr(k.chans.Get(ch))
	}
	t.Flags &^= task.ChannelMsg
	t.Channel, t.YieldCount, t.Aux = 0, 0, 0
	d.mu.Lock()
	d.inbox = append(d.inbox, detIn{t: *t, ch: ch})
	d.nIn.Store(int64(len(d.inbox)))
	d.mu.Unlock()
	d.count.Add(1)
	if submitted {
		k.stats.AddShared(k.layout.sub+int(t.Tenant), 1)
	} else if ch == 0 {
		k.stats.AddShared(cEmitted, 1)
	}
	if f != nil {
		f.wake.Add(1)
	}
	k.core.Idle.Wake(0)
	return nil
}

// submitRuns is SubmitBatch in a kernel with a deterministic lane: each run
// of consecutive deterministic tasks reaches the lane's inbox at once (one
// tick), each run of plain tasks the ready queues; it stops at the first
// refusal, so what it admits is a prefix.
func (k *Kernel) submitRuns(ts []Task) (int, error) {
	done := 0
	for done < len(ts) {
		rest := ts[done:]
		det := k.isDet(&rest[0])
		n := 1
		for n < len(rest) && k.isDet(&rest[n]) == det {
			n++
		}
		if !det {
			m := k.core.SubmitBatch(rest[:n])
			if done += m; m < n {
				return done, errReadyFull
			}
			continue
		}
		m, err := k.detPutBatch(rest[:n])
		if done += m; err != nil {
			return done, err
		}
	}
	return done, nil
}

// detPutBatch puts deterministic tasks into the lane's inbox together: they
// reach the same tick. A DETERMINISTIC flag on a plain type refuses the
// whole run.
func (k *Kernel) detPutBatch(ts []Task) (int, error) {
	for i := range ts {
		if err := k.detCheck(&ts[i]); err != nil {
			return 0, err
		}
	}
	n := len(ts)
	d := k.det
	d.mu.Lock()
	for i := range ts[:n] {
		t := &ts[i]
		t.Flags &^= task.ChannelMsg
		t.Channel, t.YieldCount, t.Aux = 0, 0, 0
		d.inbox = append(d.inbox, detIn{t: *t})
		k.stats.AddShared(k.layout.sub+int(t.Tenant), 1)
	}
	d.nIn.Store(int64(len(d.inbox)))
	d.count.Add(int64(n))
	d.mu.Unlock()
	if f := d.fence.Load(); f != nil {
		f.wake.Add(1)
	}
	k.core.Idle.Wake(0)
	return n, nil
}

// detEmit takes a direct emit of a deterministic handler (the runner).
func (w *worker) detEmit(t *Task) error {
	k := w.k
	if err := k.detCheck(t); err != nil {
		return err
	}
	t.Flags &^= task.ChannelMsg
	t.Channel, t.YieldCount, t.Aux = 0, 0, 0
	k.det.next = append(k.det.next, *t)
	k.det.delta++
	w.l.Shard.Add(cEmitted, 1)
	return nil
}

// detChanEmit buffers an emit on a deterministic channel until the tick
// boundary. A buffer holds at most the channel's slots: then a lossless
// channel answers CHAN_FULL and a lossy one drops the task.
func (k *Kernel) detChanEmit(w *worker, c *channel.Channel, t *Task) error {
	if w == nil || !w.ctx.det {
		return k.detPut(t, c.ID(), false)
	}
	if err := k.detCheck(t); err != nil {
		return err
	}
	if c.Closed() {
		return fmt.Errorf("%w: %s", ErrChanClosed, c.Name())
	}
	d := k.det
	id := c.ID()
	for int(id) >= len(d.bufs) {
		d.bufs = append(d.bufs, nil)
	}
	if len(d.bufs[id]) >= c.Spec().Slots {
		if c.Spec().Guarantee == Lossless {
			return fmt.Errorf("%w: %s", ErrChanFull, c.Name())
		}
		w.drop(t, task.ChanFull)
		return nil
	}
	if len(d.bufs[id]) == 0 {
		d.dirty = append(d.dirty, id)
	}
	t.Flags &^= task.ChannelMsg
	t.Channel, t.YieldCount, t.Aux = 0, 0, 0
	d.bufs[id] = append(d.bufs[id], *t)
	d.delta++
	return nil
}

// FNV-1a (over 64-bit words) of the deterministic fields of a run ([D2]).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvBytes folds p into h eight bytes at a time (FNV-1a over 64-bit words:
// the hash only has to be stable, and a word step is eight times cheaper than
// a byte step).
func fnvBytes(h uint64, p []byte) uint64 {
	for len(p) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(p)) * fnvPrime
		p = p[8:]
	}
	for _, b := range p {
		h = (h ^ uint64(b)) * fnvPrime
	}
	return h
}

func fnvTask(h, tick uint64, t *Task, st Status) uint64 {
	return fnvWords(h, tick, uint64(t.Type), uint64(t.Seq), uint64(int64(st)), t.Meta0, t.Meta1,
		uint64(t.PayloadLen), uint64(t.Flags&^(task.ChannelMsg|task.Snapshotted)))
}

// fnvWords folds vs into h (FNV-1a over 64-bit words).
func fnvWords(h uint64, vs ...uint64) uint64 {
	for _, v := range vs {
		h = (h ^ v) * fnvPrime
	}
	return h
}

// drainDet counts and releases what is still in the lane (Halt; the workers
// have stopped).
func (k *Kernel) drainDet(release func(*Task)) {
	d := k.det
	if d == nil {
		return
	}
	for i := d.pos; i < len(d.cur); i++ {
		release(&d.cur[i])
	}
	for i := range d.next {
		release(&d.next[i])
	}
	for _, b := range d.bufs {
		for i := range b {
			release(&b[i])
		}
	}
	for i := range d.inbox {
		release(&d.inbox[i].t)
	}
	if f := d.fence.Load(); f != nil {
		for _, p := range f.pend {
			for i := range p {
				release(&p[i])
			}
		}
	}
	d.cur, d.pos, d.next, d.bufs, d.dirty, d.inbox = nil, 0, nil, nil, nil, nil
	d.count.Store(0)
	d.delta = 0
}
