package cluster

import (
	"github.com/gmkernel/gmk/actors/cluster/clusterpb"
	"github.com/gmkernel/gmk/kernel/task"
)

// Delivery and completion: the pump's side of inbound that talks to the
// kernel (fill), learns what finished (scan) and sleeps until something
// did (arm); done is the consumer workers' side. See inbound for the
// protocol.

// done records that the task with local seq finished (its handler returned
// OK without yielding, or it reached the error handler). Any worker.
func (in *inbound) done(seq uint32) {
	in.slots[seq&in.smask].Store(seq)
	if in.armed.Load() && int32(seq-in.kickAt.Load()) >= 0 && in.armed.CompareAndSwap(true, false) {
		in.signal()
	}
}

func (in *inbound) signal() {
	select {
	case in.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// emitter is what fill needs from the kernel: emit a prefix of ts on the
// delivery channel (kernel.ChanEmitBatch), and copy a payload into the arena.
type emitter interface {
	emit(ts []task.Task) (int, error)
	alloc(t *task.Task, p []byte) error
	release(h uint64)
}

// fillChunk is the most tasks fill hands to one emit.
const fillChunk = 256

// fill emits pending tasks, in order, while the fifo has room. It returns
// true when tasks are left pending (the delivery channel was full, the arena
// had no room, the fifo is full, or err).
func (in *inbound) fill(k emitter, buf []task.Task) (blocked bool, err error) {
	for in.pendAt < len(in.pend) {
		room := len(in.fifo) - int(in.ftail-in.fhead)
		if room == 0 {
			return true, nil
		}
		if p := &in.pend[in.pendAt]; p.reject {
			in.push(0, p)
			in.pendAt++
			in.st.rejected.Add(1)
			continue
		}
		n := 0
		for in.pendAt+n < len(in.pend) && n < min(room, len(buf)) && !in.pend[in.pendAt+n].reject {
			p := &in.pend[in.pendAt+n]
			buf[n] = p.t
			if b := in.payload(p); len(b) > 0 {
				if err := k.alloc(&buf[n], b); err != nil {
					break
				}
			}
			n++
		}
		if n == 0 {
			return true, nil // no arena room for the first payload
		}
		m, err := k.emit(buf[:n])
		for i := m; i < n; i++ {
			if buf[i].Payload != 0 {
				k.release(buf[i].Payload) // not emitted: the reference is still ours
			}
		}
		for i := range m {
			in.lastLoc++
			in.push(in.lastLoc, &in.pend[in.pendAt+i])
		}
		in.pendAt += m
		in.st.delivered.Add(uint64(m))
		if err != nil || m < n {
			return true, err
		}
	}
	clear(in.bufs) // drop the batches' payload bytes
	in.pend, in.pendAt, in.bufs = in.pend[:0], 0, in.bufs[:0]
	return false, nil
}

func (in *inbound) push(local uint32, p *pendTask) {
	in.fifo[in.ftail&uint64(len(in.fifo)-1)] = fifoEntry{local: local, stream: p.stream, seq: p.seq}
	in.ftail++
}

// pending reports whether accepted tasks wait for delivery.
func (in *inbound) pending() bool { return in.pendAt < len(in.pend) }

// scan pops the finished prefix of the fifo and appends the acks due: a
// stream is acknowledged when AckEvery more of its tasks finished, or when
// everything delivered so far finished (the consumer caught up).
func (in *inbound) scan(acks []outAck) []outAck {
	mask := uint64(len(in.fifo) - 1)
	popped := uint64(0)
	for in.fhead < in.ftail {
		e := &in.fifo[in.fhead&mask]
		if e.local != 0 && in.slots[e.local&in.smask].Load() != e.local {
			break
		}
		if s := in.list[e.stream]; e.seq > s.handled {
			s.handled = e.seq
		}
		in.fhead++
		popped++
	}
	in.st.handled.Add(popped)
	caught := in.fhead == in.ftail && !in.pending()
	for _, s := range in.list {
		if s.handled > s.ackSent && s.sender != nil && (caught || s.handled-s.ackSent >= in.ackEvery) {
			s.ackSent = s.handled
			acks = append(acks, outAck{s.sender, &clusterpb.Ack{Channel: in.channel, Stream: s.id, Seq: s.handled}})
		}
	}
	return acks
}

// arm asks done to wake the pump when the task with local seq kickAt (or a
// later one) finishes: step tasks past the oldest unfinished one, at most the
// last emitted. It returns false when that task is already done (no need to
// wait) or nothing is outstanding.
func (in *inbound) arm(step uint32) bool {
	if in.fhead == in.ftail {
		return false
	}
	front := in.fifo[in.fhead&uint64(len(in.fifo)-1)].local
	if front == 0 {
		return false // a rejected entry: scan pops it at once
	}
	at := front + step - 1
	if int32(at-in.lastLoc) > 0 {
		at = in.lastLoc
	}
	in.kickAt.Store(at)
	in.armed.Store(true)
	if in.slots[at&in.smask].Load() == at || in.slots[front&in.smask].Load() == front {
		in.armed.Store(false)
		return false
	}
	return true
}
