package kernel

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/channel"
)

// Tick fences ([D1] across kernels). Two kernels whose deterministic lanes
// exchange tasks over bridge channels run their ticks in lockstep: a kernel
// does not start tick T+1 until its peer finished tick T and everything the
// peer emitted for it during T has arrived. What one kernel emits at tick T
// runs on the other at T+1, as within one kernel.
//
// The protocol, for each kernel of the pair:
//
//   - When the lane's tick T ran out, it runs the deliveries of what its
//     handlers emitted during T on the fenced out channels (Fence.Out) at
//     once, in emit order, as the tail of tick T: their only subscriber is
//     the bridge's relay, which hands them to the peer. Then it marks T
//     finished: Fence.Mark(T, T), and its bridge end tells the peer how many
//     tasks it has sent on each out channel so far (Kernel.PeerMark).
//   - It starts tick T+1 when it has work for it (its own, or the peer's:
//     arrivals, or the peer already in T+1) and the peer's mark for T is in
//     and the arrivals it announces are here. Of each fenced in channel it
//     takes exactly the tasks the mark counts — later arrivals wait for
//     their tick. Then it marks T+1 started: Fence.Mark(T, T+1), so an idle
//     peer follows.
//
// Every kernel of the pair thus runs every tick, and the ticks' contents do
// not depend on when the bridge delivers, on the workers or on the
// machine: only on the inputs. The time worker 0 spends waiting for its peer
// is the fence's cost (DetStats.FenceWaitNS).

// Fence ties the deterministic lane to a peer kernel's (SetFence).
type Fence struct {
	// Out are the deterministic channels this kernel produces for the
	// peer; each has one subscriber, the bridge's relay.
	Out []ChanID
	// In are the deterministic channels the peer produces for this kernel,
	// in the order of the peer's Out.
	In []ChanID
	// Mark is called on worker 0 when the lane finished tick done (tick ==
	// done) and when it started tick done+1 (tick == done+1). It must not
	// block; it reports the mark and this kernel's send counts to the peer.
	Mark func(done, tick uint64)
}

// fenceState is the lane's side of a Fence. marks, peerTick and off are
// guarded by detLane.mu; the rest belongs to the runner (worker 0).
type fenceState struct {
	Fence
	out, in []int32 // by channel id: index+1 in Out, In (0: not fenced)

	marks    []peerMark // the peer's finished ticks not yet used, oldest first
	peerTick uint64
	off      bool          // Unfence: the runner drops the fence
	wake     atomic.Uint64 // bumped by every arrival and mark: a blocked runner looks again

	pend      [][]Task // by In index: arrivals not yet taken into a tick
	taken     []uint64 // by In index: arrivals taken into ticks
	flushed   bool     // the current tick's tail (Out deliveries) is built
	finished  bool     // the current tick is marked finished
	blocked   bool     // the last advance waited for the peer
	failed    bool     // the last try to build or start a tick found nothing to do (runDet)
	seen      uint64   // wake when it blocked
	blockedAt int64
	waits     atomic.Uint64
	waitNS    atomic.Int64
}

// peerMark is the peer's mark of a finished tick: how many tasks it had sent
// on each of its out channels (this kernel's In) by then.
type peerMark struct {
	done uint64
	want []uint64
}

// SetFence ties the deterministic lane to a peer's (see Fence). It is called
// once, after Boot and before any deterministic work: the lane must still be
// at tick 0 and empty.
func (k *Kernel) SetFence(f Fence) error {
	d := k.det
	if d == nil {
		return fmt.Errorf("%w: kernel %s has no deterministic types to fence", ErrNotDeterministic, k.cfg.ID)
	}
	fs := &fenceState{Fence: f, finished: true, flushed: true,
		pend: make([][]Task, len(f.In)), taken: make([]uint64, len(f.In))}
	fs.marks = []peerMark{{want: make([]uint64, len(f.In))}} // tick 0: nothing sent
	var err error
	if fs.out, err = k.fenceIndex(f.Out, true); err != nil {
		return err
	}
	if fs.in, err = k.fenceIndex(f.In, false); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fence.Load() != nil || d.ticks.Load() != 0 || d.count.Load() != 0 {
		return fmt.Errorf("%w: kernel %s: a fence is set once, before deterministic work", ErrConfig, k.cfg.ID)
	}
	d.fence.Store(fs)
	return nil
}

