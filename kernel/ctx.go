package kernel

import (
	"fmt"

	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/kernel/trace"
)

// Ctx is a handler's view of the kernel ([T3]). A worker owns one Ctx and
// reuses it for every task; a handler must not keep it after returning. Init
// and Fini hooks get a Ctx without a task (Worker() is -1).
type Ctx struct {
	k       *Kernel
	w       *worker // nil outside a worker
	t       *Task
	sub     *channel.Sub
	mod     int32
	yielded bool
	full    *channel.Channel // the lossless channel of the last CHAN_FULL (backpressure hold)
	armed   bool             // the budget clock started at the first yield point
	start   int64            // kernel clock at the first yield point
	det     bool             // running a task of the deterministic lane (det.go)
	sorted  *sortBuf         // SortBatch dispatch state (sortbatch.go); nil until the first sorted batch
	traced  bool             // runTask traced the running task's start (settle traces its end)
}

func (c *Ctx) begin(t *Task, mod int32, sub *channel.Sub) {
	c.t, c.mod, c.sub, c.yielded, c.armed, c.full = t, mod, sub, false, false, nil
}

// Task returns the task being handled. The handler may change Meta0 and Meta1
// (continuation state kept across a yield); the other fields are the runtime's.
func (c *Ctx) Task() *Task { return c.t }

// Kernel returns the kernel.
func (c *Ctx) Kernel() *Kernel { return c.k }

// Worker returns the worker index, or -1 in Init and Fini.
func (c *Ctx) Worker() int {
	if c.w == nil {
		return -1
	}
	return c.w.id
}

// Tenant returns the current task's tenant (0 in Init and Fini).
func (c *Ctx) Tenant() int {
	if c.t == nil {
		return 0
	}
	return int(c.t.Tenant)
}

// Tick returns the current logical tick (wall-clock ticks of BootConfig.Tick).
func (c *Ctx) Tick() uint64 {
	if c.det {
		return c.k.det.tick // the logical tick of the deterministic lane
	}
	if c.w == nil {
		return uint64(c.k.clock() / int64(c.k.cfg.Tick))
	}
	return c.w.tickNow()
}

// Module returns the name of the module whose handler or hook is running.
func (c *Ctx) Module() string { return c.k.modName(c.mod) }

// Emit makes a new task runnable by type ([S1]): on a worker it stays local
// (the worker's LQ) while there is room. The task's tenant must exist.
// ErrChanFull means every queue it could go to is full.
func (c *Ctx) Emit(t Task) error {
	k := c.k
	if err := k.checkTask(&t); err != nil {
		return err
	}
	if k.isDet(&t) {
		if c.det {
			return c.w.detEmit(&t) // runs at the next tick
		}
		return k.detPut(&t, 0, c.w == nil)
	}
	t.Flags &^= task.ChannelMsg
	t.Channel, t.YieldCount, t.Aux = 0, 0, 0
	if c.w == nil {
		if !k.core.Submit(&t) { // from Init/Fini: counted as submitted
			return errReadyFull
		}
		return nil
	}
	if !k.core.Emit(c.w.l, &t) {
		return fmt.Errorf("%w: local and shared queues full", ErrChanFull)
	}
	c.w.l.Shard.Add(cEmitted, 1)
	return nil
}

// ChanEmit emits t on channel ch ([C3]). Errors: ErrChanFull (lossless
// backpressure; the caller keeps the payload reference), ErrChanClosed,
// ErrChanTypeMismatch, ErrChanUnknown. On success a payload reference held by
// the handler moves to the delivered copies.
//
// ChanEmit inlines into the handler, which then passes its task's address
// rather than a 48-byte copy (route.go).
func (c *Ctx) ChanEmit(ch ChanID, t Task) error { return c.chanEmit(ch, &t) }

// ChanOpen opens (or finds) a channel and returns its id ([C3]).
func (c *Ctx) ChanOpen(spec ChanSpec) (ChanID, error) { return c.k.ChanOpen(spec) }

// ChanSub subscribes the current module's handler for handlerType to ch
// ([C3]). Deliveries run on the calling worker (round-robin from Init).
func (c *Ctx) ChanSub(ch ChanID, handlerType uint32) error {
	return c.k.subscribe(ch, c.mod, handlerType, c.Worker(), false)
}

// ChanOnError registers the current module's handler for handlerType as ch's
// error handler ([C3], [F1]).
func (c *Ctx) ChanOnError(ch ChanID, handlerType uint32) error {
	return c.k.subscribe(ch, c.mod, handlerType, c.Worker(), true)
}

// ChanClose closes ch ([C3]).
func (c *Ctx) ChanClose(ch ChanID) error { return c.k.ChanClose(ch) }

