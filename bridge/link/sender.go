package link

import (
	"errors"
	"runtime"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// run is the sender goroutine of one out-lane: the Batcher's sending loop of
// bridge/doc.go with the outbox as its source. It moves outbox tasks into
// the ring — payload bytes copied into the staging area ([B3]) — publishing
// a batch when it is full or, once the outbox ran dry, after the batch
// interval ([B2]). A full ring makes it wait on the Sender, the outbox fills
// and the relay pauses the channel subscription: backpressure reaches the
// producers ([B4]). It resumes the subscription when the outbox (and the
// payload bytes held) drained to half the pause mark.
//
// Without a window the source payload is released as soon as its bytes are
// in the ring, and tasks it cannot send (the bridge went down) go to
// sys.dropped. With one (window.go) every task stays in the window until
// acknowledged; while the bridge is down the outbox drains into the window,
// and a Reconnect's new connection (adopt) sends it all again.
//
// It leaves at Stop, after publishing what it staged.
func (l *outLane) run() {
	defer l.e.wg.Done()
	buf := make([]kernel.Task, l.e.cfg.Batch.Size)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	urgent := false // a flush was asked for: publish once the outbox is empty
	for !l.e.stopping.Load() {
		select {
		case r := <-l.req:
			l.handle(r)
			continue
		default:
		}
		urgent = l.flushReq.Swap(false) || urgent // before the pop: it sees what came before the request
		l.takeAcks()
		if l.win != nil && !l.down.Load() && l.win.staged < l.win.n {
			l.sendWindow() // what is left from an earlier epoch (or a full ring) goes first
			l.resumeIfDrained()
			continue
		}
		n := l.box.PopBatch(buf)
		if l.win != nil {
			l.intake(buf[:n])
		} else {
			l.sendAll(buf[:n])
		}
		if n > 0 {
			l.resumeIfDrained()
			continue
		}
		l.resumeIfDrained()
		if urgent && !l.down.Load() {
			urgent = false
			if l.c.b.Flush() > 0 {
				l.setStaged(0)
			}
			continue
		}
		if !l.down.Load() && l.c.b.Tick() > 0 {
			l.setStaged(0)
			continue
		}
		l.writeOffStaged()
		l.idle(timer)
	}
	l.takeAcks()
	if !l.down.Load() {
		l.c.b.Flush()
	}
	l.writeOffStaged()
	l.setStaged(0)
}

// writeOffStaged counts abandoned, once the bridge is down, the tasks the
// open batch staged and never published (no window: a window keeps them
// for the reconnect). Their bytes went into the old ring and their source
// payloads were released, so there is nothing left to drop to sys.dropped;
// without this they would be neither sent nor counted, and the lane's
// identity (Stats.Check) would never balance again.
func (l *outLane) writeOffStaged() {
	if !l.down.Load() || l.win != nil {
		return
	}
	if n := l.c.tx.Staged() - l.c.writtenOff; n > 0 {
		l.c.writtenOff += n
		l.abandoned.Add(uint64(n))
		l.setStaged(0)
	}
}

// resumeIfDrained resumes a paused subscription once the outbox and the
// payload bytes held are down to half their pause marks.
func (l *outLane) resumeIfDrained() {
	if l.pflag.Load() && l.box.Len() <= l.pauseAt/2 && l.bytes.Load() <= l.pauseB/2 {
		l.resume()
	}
}

// sendAll stages tasks popped from the outbox (no window): each one's source
// payload is released once its bytes are in the ring; those the bridge can
// no longer carry go to sys.dropped.
func (l *outLane) sendAll(ts []kernel.Task) {
	l.staged.Add(int64(len(ts))) // in flight between the outbox and the ring: Stats' Queued
	for i := range ts {
		if !l.send(&ts[i]) {
			for j := i; j < len(ts); j++ {
				l.strand(&ts[j], false)
			}
			break
		}
	}
	l.setStaged(l.c.tx.Staged() - l.c.writtenOff)
}

// setStaged records how many tasks the open batch holds (Stats' Staged,
// and Queued's part past the outbox).
func (l *outLane) setStaged(n int) {
	l.staged.Store(int64(n))
	l.batched.Store(int64(n))
}

// intake moves tasks popped from the outbox into the window and, while the
// bridge is up, on into the ring.
func (l *outLane) intake(ts []kernel.Task) {
	for i := range ts {
		t := &ts[i]
		if t.PayloadLen > 0 {
			if _, err := l.k.PayloadBytes(t.Payload, int(t.PayloadLen)); err != nil {
				l.bytes.Add(-int64(t.PayloadLen))
				l.dropped.Add(1) // a stale reference (counted as misuse): nothing to send
				t.Payload, t.PayloadLen = 0, 0
				_ = l.k.Drop(*t, task.StalePayload)
				continue
			}
		}
		l.win.push(t)
	}
	l.publish()
	if !l.down.Load() {
		l.sendWindow()
	}
}

// sendWindow stages the window's entries from its staged mark on (their
// payloads stay retained until acknowledged). It stops when the bridge
// goes down or the endpoint stops.
func (l *outLane) sendWindow() {
	w := l.win
	for w.staged < w.n && !l.e.stopping.Load() {
		t := w.at(w.staged)
		var p []byte
		if t.PayloadLen > 0 {
			p, _ = l.k.PayloadBytes(t.Payload, int(t.PayloadLen)) // retained by the window: valid (checked at intake)
		}
		switch err := l.stage(t, p); {
		case err == nil:
			w.staged++
		case errors.Is(err, bridge.ErrClosed):
			return
		case errors.Is(err, bridge.ErrFull):
			return // stopping while the ring was full
		default: // ErrPayloadTooLarge: never fits this staging area
			x := *t
			w.remove(w.staged)
			l.publish()
			l.bytes.Add(-int64(x.PayloadLen))
			l.dropped.Add(1)
			_ = l.k.Drop(x, task.AllocFail)
		}
	}
}

// send stages one task without a window; false when the bridge is down or
// the endpoint stops while the ring is full (the caller strands the task).
func (l *outLane) send(t *kernel.Task) bool {
	if l.down.Load() {
		return false // a parked lane never touches its old transport again
	}
	var p []byte
	if t.PayloadLen > 0 {
		var err error
		if p, err = l.k.PayloadBytes(t.Payload, int(t.PayloadLen)); err != nil {
			l.bytes.Add(-int64(t.PayloadLen))
			l.dropped.Add(1) // a stale reference (counted as misuse): nothing to send
			t.Payload, t.PayloadLen = 0, 0
			_ = l.k.Drop(*t, task.StalePayload)
			return true
		}
	}
	switch err := l.stage(t, p); {
	case err == nil:
		if t.Payload != 0 {
			_ = l.k.Release(t.Payload) // the bytes are in the ring: release the source ([B3])
			l.bytes.Add(-int64(t.PayloadLen))
		}
		return true
	case errors.Is(err, bridge.ErrClosed), errors.Is(err, bridge.ErrFull):
		return false
	default: // ErrPayloadTooLarge: never fits this staging area
		l.bytes.Add(-int64(t.PayloadLen))
		l.dropped.Add(1)
		_ = l.k.Drop(*t, task.AllocFail)
		return true
	}
}

// stage adds t to the open batch, waiting while the ring is full. It
// returns nil, ErrClosed (the bridge went down: bridgeDown has run), ErrFull
// (the endpoint stops while the ring is full) or a payload error.
func (l *outLane) stage(t *kernel.Task, p []byte) error {
	for {
		err := l.c.b.Add(t, p)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, bridge.ErrClosed):
			l.e.bridgeDown(l.c.t)
			return err
		case errors.Is(err, bridge.ErrFull): // ErrStagingFull too: the peer is behind
			if l.e.stopping.Load() {
				return err
			}
			if l.win != nil {
				l.takeAcks() // the peer is behind: let go of what it handled meanwhile
			}
			l.c.tx.Wait(l.e.cfg.Park)
		default:
			return err
		}
	}
}