// fenceIndex checks fenced channels and indexes them by channel id.
func (k *Kernel) fenceIndex(ids []ChanID, out bool) ([]int32, error) {
	var idx []int32
	for i, id := range ids {
		c := k.chans.Get(id)
		switch {
		case c == nil:
			return nil, fmt.Errorf("%w: fence: channel %d", ErrChanUnknown, id)
		case !k.detChan(c):
			return nil, fmt.Errorf("%w: fence: channel %s does not carry a deterministic type", ErrNotDeterministic, c.Name())
		case out && len(c.Subs()) != 1:
			return nil, fmt.Errorf("%w: fence: channel %s has %d subscribers here: a fenced out channel's only one is the bridge relay",
				ErrConfig, c.Name(), len(c.Subs()))
		}
		if int(id) >= len(idx) {
			idx = append(idx, make([]int32, int(id)+1-len(idx))...)
		}
		if idx[id] != 0 {
			return nil, fmt.Errorf("%w: fence: channel %s named twice", ErrConfig, c.Name())
		}
		idx[id] = int32(i + 1)
	}
	return idx, nil
}

// PeerMark takes the peer's mark: it finished tick done, having sent want[i]
// tasks on this kernel's Fence.In[i] by then, and runs tick `tick`. Safe
// from any goroutine; want is copied.
func (k *Kernel) PeerMark(done, tick uint64, want []uint64) {
	d := k.det
	if d == nil {
		return
	}
	f := d.fence.Load()
	if f == nil {
		return
	}
	d.mu.Lock()
	if n := len(f.marks); tick == done && (n == 0 || f.marks[n-1].done < done) {
		f.marks = append(f.marks, peerMark{done: done, want: slices.Clone(want)})
	}
	f.peerTick = max(f.peerTick, tick)
	d.mu.Unlock()
	f.wake.Add(1)
	k.core.Idle.Wake(0)
}

// Unfence unties the lane from its peer (the peer is gone: reset, halted);
// the lane then runs on its own, and arrivals not yet taken join the next
// tick.
func (k *Kernel) Unfence() {
	d := k.det
	if d == nil || d.fence.Load() == nil {
		return
	}
	d.mu.Lock()
	d.fence.Load().off = true
	d.mu.Unlock()
	d.fence.Load().wake.Add(1)
	k.core.Idle.Wake(0)
}

// fencedOut reports whether channel id is a fenced out channel (only the lane
// emits on it).
func (f *fenceState) fencedOut(id ChanID) bool {
	return int(id) < len(f.out) && f.out[id] != 0
}

// fenceTail builds the tail of the tick that ran out: the deliveries of its
// emits on the fenced out channels, in emit order. False: the tail is built
// and run, and the tick is marked finished.
func (w *worker) fenceTail(f *fenceState) bool {
	d := w.k.det
	if !f.flushed {
		f.flushed = true
		cur := d.cur[:0]
		d.dirty = slices.DeleteFunc(d.dirty, func(id ChanID) bool {
			if !f.fencedOut(id) {
				return false
			}
			cur = w.detDeliver(cur, w.k.chans.Get(id), d.bufs[id])
			d.bufs[id] = d.bufs[id][:0]
			return true
		})
		for i := range cur {
			d.seq++
			cur[i].Seq = d.seq
		}
		if d.cur, d.pos = cur, 0; len(cur) > 0 {
			return true
		}
	}
	if !f.finished {
		f.finished = true
		f.Mark(d.tick, d.tick)
	}
	return false
}

