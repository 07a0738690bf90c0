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
// the ring — payload bytes copied into the staging area, then the source
// reference released ([B3]) — publishing a batch when it is full or, once
// the outbox ran dry, after the batch interval ([B2]). A full ring makes it
// wait on the Sender, the outbox fills and the relay pauses the channel
// subscription: backpressure reaches the producers ([B4]). It resumes the
// subscription when the outbox drained to half the pause mark.
//
// It leaves at Stop, after publishing what it staged. Tasks it cannot send
// (the bridge went down) go to sys.dropped; it keeps serving the outbox
// until Stop, so later deliveries do too.
func (l *outLane) run() {
	defer l.e.wg.Done()
	buf := make([]kernel.Task, l.e.cfg.Batch.Size)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for !l.e.stopping.Load() {
		n := l.box.PopBatch(buf)
		l.staged.Add(int64(n)) // in flight between the outbox and the ring: Stats' Queued
		for i := 0; i < n; i++ {
			if !l.send(&buf[i]) {
				for j := i; j < n; j++ {
					l.strand(&buf[j], false)
				}
				break
			}
		}
		l.staged.Store(int64(l.tx.Staged()))
		if n > 0 {
			if l.pflag.Load() && l.box.Len() <= l.pauseAt/2 && l.bytes.Load() <= l.pauseB/2 {
				l.resume()
			}
			continue
		}
		if l.b.Tick() > 0 {
			l.staged.Store(0)
			continue
		}
		l.idle(timer)
	}
	l.b.Flush()
	l.staged.Store(0)
}

// send stages one task; false when the bridge is down or the endpoint stops
// while the ring is full (the caller strands the task).
func (l *outLane) send(t *kernel.Task) bool {
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
	for {
		err := l.b.Add(t, p)
		switch {
		case err == nil:
			if t.Payload != 0 {
				_ = l.k.Release(t.Payload) // the bytes are in the ring: release the source ([B3])
				l.bytes.Add(-int64(t.PayloadLen))
			}
			return true
		case errors.Is(err, bridge.ErrClosed):
			l.e.bridgeDown(l.t)
			return false
		case errors.Is(err, bridge.ErrFull): // ErrStagingFull too: the peer is behind
			if l.e.stopping.Load() {
				return false
			}
			l.tx.Wait(l.e.cfg.Park)
		default: // ErrPayloadTooLarge: never fits this staging area
			l.bytes.Add(-int64(t.PayloadLen))
			l.dropped.Add(1)
			_ = l.k.Drop(*t, task.AllocFail)
			return true
		}
	}
}

// idle waits for the outbox: while a partial batch is open it yields until
// the batch's deadline (the poll interval is µs: sleeping would overshoot
// it); otherwise it sleeps until the relay kicks it, Park passes, or Stop.
// The sleep is a Dekker pair with the relay: sleeping is stored before the
// outbox is re-checked, and the relay checks sleeping after its push, so
// one of them sees the other.
func (l *outLane) idle(timer *time.Timer) {
	if d, open := l.b.Deadline(); open {
		now := l.e.cfg.Batch.Now // the Batcher's clock (tests inject one)
		if now == nil {
			now = time.Now
		}
		for l.box.Len() == 0 && !l.e.stopping.Load() && now().Before(d) {
			runtime.Gosched()
		}
		return
	}
	l.sleeping.Store(true)
	if l.box.Len() > 0 || l.e.stopping.Load() {
		l.sleeping.Store(false)
		return
	}
	timer.Reset(l.e.cfg.Park)
	select {
	case <-l.wake:
	case <-timer.C:
		l.probeDown()
	case <-l.e.stop:
	}
	timer.Stop()
	l.sleeping.Store(false)
}

// probeDown notices a disconnect while idle: the transport's incoming
// direction carries nothing (no pump here uses it), so a Peek on it returns
// ErrClosed exactly when the bridge closed.
func (l *outLane) probeDown() {
	if l.probe == nil || l.down.Load() {
		return
	}
	var m [1]bridge.Msg
	if _, err := l.probe.Peek(m[:]); errors.Is(err, bridge.ErrClosed) {
		l.e.bridgeDown(l.t)
	}
}