// idle waits for the outbox: while a partial batch is open it yields until
// the batch's deadline (the poll interval is µs: sleeping would overshoot
// it); otherwise it sleeps until the relay kicks it, Park passes, a
// Reconnect, or Stop. The sleep is a Dekker pair with the relay: sleeping is
// stored before the outbox is re-checked, and the relay checks sleeping
// after its push, so one of them sees the other.
func (l *outLane) idle(timer *time.Timer) {
	if d, open := l.c.b.Deadline(); open && !l.down.Load() {
		now := l.e.cfg.Batch.Now // the Batcher's clock (tests inject one)
		if now == nil {
			now = time.Now
		}
		for l.box.Len() == 0 && !l.e.stopping.Load() && !l.flushReq.Load() && !l.down.Load() && now().Before(d) {
			runtime.Gosched()
		}
		return
	}
	l.sleeping.Store(true)
	if l.box.Len() > 0 || l.e.stopping.Load() || l.flushReq.Load() {
		l.sleeping.Store(false)
		return
	}
	timer.Reset(l.e.cfg.Park)
	select {
	case <-l.wake:
	case <-timer.C:
		l.probeDown()
	case r := <-l.req:
		l.handle(r)
	case <-l.e.stop:
	}
	timer.Stop()
	l.sleeping.Store(false)
}

