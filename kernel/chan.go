package kernel

import (
	"context"
	"fmt"
	"math/bits"
	"runtime"
	"unsafe"

	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/metrics"
	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/kernel/trace"
)

// ChanOpen opens (or finds, when the spec matches) a channel ([C3]).
func (k *Kernel) ChanOpen(spec ChanSpec) (ChanID, error) {
	if int(spec.Type) >= k.cfg.MaxTypes && spec.Type != channel.AnyType {
		return 0, fmt.Errorf("%w: channel %s type %d not below %d", ErrUnknownType, spec.Name, spec.Type, k.cfg.MaxTypes)
	}
	c, _, err := k.chans.Open(spec)
	if err != nil {
		return 0, err
	}
	return c.ID(), nil
}

// Chan returns the id of the channel named name.
func (k *Kernel) Chan(name string) (ChanID, error) {
	if c := k.chans.Lookup(name); c != nil {
		return c.ID(), nil
	}
	return 0, fmt.Errorf("%w: %q", ErrChanUnknown, name)
}

// ChanPause pauses (paused true) or resumes the draining of subscription
// sub of channel id, from any goroutine: flow control for a consumer that
// is not a handler — a relay to an actor that fell behind. While paused, the
// subscription's queue fills and emitters see the channel's full
// behaviour (CHAN_FULL on a lossless channel, drop-slow on a lossy one).
// Halt waits for a paused subscription's queue like any other (until its
// context ends).
func (k *Kernel) ChanPause(id ChanID, sub int, paused bool) error {
	c := k.chans.Get(id)
	if c == nil {
		return fmt.Errorf("%w: %d", ErrChanUnknown, id)
	}
	s := c.Sub(sub)
	if s == nil {
		return fmt.Errorf("%w: %s has no subscriber %d", ErrChanUnknown, c.Name(), sub)
	}
	if s.Paused() == paused {
		return nil
	}
	s.SetPaused(paused)
	if !paused {
		k.core.Idle.Wake(s.Home)
	}
	return nil
}

// errReadyFull is the error of a submit that found the ready queue full:
// made once, since producers meet it in a loop under load.
var errReadyFull = fmt.Errorf("%w: ready queue full", ErrChanFull)

// ChanSpec returns the spec channel id was opened with (its sizes after
// defaults).
func (k *Kernel) ChanSpec(id ChanID) (ChanSpec, error) {
	c := k.chans.Get(id)
	if c == nil {
		return ChanSpec{}, fmt.Errorf("%w: %d", ErrChanUnknown, id)
	}
	return c.Spec(), nil
}

// ChanClose closes a channel: emits fail with CHAN_CLOSED and queued
// deliveries go to sys.dropped ([C3], [C9]). System channels cannot be closed.
func (k *Kernel) ChanClose(id ChanID) error {
	c := k.chans.Get(id)
	if c == nil {
		return fmt.Errorf("%w: %d", ErrChanUnknown, id)
	}
	if k.isSysChan(id) || c == k.sysTick {
		return fmt.Errorf("gmk: %s cannot be closed", c.Name())
	}
	c.Close()
	return nil
}

// ChanEmit emits t on channel id from a goroutine that is not a worker (for
// example an actor). Same results as Ctx.ChanEmit.
func (k *Kernel) ChanEmit(id ChanID, t Task) error {
	g, ok := k.enter(unsafe.Pointer(&t))
	defer g.Add(-1)
	if !ok {
		return ErrClosed
	}
	return k.chanEmit(nil, &k.extEm, nil, id, &t)
}

// ChanEmitWait is ChanEmit for producers outside the kernel that want a Go
// channel's blocking send: while the channel is full it yields the processor
// for a bounded while (runtime.Gosched, a few tens of microseconds; see
// spinRoom), then waits without spinning until a subscriber drains, the
// channel closes, the kernel halts, or ctx is done (then it returns ctx's
// error).
func (k *Kernel) ChanEmitWait(ctx context.Context, id ChanID, t Task) error {
	one := [1]Task{t}
	return k.ChanEmitAll(ctx, id, one[:])
}

// ChanEmitBatch emits a prefix of ts on channel id from a goroutine that is
// not a worker and returns its length; the error says why the rest was not
// emitted (ErrChanFull: retry the rest later). A P2P channel takes the batch
// with one ring publication. Runtime-owned header fields of ts are
// overwritten.
func (k *Kernel) ChanEmitBatch(id ChanID, ts []Task) (int, error) {
	g, ok := k.enter(unsafe.Pointer(&ts))
	defer g.Add(-1)
	if !ok {
		return 0, ErrClosed
	}
	c := k.chans.Get(id)
	if c == nil {
		return 0, fmt.Errorf("%w: %d", ErrChanUnknown, id)
	}
	for i := range ts {
		if k.plainTask(&ts[i]) {
			continue // inlined: checkTask's call only for a task it has work for
		}
		if err := k.checkTask(&ts[i]); err != nil {
			n, err2 := k.ChanEmitBatch(id, ts[:i])
			if err2 != nil {
				return n, err2
			}
			return n, err
		}
	}
	if k.detChan(c) {
		for i := range ts {
			if err := k.detPut(&ts[i], id, false); err != nil {
				return i, err
			}
		}
		return len(ts), nil
	}
	st, n, d := c.EmitBatch(&k.extEm, ts)
	if d > 0 {
		k.stats.AddShared(cEmitted, uint64(d))
	}
	switch st {
	case OK:
		return n, nil
	case task.ChanFull:
		return n, ErrChanFull
	}
	return n, fmt.Errorf("%w: %s", st.Err(), c.Name())
}