// take keeps an arrival on a fenced in channel in pend (false: x is not
// one); the runner calls it for each task of the inbox it took.
func (f *fenceState) take(x detIn) bool {
	if int(x.ch) >= len(f.in) || f.in[x.ch] == 0 {
		return false
	}
	i := f.in[x.ch] - 1
	f.pend[i] = append(f.pend[i], x.t)
	return true
}

// fenceReady decides whether the lane may start the next tick; work says
// whether it has its own. When it may, the tick's arrivals move from pend to
// the channels' buffers.
func (w *worker) fenceReady(f *fenceState, work bool) bool {
	d := w.k.det
	d.mu.Lock()
	for len(f.marks) > 0 && f.marks[0].done < d.tick {
		f.marks = f.marks[1:]
	}
	var want []uint64
	if len(f.marks) > 0 && f.marks[0].done == d.tick {
		want = f.marks[0].want
	}
	peerTick := f.peerTick
	d.mu.Unlock()
	for i := range f.pend {
		work = work || len(f.pend[i]) > 0
	}
	if !work && peerTick <= d.tick {
		return false // idle, and so is the peer
	}
	if want == nil || !f.arrived(want) {
		if !f.blocked {
			f.blocked, f.blockedAt = true, w.k.clock()
		}
		return false
	}
	if f.blocked {
		f.blocked = false
		f.waits.Add(1)
		f.waitNS.Add(w.k.clock() - f.blockedAt)
	}
	w.fenceCut(f, want)
	return true
}

// arrived reports whether every arrival want counts is here.
func (f *fenceState) arrived(want []uint64) bool {
	for i, n := range want {
		if f.taken[i]+uint64(len(f.pend[i])) < n {
			return false
		}
	}
	return true
}

// fenceCut moves the arrivals the peer's mark counts into the channels'
// buffers, in arrival order (the peer's emit order).
func (w *worker) fenceCut(f *fenceState, want []uint64) {
	d := w.k.det
	for i, n := range want {
		m := int(n - f.taken[i])
		if m == 0 {
			continue
		}
		id := f.In[i]
		if int(id) >= len(d.bufs) {
			d.bufs = append(d.bufs, make([][]Task, int(id)+1-len(d.bufs))...)
		}
		if len(d.bufs[id]) == 0 {
			d.dirty = append(d.dirty, id)
		}
		d.bufs[id] = append(d.bufs[id], f.pend[i][:m]...)
		f.pend[i] = append(f.pend[i][:0], f.pend[i][m:]...)
		f.taken[i] = n
	}
}

// started marks the start of a tick for the peer.
func (f *fenceState) started(tick uint64) {
	f.flushed, f.finished = false, false
	f.Mark(tick-1, tick)
}

// fenceDrop unties the lane (Unfence): what is pending joins the buffers.
func (w *worker) fenceDrop(f *fenceState) {
	d := w.k.det
	for i := range f.pend {
		id := f.In[i]
		if len(f.pend[i]) == 0 {
			continue
		}
		if int(id) >= len(d.bufs) {
			d.bufs = append(d.bufs, make([][]Task, int(id)+1-len(d.bufs))...)
		}
		if len(d.bufs[id]) == 0 {
			d.dirty = append(d.dirty, id)
		}
		d.bufs[id] = append(d.bufs[id], f.pend[i]...)
		f.pend[i] = nil
	}
	d.fence.Store(nil)
}

// work reports whether a fenced lane has something to do: a tick to run or
// finish, or news since its last advance failed.
func (f *fenceState) work(d *detLane) bool {
	return d.pos < len(d.cur) || !f.finished || f.wake.Load() != f.seen
}

// fenceErr refuses an emit from outside the lane on a fenced out channel.
func fenceErr(c *channel.Channel) error {
	return fmt.Errorf("%w: channel %s is fenced to a peer kernel: only deterministic handlers emit on it", ErrNotDeterministic, c.Name())
}
