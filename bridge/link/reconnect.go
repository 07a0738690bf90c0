package link

import (
	"context"
	"errors"
	"fmt"

	"github.com/gmkernel/gmk/bridge"
)

// ErrStopped reports a Reconnect of an endpoint that was not started or
// has stopped.
var ErrStopped = errors.New("link: endpoint not running")

// Detach lets go of the bridge's transports after the peer was reset, so
// that their regions may be formatted afresh (bridge.Shm.Reformat) for the
// peer's next boot: it takes the bridge down if it is not (Disconnect),
// waits until each pump has delivered what the old ring held and ended, and
// until each sender has taken the old epoch's last acknowledgements and
// stopped touching its transport. A peer that published after the pump
// had drained the closed ring (it ran on until its reset) left tasks no
// one will send again on a channel without acknowledgements: Detach takes
// them out of the old ring and the next pump delivers them first, after
// Reconnect. Until Reconnect, the channels stay closed and the senders
// keep what they hold. ctx bounds the waiting; on
// its end Detach may be called again. Reconnect detaches first if needed:
// call Detach yourself when the new transports reuse the old ones' memory.
// ErrStopped when not running.
func (e *Endpoint) Detach(ctx context.Context) error {
	if !e.started.Load() || e.stopping.Load() {
		return ErrStopped
	}
	e.Disconnect()
	for _, l := range e.ins {
		select {
		case <-l.exited:
			l.salvage()
			l.park()
		case <-ctx.Done():
			return fmt.Errorf("link: %s: detach: pump of %s still draining: %w", e.id, l.ch.Spec.Name, ctx.Err())
		}
	}
	for _, l := range e.outs {
		if err := e.ask(ctx, l, nil); err != nil {
			return err
		}
	}
	return nil
}

// ask hands a request to l's sender goroutine and waits until it is done.
func (e *Endpoint) ask(ctx context.Context, l *outLane, c *outConn) error {
	select { // a request an earlier call gave up on and the sender never took
	case <-l.req:
	default:
	}
	r := laneReq{conn: c, done: make(chan struct{})}
	l.req <- r
	l.kick()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("link: %s: sender of %s: %w", e.id, l.ch.Spec.Name, ctx.Err())
	case <-e.stop:
		return ErrStopped
	}
}

// Reconnect attaches the endpoint to its rebooted peer ([B4]): wires are the
// same channels as New's, on new transports — a region formatted for the
// next epoch (bridge.NextEpoch), whose sequence numbers continue — with
// fresh Ack cells. It detaches from the old transports first if it has not
// (Detach). Each sender adopts its new connection and publishes again,
// before anything new, every task its peer did not acknowledge, flagged
// task.Redelivered (a lossy channel reports those to sys.dropped instead,
// Stats.Lapsed). Then it starts new pumps and resumes the channels
// (Kernel.ChanResume): producers no longer see CHAN_CLOSED.
//
// ctx bounds the waiting; when it ends first, Reconnect returns its error
// with the bridge still down and may be called again. The caller owns the
// endpoint: Start came before, Stop does not overlap. ErrStopped when not
// running.
func (e *Endpoint) Reconnect(ctx context.Context, wires []Wire) error {
	outs, ins, err := e.conns(wires)
	if err != nil {
		return err
	}
	if err := e.Detach(ctx); err != nil {
		return err
	}
	for i, l := range e.outs {
		if err := e.ask(ctx, l, outs[i]); err != nil {
			return err
		}
	}
	for i, l := range e.ins {
		l.adopt(ins[i])
		l.exited = make(chan struct{})
		_ = e.k.ChanResume(l.id) // before its pump, whose first tasks may be salvaged ones
		e.wg.Add(1)
		go l.run()
	}
	e.reset.Store(false)
	for _, l := range e.outs {
		_ = e.k.ChanResume(l.id)
	}
	return nil
}

// conns makes the new connections of wires, in the order of e.outs and
// e.ins, after checking that wires are this endpoint's channels.
func (e *Endpoint) conns(wires []Wire) ([]*outConn, []*inConn, error) {
	if len(wires) != len(e.outs)+len(e.ins) {
		return nil, nil, fmt.Errorf("link: %s: reconnect with %d wires, the endpoint has %d channels", e.id, len(wires), len(e.outs)+len(e.ins))
	}
	byName := map[string]Wire{}
	for _, w := range wires {
		if w.T == nil {
			return nil, nil, fmt.Errorf("link: %s: channel %s has no transport", e.id, w.Chan.Spec.Name)
		}
		byName[w.Chan.Spec.Name] = w
	}
	outs, ins := make([]*outConn, len(e.outs)), make([]*inConn, len(e.ins))
	var inTs []bridge.Transport
	for i, l := range e.outs {
		w, ok := byName[l.ch.Spec.Name]
		if !ok || w.Chan != l.ch || (w.Ack == nil) != (l.win == nil) {
			return nil, nil, fmt.Errorf("link: %s: reconnect: channel %s missing or changed", e.id, l.ch)
		}
		c, err := newOutConn(e, w)
		if err != nil {
			return nil, nil, err
		}
		outs[i] = c
	}
	for i, l := range e.ins {
		w, ok := byName[l.ch.Spec.Name]
		if !ok || w.Chan != l.ch || (w.Ack == nil) != (l.track == nil) {
			return nil, nil, fmt.Errorf("link: %s: reconnect: channel %s missing or changed", e.id, l.ch)
		}
		c, err := newInConn(e, w)
		if err != nil {
			return nil, nil, err
		}
		c.ack = w.Ack
		ins[i], inTs = c, append(inTs, w.T)
	}
	setProbes(outs, inTs)
	return outs, ins, nil
}

// salvage takes what the peer published into the old ring after the pump
// had drained it and ended, when the channel has no acknowledgements (a
// channel with them is sent again by its peer's window, so its leftovers
// are discarded by park): the peer is reset, so the ring holds its last
// tasks. They wait in pend for the next pump, which delivers them first.
func (l *inLane) salvage() {
	if l.parked || l.track != nil {
		return
	}
	c := l.conn.Load()
	l.pend, l.off = l.pend[:0], 0 // the ended pump left nothing in pend (finish)
	for {
		if n, _ := c.b.Poll(l.take); n == 0 {
			return
		}
	}
}

// park counts what the old ring still holds (nothing, after a drain) and
// the old connection's transfers, while its region shows the old epoch
// (Detach; the pump has ended).
func (l *inLane) park() {
	if l.parked {
		return
	}
	old := l.conn.Load()
	if r, ok := ringState(old.t, false); ok {
		l.discarded.Add(r.InRing())
	}
	l.parkT = old.rx.Stats().Transfers
	l.parked = true
}

// adopt switches an in-lane whose pump has ended and that has parked to the
// connection of a Reconnect: the tracker starts over with the new Ack cell.
func (l *inLane) adopt(c *inConn) {
	old := l.conn.Load()
	c.transfers = old.transfers + l.parkT
	if l.track != nil {
		l.track.restart(c.ack)
	}
	l.conn.Store(c)
	l.parked = false
	l.reconns.Add(1)
}