// ChanEmitAll emits every task of ts on channel id from outside the kernel,
// waiting like ChanEmitWait while the channel is full. Runtime-owned header
// fields of ts are overwritten.
func (k *Kernel) ChanEmitAll(ctx context.Context, id ChanID, ts []Task) error {
	spun := false // the last wait was a spin; without progress since, block
	for len(ts) > 0 {
		n, err := k.ChanEmitBatch(id, ts)
		ts = ts[n:]
		if err != ErrChanFull {
			return err
		}
		c := k.chans.Get(id)
		if (n > 0 || !spun) && k.spinRoom(c) {
			spun = true
			continue
		}
		spun = false
		sig := c.RoomSignal()
		if n, err = k.ChanEmitBatch(id, ts); err != ErrChanFull {
			ts = ts[n:]
			if err != nil || len(ts) == 0 {
				return err
			}
			continue
		}
		ts = ts[n:]
		select { // room, or the end
		case <-sig:
		case <-k.stop:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// spinRoom waits for room on c by yielding the processor (runtime.Gosched)
// for a bounded number of rounds, and reports whether c has room — or
// closed, or the kernel is stopping — by then (the caller then retries).
// A producer that blocks on RoomSignal is woken through the Go scheduler,
// which can take longer than the subscriber needs to drain the queue: it
// then runs dry while the producer waits for a processor. Yielding keeps the
// producer runnable without taking a processor another goroutine needs.
func (k *Kernel) spinRoom(c *channel.Channel) bool {
	for range roomSpins {
		if c.Room() >= c.WakeRoom() || c.Closed() || k.stopping() {
			return true
		}
		runtime.Gosched()
	}
	return false
}

// roomSpins bounds spinRoom: a few tens of microseconds of yielding, about
// the time a subscriber takes to drain WakeRoom deliveries.
const roomSpins = 256

func (k *Kernel) chanEmit(sh *metrics.Shard, em *channel.Emitter, w *worker, id ChanID, t *Task) error {
	var c *channel.Channel
	if w != nil {
		c = w.chanOf(id)
	} else {
		c = k.chans.Get(id)
	}
	if c == nil {
		return fmt.Errorf("%w: %d", ErrChanUnknown, id)
	}
	if !k.plainTask(t) {
		if err := k.checkTask(t); err != nil {
			return err
		}
	}
	if k.det != nil && k.detChan(c) {
		return k.detChanEmit(w, c, t)
	}
	st, n := c.Emit(em, t)
	if n > 0 {
		k.add(sh, cEmitted, uint64(n))
	}
	if trace.Enabled && w != nil {
		ev := trace.ChanEmit
		if st != OK {
			ev = trace.ChanFull
		}
		if w.traceEvent(ev, w.ctx.mod, t) {
			w.traceRaw(ev, int(t.Tenant), t.Type, uint64(id), uint64(int64(st)))
		}
	}
	switch st {
	case OK:
		return nil
	case task.ChanFull:
		if w != nil {
			w.ctx.full = c // a RETRY now waits for room (held.go)
		}
		return ErrChanFull // the backpressure path: no allocation
	}
	return fmt.Errorf("%w: %s", st.Err(), c.Name())
}

// plainTask reports whether checkTask has nothing to do for t (valid tenant
// and type, not Snapshotted): the inlined test of the emit fast path.
func (k *Kernel) plainTask(t *Task) bool {
	return int(t.Tenant) < k.cfg.Tenants && int(t.Type) < k.cfg.MaxTypes && t.Flags&task.Snapshotted == 0
}

func (k *Kernel) checkTask(t *Task) error {
	if int(t.Tenant) >= k.cfg.Tenants {
		return fmt.Errorf("%w: tenant %d, kernel has %d", ErrBadTenant, t.Tenant, k.cfg.Tenants)
	}
	if int(t.Type) >= k.cfg.MaxTypes {
		return fmt.Errorf("%w: type %d not below %d", ErrUnknownType, t.Type, k.cfg.MaxTypes)
	}
	if t.Flags&task.Snapshotted != 0 {
		// The runtime's: a copy of a snapshotted task is a new task. Written
		// only when set: a narrow store just before the emit's 48-byte copy
		// of t would stall that copy (no store-to-load forwarding).
		t.Flags &^= task.Snapshotted
	}
	return nil
}

// subscribe binds module mod's handler for handlerType to channel id, homed on
// worker home (-1: round-robin).
func (k *Kernel) subscribe(id ChanID, mod int32, handlerType uint32, home int, onError bool) error {
	_, err := k.subscribeSub(id, mod, handlerType, home, onError)
	return err
}

func (k *Kernel) subscribeSub(id ChanID, mod int32, handlerType uint32, home int, onError bool) (*channel.Sub, error) {
	c := k.chans.Get(id)
	if c == nil {
		return nil, fmt.Errorf("%w: %d", ErrChanUnknown, id)
	}
	if c.Spec().Type != channel.AnyType && c.Spec().Type != handlerType && handlerType != AnyType && !onError {
		return nil, fmt.Errorf("%w: %s carries type %d, handler is for type %d", ErrChanTypeMismatch, c.Name(), c.Spec().Type, handlerType)
	}
	slot := k.handlerSlot(mod, handlerType)
	if slot < 0 {
		return nil, fmt.Errorf("%w: module %s has no handler for type %d (channel %s)", ErrChanTypeMismatch, k.modName(mod), handlerType, c.Name())
	}
	if (k.detChan(c) || (k.det != nil && c == k.sysTick)) && !k.handlers[slot].det && !onError {
		return nil, fmt.Errorf("%w: module %s subscribes to %s with a handler not registered DETERMINISTIC", ErrNotDeterministic, k.modName(mod), c.Name())
	}
	if home < 0 {
		home = int(k.nextHome.Add(1)-1) % len(k.workers)
	}
	var s *channel.Sub
	var err error
	if onError {
		s, err = c.SetErrorHandler(home, slot)
	} else {
		s, err = c.Subscribe(home, slot)
	}
	if err != nil {
		return nil, err
	}
	k.homeSub(s)
	for m := c.TakeWaiters(); m != 0; m &= m - 1 { // producers held back by "no subscriber"
		k.wakeWorkers(bits.TrailingZeros64(m))
	}
	return s, nil
}

// homeSub adds s to its home worker's drain list (copy-on-write).
func (k *Kernel) homeSub(s *channel.Sub) {
	k.subMu.Lock()
	defer k.subMu.Unlock()
	w := k.workers[s.Home]
	old := *w.subs.Load()
	next := append(append([]*channel.Sub(nil), old...), s)
	w.subs.Store(&next)
}

// handlerSlot finds module mod's handler for typ, else its catch-all
// (AnyType) handler.
func (k *Kernel) handlerSlot(mod int32, typ uint32) int32 {
	any := int32(-1)
	for i, h := range k.handlers {
		switch {
		case h.mod != mod:
		case h.typ == typ:
			return int32(i)
		case h.typ == AnyType:
			any = int32(i)
		}
	}
	return any
}

// ChanSubscribe subscribes the named module's handler for handlerType (or
// its catch-all handler) to channel id from outside the workers — the
// control plane's form of Ctx.ChanSub ([C3]). The subscription is homed
// round-robin. It returns the subscriber index that deliveries carry in
// Task.Subscriber().
func (k *Kernel) ChanSubscribe(id ChanID, module string, handlerType uint32) (int, error) {
	mod := k.modIndex(module)
	if mod <= 0 {
		return 0, errUnknownModule(module)
	}
	if k.state.Load() != stateRunning {
		return 0, ErrClosed
	}
	s, err := k.subscribeSub(id, mod, handlerType, -1, false)
	if err != nil {
		return 0, err
	}
	return s.Index(), nil
}

// extEnv is the channel environment of goroutines that are not workers: shared
// atomic counters instead of a worker's shard.
type extEnv struct{ k *Kernel }

func (e *extEnv) Wake(w int) { e.k.core.Idle.Wake(w) }

func (e *extEnv) AddRefs(p uint64, n int) {
	if n > 0 {
		_ = e.k.arena.AddRefs(alloc.Handle(p), n)
	}
}

func (e *extEnv) Dropped(_ int, d Task, code task.Status) {
	e.k.droppedCopy(nil, &e.k.extEm, &d, code)
}

// Alloc allocates n payload bytes for tenant from outside a handler (a
// producer that then emits a task carrying the handle). ErrAllocFail is a
// normal, counted result ([A3]).
func (k *Kernel) Alloc(tenant, n int) (uint64, []byte, error) {
	if tenant < 0 || tenant >= k.cfg.Tenants {
		return 0, nil, fmt.Errorf("%w: tenant %d, kernel has %d", ErrBadTenant, tenant, k.cfg.Tenants)
	}
	h, b, err := k.arena.Alloc(tenant, n)
	return uint64(h), b, err
}

// Release drops a payload reference obtained from Alloc (for example after an
// emit failed); ErrStalePayload reports a stale handle ([A5]).
func (k *Kernel) Release(h uint64) error {
	if err := k.arena.Release(alloc.Handle(h)); err != nil {
		k.stats.AddShared(cPayloadMisuse, 1)
		return err
	}
	return nil
}

// LivePayloads returns the number of live payload blocks (0 after Halt when no
// module kept a retained reference).
func (k *Kernel) LivePayloads() int { return k.arena.Live() }

// wakeWorkers wakes every worker whose index is bit modulo 63 (the waiter
// mask's sharing of bits).
func (k *Kernel) wakeWorkers(bit int) {
	for v := bit; v < len(k.workers); v += 63 {
		k.core.Idle.Wake(v)
	}
}
