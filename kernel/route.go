package kernel

import (
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/kernel/trace"
)

// chanCache is a worker's direct-mapped cache from channel id to channel for
// its emits, sparing the registry's lookup chain, with the channel's route
// (channel.Route). Like subCache it never goes stale: a channel id, once
// opened, names the same channel for ever, and a route, once final, stays
// what it is. Owner only.
type chanCache [subCacheSize]chanEntry

type chanEntry struct {
	c     *channel.Channel
	route *channel.Sub // the subscription of the emit fast path, or nil
	final bool         // route can no longer change
	// Handoffs through the route not yet counted (flushRoute), all of
	// tenant's: the emitted, channel-emit and enqueue counters they owe.
	n      uint32
	tenant uint16
}

// chanOf returns channel id, or nil when it does not exist.
func (w *worker) chanOf(id ChanID) *channel.Channel {
	e := &w.chans1[id&(subCacheSize-1)]
	if e.c != nil && e.c.ID() == id {
		return e.c
	}
	c := w.k.chans.Get(id)
	if c != nil {
		if e.n != 0 {
			w.flushRoute(e) // the counts belong to the channel leaving the entry
		}
		e.c = c
		w.findRoute(e)
	}
	return c
}

// findRoute sets e's route. Deterministic channels have none: their emits go
// through the lane (det.go).
func (w *worker) findRoute(e *chanEntry) {
	s, final := e.c.Route()
	if s != nil && w.k.detChan(e.c) {
		s = nil
	}
	e.route, e.final = s, final
}

// chanEmit is Ctx.ChanEmit by pointer ([C3]). A plain task on a channel
// with a route takes the fast path (channel.EmitRoute): to the handoff slot
// when the subscription is homed here, else to the worker's outbox, with
// the counters and trace record of any other emit. Everything else — and
// the fast path's refusals — goes through Kernel.chanEmit, which decides by
// the same rules.
func (c *Ctx) chanEmit(id ChanID, t *Task) error {
	w := c.w
	if w == nil {
		return c.k.ChanEmit(id, *t) // Init and Fini run outside the workers
	}
	e := &w.chans1[id&(subCacheSize-1)]
	if s := e.route; s != nil && e.c.ID() == id && t.Flags&task.Snapshotted == 0 && int(t.Tenant) < w.k.cfg.Tenants {
		if s.Home == w.id {
			// What needs t, c or w is done before the call, so that only e
			// is live across it on the way out: the compiler spills every
			// value live across a call and reloads it after (measured,
			// stepped pipeline3: 44.2 → 41.1 ns per item).
			if ten := t.Tenant; e.tenant != ten {
				if e.n != 0 {
					w.flushRoute(e) // the counts are the tenant's before
				}
				e.tenant = ten
			}
			traced := trace.Enabled && w.traceEvent(trace.ChanEmit, c.mod, t)
			if !e.c.RouteLocal(&w.em, t, s) {
				return w.chanEmitSlow(e, id, t)
			}
			e.n++
			if traced {
				w.traceRaw(trace.ChanEmit, int(t.Tenant), t.Type, uint64(id), uint64(int64(OK)))
			}
			return nil
		}
		if st, ok := e.c.EmitRoute(&w.em, t, s); ok {
			if st != OK {
				return w.routedFull(e.c, t, st)
			}
			w.l.Shard.Add(cEmitted, 1)
			if trace.Enabled && w.traceEvent(trace.ChanEmit, c.mod, t) {
				w.traceRaw(trace.ChanEmit, int(t.Tenant), t.Type, uint64(id), uint64(int64(OK)))
			}
			return nil
		}
	}
	return w.chanEmitSlow(e, id, t)
}

// chanEmitSlow is chanEmit through Kernel.chanEmit, for every emit the
// route does not take; e is id's cache entry.
func (w *worker) chanEmitSlow(e *chanEntry, id ChanID, t *Task) error {
	err := w.k.chanEmit(w.l.Shard, &w.em, w, id, t)
	if !e.final && e.c != nil && e.c.ID() == id {
		w.findRoute(e) // the channel may have its subscriber now
	}
	return err
}

// flushRoute adds the counters e's uncounted handoffs owe: emitted, the
// channel's emits and their tenant's enqueued.
func (w *worker) flushRoute(e *chanEntry) {
	n := uint64(e.n)
	w.l.Shard.Add(cEmitted, n)
	w.k.core.CountEnqueue(w.l, e.tenant, n)
	w.em.Shard.Add(int(e.c.ID())*channel.NumStats+channel.StatEmits, n)
	e.n = 0
}

// routedFull ends a fast-path emit that found no room (CHAN_FULL) as
// Kernel.chanEmit does: traced, and a RETRY of the handler then waits for
// room (held.go).
func (w *worker) routedFull(c *channel.Channel, t *Task, st Status) error {
	if trace.Enabled && w.traceEvent(trace.ChanFull, w.ctx.mod, t) {
		w.traceRaw(trace.ChanFull, int(t.Tenant), t.Type, uint64(c.ID()), uint64(int64(st)))
	}
	w.ctx.full = c
	return ErrChanFull
}
