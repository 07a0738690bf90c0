package channel

import "github.com/gmkernel/gmk/kernel/task"

// replayBuf keeps the most recent messages of a lossless channel ([C7]). It is
// owned by the holder of the channel's emitMu.
type replayBuf struct {
	buf   []task.Task // circular, len = capacity
	first int         // index of the oldest entry
	n     int
}

func (r *replayBuf) oldest() *task.Task { return &r.buf[r.first] }

func (r *replayBuf) popOldest() {
	r.first = (r.first + 1) % len(r.buf)
	r.n--
}

func (r *replayBuf) push(t *task.Task) {
	r.buf[(r.first+r.n)%len(r.buf)] = *t
	r.n++
}

// recordReplay appends message seq, first evicting every entry that all
// non-degraded subscribers acknowledged. When the buffer is still full, the
// slowest subscriber has fallen further behind than the buffer: it is degraded
// to lossy (CHAN_REPLAY_OVERFLOW) and the oldest entry is evicted. A degraded
// subscriber that caught up to within the buffer is restored. Called under emitMu.
func (c *Channel) recordReplay(e *Emitter, t *task.Task, seq uint32, subs []*Sub) {
	r := c.replay
	capy := uint32(len(r.buf))
	for _, s := range subs {
		if s.degraded.Load() && seq-s.acked.Load() <= capy {
			s.degraded.Store(false)
		}
	}
	c.evictAcked(subs)
	if r.n == len(r.buf) {
		if slow := slowest(subs); slow != nil {
			slow.degraded.Store(true)
			e.count(c.id, StatReplayOvf)
		}
		c.evictAcked(subs)
		if r.n == len(r.buf) {
			r.popOldest()
		}
	}
	d := *t
	d.Seq = seq
	r.push(&d)
}

// evictAcked drops entries at or below every non-degraded subscriber's ack.
func (c *Channel) evictAcked(subs []*Sub) {
	r := c.replay
	min, any := uint32(0), false
	for _, s := range subs {
		if s.degraded.Load() {
			continue
		}
		if a := s.acked.Load(); !any || int32(a-min) < 0 {
			min, any = a, true
		}
	}
	if !any {
		min = c.lseq - 1 // everyone degraded: keep only what is being recorded
	}
	for r.n > 0 && int32(r.oldest().Seq-min) <= 0 {
		r.popOldest()
	}
}

func slowest(subs []*Sub) *Sub {
	var slow *Sub
	for _, s := range subs {
		if s.degraded.Load() {
			continue
		}
		if slow == nil || int32(s.acked.Load()-slow.acked.Load()) < 0 {
			slow = s
		}
	}
	return slow
}

// Replay calls fn, oldest first, for each retained message with a sequence
// after `after` ([C7]); used to re-deliver to a subscriber that reconnects.
// Payload handles in replayed headers may be stale (the generation check
// reports it). Returns the number replayed.
func (c *Channel) Replay(after uint32, fn func(t *task.Task)) int {
	if c.replay == nil {
		return 0
	}
	c.emitMu.lock()
	defer c.emitMu.unlock()
	r, n := c.replay, 0
	for i := 0; i < r.n; i++ {
		t := &r.buf[(r.first+i)%len(r.buf)]
		if int32(t.Seq-after) > 0 {
			fn(t)
			n++
		}
	}
	return n
}

// ReplayLen returns the number of retained messages.
func (c *Channel) ReplayLen() int {
	if c.replay == nil {
		return 0
	}
	c.emitMu.lock()
	defer c.emitMu.unlock()
	return c.replay.n
}
