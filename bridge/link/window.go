package link

import (
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// The window of an out-lane whose wire has an Ack cell ([B4], [F5]): every
// task the sender takes from the outbox stays here, its payload reference
// retained, until the consumer acknowledges it as handled; a reconnect
// sends again whatever is left.
//
// Order. The window is a FIFO in the order the tasks were first taken.
// Within an epoch (one connection) the sender stages entries from the front
// — first those left from earlier epochs, then new ones — and the ring
// publishes them in that order, so at any time the window is
//
//	[ published (in this epoch or before) | never published ]
//	  ^ front                        staged ^ ... entries not yet staged
//
// and the consumer, which acknowledges a count of handled tasks in ring
// order, acknowledges a prefix of what this epoch published: the sender pops
// that many entries from the front. At a reconnect (adopt) the published
// prefix — max(resend, published this epoch) − acknowledged this epoch — is
// the next epoch's resend count: those entries are flagged
// task.Redelivered and their next publication counts as a re-send
// (Stats.Redelivered); the never-published rest goes out as first sends.
// A lossy channel does not re-send: its published, unacknowledged entries
// go to sys.dropped (Stats.Lapsed).
//
// Everything here belongs to the sender goroutine; wLen and wPopped mirror
// the window for Stats.
type window struct {
	q      []kernel.Task // ring buffer of entries; len a power of two
	head   int           // q[head] is the front entry
	n      int           // entries
	staged int           // entries [0, staged) are staged in this epoch's ring
	popped uint64        // entries acknowledged (popped) in this epoch
}

func newWindow() *window { return &window{q: make([]kernel.Task, 256)} }

// at returns entry i (0: the front).
func (w *window) at(i int) *kernel.Task { return &w.q[(w.head+i)&(len(w.q)-1)] }

// push appends t.
func (w *window) push(t *kernel.Task) {
	if w.n == len(w.q) {
		q := make([]kernel.Task, 2*len(w.q))
		for i := range w.n {
			q[i] = *w.at(i)
		}
		w.q, w.head = q, 0
	}
	*w.at(w.n) = *t
	w.n++
}

// pop removes the front entry and returns it.
func (w *window) pop() kernel.Task {
	t := *w.at(0)
	w.head = (w.head + 1) & (len(w.q) - 1)
	w.n--
	w.staged = max(w.staged-1, 0)
	return t
}

// remove deletes entry i (a rare path: an entry the ring can never take).
func (w *window) remove(i int) {
	for j := i; j < w.n-1; j++ {
		*w.at(j) = *w.at(j + 1)
	}
	w.n--
	if i < w.staged {
		w.staged--
	}
}

// publish mirrors the window into the Stats atomics.
func (l *outLane) publish() {
	l.wLen.Store(uint64(l.win.n))
	l.wPopped.Store(l.win.popped)
}

// takeAcks pops what the consumer acknowledged since the last call,
// releasing each entry's payload reference. Sender goroutine.
func (l *outLane) takeAcks() {
	w := l.win
	if w == nil || l.c.ack == nil {
		return
	}
	v := l.c.ack.Load()
	if v <= w.popped {
		return
	}
	k := min(v-w.popped, uint64(w.staged)) // a consumer acknowledges only what it received
	for range k {
		t := w.pop()
		l.forget(&t)
	}
	w.popped += k
	l.acked.Add(k)
	l.publish()
}

// forget releases an acknowledged entry's payload.
func (l *outLane) forget(t *kernel.Task) {
	if t.Payload != 0 {
		_ = l.k.Release(t.Payload)
		l.bytes.Add(-int64(t.PayloadLen))
	}
}

// rewind prepares the window for the next epoch, after the old
// connection's final acknowledgements were taken: it returns the next
// epoch's resend count and the re-sends of the epoch that ends. published
// is how many tasks the old epoch published; resend its own resend count.
func (l *outLane) rewind(published, resend uint64) (next, redelivered uint64) {
	w := l.win
	pub := min(max(resend, published)-min(w.popped, max(resend, published)), uint64(w.n))
	redelivered = min(published, resend)
	if l.ch.Spec.Guarantee == kernel.Lossless {
		for i := range int(pub) {
			w.at(i).Flags |= task.Redelivered
		}
		next = pub
	} else {
		for range pub { // lossy: what may have been lost with the peer is reported, not re-sent
			t := w.pop()
			l.bytes.Add(-int64(t.PayloadLen))
			if l.k.Drop(t, task.ChanClosed) != nil && t.Payload != 0 {
				_ = l.k.Release(t.Payload)
			}
			l.lapsed.Add(1)
		}
	}
	w.staged, w.popped = 0, 0
	l.publish()
	return next, redelivered
}

// release lets go of every entry's payload at Close: entries never
// published are counted abandoned (they leave Queued); published ones stay
// Unacked — their fate is the peer's.
func (l *outLane) releaseWindow() {
	w := l.win
	c := l.c
	tx := c.tx.Stats().Tasks
	pub := min(max(c.resend, tx)-min(w.popped, max(c.resend, tx)), uint64(w.n))
	for i := range w.n {
		t := w.at(i)
		if t.Payload != 0 {
			_ = l.k.Release(t.Payload)
			l.bytes.Add(-int64(t.PayloadLen))
			t.Payload = 0
		}
	}
	unpub := uint64(w.n) - pub
	for range unpub {
		w.remove(w.n - 1)
	}
	l.abandoned.Add(unpub)
	l.publish()
}