// Alloc allocates n payload bytes from the tenant's block allocator ([A2]).
// The handler owns the reference until it emits a task carrying it or calls
// Free. ErrAllocFail is a normal, counted result ([A3]).
func (c *Ctx) Alloc(n int) (uint64, []byte, error) {
	h, b, err := c.k.arena.Alloc(c.Tenant(), n)
	if err != nil && trace.Enabled && c.w != nil && c.w.traceEvent(trace.AllocFail, c.mod, c.t) {
		c.w.traceRaw(trace.AllocFail, c.Tenant(), c.typ(), uint64(n), 0)
	}
	return uint64(h), b, err
}

// Free drops a reference obtained from Alloc or PayloadRetain.
func (c *Ctx) Free(h uint64) error { return c.PayloadRelease(h) }

// Bump allocates transient bytes from the tenant's bump allocator ([A2]).
func (c *Ctx) Bump(n int) ([]byte, error) { return c.k.arena.Bump(c.Tenant(), n) }

// BumpReset resets the tenant's bump allocator as a whole.
func (c *Ctx) BumpReset() { c.k.arena.BumpReset(c.Tenant()) }

// Payload returns the current task's payload bytes (nil for an inline task).
// The kernel checked the handle's generation before dispatch ([A5]).
func (c *Ctx) Payload() []byte {
	if c.t == nil || c.t.Payload == 0 {
		return nil
	}
	b, err := c.k.arena.Bytes(alloc.Handle(c.t.Payload), int(c.t.PayloadLen))
	if err != nil {
		return nil
	}
	return b
}

// PayloadRetain keeps the current task's payload alive past the handler
// ([A4]): it returns a handle the module owns and must pass to PayloadRelease
// later. (The runtime releases the task's own reference when the task ends.)
func (c *Ctx) PayloadRetain() (uint64, error) {
	if c.t == nil || c.t.Payload == 0 {
		return 0, fmt.Errorf("%w: task has no payload", ErrStalePayload)
	}
	if err := c.k.arena.Retain(alloc.Handle(c.t.Payload)); err != nil {
		return 0, c.misuse(err)
	}
	return c.t.Payload, nil
}

// PayloadRelease drops a reference; the block is freed at zero ([A4]). A stale
// or doubly released handle is reported as ErrStalePayload with the current
// task type, counted and traced ([A5]).
func (c *Ctx) PayloadRelease(h uint64) error {
	if err := c.k.arena.Release(alloc.Handle(h)); err != nil {
		return c.misuse(err)
	}
	return nil
}

func (c *Ctx) misuse(err error) error {
	c.k.add(c.shard(), cPayloadMisuse, 1)
	if trace.Enabled && c.w != nil && c.w.traceEvent(trace.TaskFail, c.mod, c.t) {
		c.w.traceRaw(trace.TaskFail, c.Tenant(), c.typ(), codeArg(task.StalePayload), 0)
	}
	return fmt.Errorf("%w (task type %d)", err, c.typ())
}

// Yield re-enqueues the task unchanged after the handler returns OK ([Y1]).
func (c *Ctx) Yield() { c.yielded = true }

// YieldAt sets meta0 = phase, then yields ([Y1]).
func (c *Ctx) YieldAt(phase uint64) {
	if c.t != nil {
		c.t.Meta0 = phase
	}
	c.yielded = true
}

// YieldPoint is a yield point for long handlers ([Y4]): the first call starts
// the type's time budget; once the budget is spent it marks the task yielded
// and returns true, and the handler must return OK at once (its continuation
// in meta0/meta1).
func (c *Ctx) YieldPoint() bool {
	if c.t == nil {
		return false
	}
	now := c.k.clock()
	if !c.armed {
		c.armed, c.start = true, now
		return false
	}
	if now-c.start < c.k.types[c.t.Type].budget {
		return false
	}
	c.yielded = true
	return true
}

// Trace records a user event ev with two args, subject to the module's trace
// level ([O2], [O3]).
func (c *Ctx) Trace(ev trace.Event, a0, a1 uint64) {
	if trace.Enabled && c.w != nil && c.w.traceEvent(ev, c.mod, c.t) {
		c.w.traceRaw(ev, c.Tenant(), c.typ(), a0, a1)
	}
}

// MetricInc adds d to the user counter id (from Kernel.Metric) ([O1]).
func (c *Ctx) MetricInc(id MetricID, d uint64) {
	c.k.add(c.shard(), c.k.layout.user+int(id), d)
}

func (c *Ctx) shard() *metricsShard {
	if c.w == nil {
		return nil
	}
	return c.w.l.Shard
}

func (c *Ctx) typ() uint32 {
	if c.t == nil {
		return 0
	}
	return c.t.Type
}