// probeDown notices a disconnect while idle: the transport's incoming
// direction carries nothing (no pump here uses it), so a Peek on it returns
// ErrClosed exactly when the bridge closed.
func (l *outLane) probeDown() {
	if l.c.probe == nil || l.down.Load() {
		return
	}
	var m [1]bridge.Msg
	if _, err := l.c.probe.Peek(m[:]); errors.Is(err, bridge.ErrClosed) {
		l.e.bridgeDown(l.c.t)
	}
}

// handle carries out a Detach's or a Reconnect's request.
func (l *outLane) handle(r laneReq) {
	if r.conn == nil {
		l.park()
	} else {
		l.adopt(r.conn)
	}
	close(r.done)
}

// park makes the lane let go of its transport (Detach), after the bridge
// went down: the old epoch's last acknowledgements are taken and what it
// left in its ring is counted Discarded, while the region still shows the
// old epoch; from now until adopt the sender touches neither the
// transport nor its Ack cell — their region may be formatted afresh.
func (l *outLane) park() {
	if l.parked {
		return
	}
	if !l.down.Load() { // Detach disconnected the transport: note it here if no Stage did
		l.e.downMu.Lock()
		l.down.Store(true)
		l.e.downMu.Unlock()
	}
	l.takeAcks()
	if r, ok := ringState(l.c.t, true); ok {
		l.discarded.Add(r.InRing())
	}
	l.writeOffStaged()
	tx := l.c.tx.Stats()
	l.parkTx = tx
	l.parked = true
}

// adopt switches to the connection of a Reconnect, on the sender goroutine
// (the old connection's Batcher and Sender are its own): the lane parks if
// it has not, the old epoch's counts are folded into the new connection's
// totals, and the window is rewound (window.go) so that everything not
// acknowledged goes out again first. Then the lane is up again.
func (l *outLane) adopt(c *outConn) {
	l.park()
	old, tx := l.c, l.parkTx
	c.sent, c.transfers, c.redelivered = old.sent+tx.Tasks, old.transfers+tx.Transfers, old.redelivered
	if l.win != nil {
		next, red := l.rewind(tx.Tasks, old.resend)
		c.resend, c.redelivered = next, c.redelivered+red
	}
	l.c = c
	l.conn.Store(c)
	l.setStaged(0)
	l.parked = false
	l.e.downMu.Lock()
	l.down.Store(false)
	l.e.downMu.Unlock()
	l.reconns.Add(1)
}

// ringState returns the state of the ring transport t sends on (tx) or
// receives from (!tx); false when t is not over a bridge region.
func ringState(t bridge.Transport, tx bool) (bridge.RingState, bool) {
	s, ok := t.(bridge.Stater)
	if !ok {
		return bridge.RingState{}, false
	}
	st := s.States()
	if (s.Side() == bridge.SideA) == tx {
		return st[bridge.RingAB], true
	}
	return st[bridge.RingBA], true
}
