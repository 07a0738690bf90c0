package sched

import (
	"sync/atomic"

	"github.com/gmkernel/gmk/kernel/metrics"
	"github.com/gmkernel/gmk/kernel/ring"
	"github.com/gmkernel/gmk/kernel/task"
)

// Policy selects the shared ready queue of a kernel.
type Policy uint8

// Scheduling policies.
const (
	PolicyRQ  Policy = iota // four priority queues popped 8/4/2/1 ([S2]), the CPU default
	PolicyGRQ               // type-bucketed GRQ with aging ([S3]), the GPU policy
)

func (p Policy) String() string {
	if p == PolicyGRQ {
		return "grq"
	}
	return "rq"
}

// CoreConfig sizes the enqueue core.
type CoreConfig struct {
	Policy      Policy
	Workers     int
	QueueCap    int      // per priority (RQ) or per bucket (GRQ)
	LQCap       int      // per worker
	OverflowCap int      // shared yield-overflow queue
	Types       []uint32 // handler types (GRQ buckets)
	MaxType     uint32
	Stats       *metrics.Set // per-tenant enqueue counters live at EnqBase+tenant
	EnqBase     int
	SubmitBase  int          // per-tenant counters of tasks admitted from outside, at SubmitBase+tenant
	Clock       func() int64 // read only by the GRQ policy (bucket ages)
}

// Core is the single enqueue core ([S1]): every path that makes a task runnable
// — submit, emit, channel drain, yield, retry, EVQ fire — goes through one of
// its methods, which assign seq (for new tasks), pick the target queue, apply
// the LQ watermark and count the enqueue. Shared queues are multi-producer
// rings; the LQs are owned by their workers (see LQ).
type Core struct {
	policy   Policy
	rq       *RQ
	grq      *GRQ
	overflow *ring.MPMC[task.Task]
	Idle     *Idle
	stats    *metrics.Set
	enqBase  int
	subBase  int
	clock    func() int64
	extSeq   atomic.Uint32 // counts submits from outside the workers
	stride   uint32        // workers+1: the seq interleaving (see NewCore)
}

// Local is a worker's own enqueue state. Only its worker uses it.
type Local struct {
	W      int
	LQ     *LQ
	Shard  *metrics.Shard
	seq    uint32
	stride uint32
	rc     Cursor
	gc     GCursor

	// The handoff slot (see Handoff): slot[put] holds one delivery when full
	// is set, while the other slot may hold the one running; hops is how
	// many handoffs the running dispatch may still make (0 outside a
	// dispatch). Owner only, like the LQ.
	slot [2]task.Task
	put  int
	full bool
	hops int
}

// NewCore builds the core and one Local per worker.
func NewCore(cfg CoreConfig) (*Core, []*Local) {
	c := &Core{policy: cfg.Policy, overflow: ring.NewMPMC[task.Task](cfg.OverflowCap),
		Idle: NewIdle(cfg.Workers), stats: cfg.Stats, enqBase: cfg.EnqBase, subBase: cfg.SubmitBase, clock: cfg.Clock}
	if cfg.Policy == PolicyGRQ {
		c.grq = NewGRQ(cfg.Types, cfg.QueueCap, cfg.MaxType)
	} else {
		c.rq = NewRQ(cfg.QueueCap)
	}
	ls := make([]*Local, cfg.Workers)
	for w := range ls {
		ls[w] = &Local{W: w, LQ: NewLQ(cfg.LQCap), Shard: cfg.Stats.Shard(w)}
		ls[w].gc.Reset(w)
		// Seqs are interleaved: worker w makes w, w+S, w+2S… (S = workers+1)
		// and submits from outside make workers, workers+S…, so no two
		// sources ever share one.
		ls[w].seq, ls[w].stride = uint32(w), uint32(cfg.Workers+1)
	}
	c.stride = uint32(cfg.Workers + 1)
	return c, ls
}

// Policy returns the shared-queue policy.
func (c *Core) Policy() Policy { return c.policy }

func (l *Local) nextSeq() uint32 {
	l.seq += l.stride
	return l.seq
}

// extSeqs reserves n seqs for submits from outside and returns the first.
func (c *Core) extSeqs(n uint32) uint32 {
	k := c.extSeq.Add(n) - n + 1
	return k*c.stride + c.stride - 1
}

func (c *Core) pushShared(t *task.Task) bool {
	if c.grq != nil {
		return c.grq.Push(t, c.clock())
	}
	return c.rq.Push(t)
}

// Submit admits a new task from any goroutine to the shared queue and wakes a
// parked worker. It reports false when the queue is full (nothing changed).
func (c *Core) Submit(t *task.Task) bool {
	t.Seq = c.extSeqs(1)
	if !c.pushShared(t) {
		return false
	}
	c.stats.AddShared(c.subBase+int(t.Tenant), 1) // one shared atomic per submit
	c.Idle.WakeAny()
	return true
}

// SubmitBatch admits a prefix of ts (one ring publication per priority run)
// and returns its length.
func (c *Core) SubmitBatch(ts []task.Task) int {
	seq := c.extSeqs(uint32(len(ts)))
	for i := range ts {
		ts[i].Seq = seq
		seq += c.stride
	}
	var n int
	if c.grq != nil {
		n = c.grq.PushBatch(ts, c.clock())
	} else {
		n = c.rq.PushBatch(ts)
	}
	for i := 0; i < n; {
		j := i + 1
		for j < n && ts[j].Tenant == ts[i].Tenant {
			j++
		}
		c.stats.AddShared(c.subBase+int(ts[i].Tenant), uint64(j-i))
		i = j
	}
	if n > 0 {
		c.Idle.WakeAny()
	}
	return n
}

// Emit admits a new task made by worker l's handler: follow-on work stays on
// the worker (its LQ) while the LQ is below its watermark, and goes to the
// shared queue otherwise. False when both are full.
func (c *Core) Emit(l *Local, t *task.Task) bool {
	t.Seq = l.nextSeq()
	return c.Requeue(l, t)
}

// Requeue makes an existing task runnable again on worker l (retry and EVQ
// fire) keeping its seq: LQ below the watermark, else the shared queue.
func (c *Core) Requeue(l *Local, t *task.Task) bool {
	if l.LQ.Push(t) {
		l.Shard.Add(c.enqBase+int(t.Tenant), 1)
		return true
	}
	if !c.pushShared(t) {
		return false
	}
	l.Shard.Add(c.enqBase+int(t.Tenant), 1)
	c.Idle.WakeAny()
	return true
}

// Yield re-enqueues a yielded task ([Y2]): the LQ including its reserve, else the
// shared yield-overflow queue (drained before every priority). False means both
// are full; the caller routes the task to sys.error with YIELD_OVERFLOW.
func (c *Core) Yield(l *Local, t *task.Task) bool {
	if !l.LQ.PushReserve(t) && !c.overflow.Push(t) {
		return false
	}
	l.Shard.Add(c.enqBase+int(t.Tenant), 1)
	return true
}

// DeliverFree makes the first m slots of l.LQ.Free, which the caller
// filled with channel deliveries drained by their home worker, part of the
// LQ, and counts them per tenant (one counter update per run of equal
// tenants).
func (c *Core) DeliverFree(l *Local, m int) {
	a, b := l.LQ.Free(m)
	c.countRuns(l, a)
	c.countRuns(l, b)
	l.LQ.Commit(m)
}

func (c *Core) countRuns(l *Local, ts []task.Task) {
	for i := 0; i < len(ts); {
		ten := ts[i].Tenant
		j := i + 1
		for j < len(ts) && ts[j].Tenant == ten {
			j++
		}
		l.Shard.Add(c.enqBase+int(ten), uint64(j-i))
		i = j
	}
}

// DeliverLocal puts a channel delivery made on its home worker straight into
// that worker's LQ (the P2P fast path); false when the LQ is at its watermark.
func (c *Core) DeliverLocal(l *Local, t *task.Task) bool {
	if !l.LQ.Push(t) {
		return false
	}
	l.Shard.Add(c.enqBase+int(t.Tenant), 1)
	return true
}

// Handoff is the run-next path of a channel delivery made on its home worker
// during a dispatch ([C4] fast path, DESIGN.md: keep follow-on work on the
// worker that made it): t goes to l's one-task handoff slot, which the
// dispatch loop empties right after the running handler returns (TakeHandoff),
// so a co-located pipeline runs each item through its stages depth-first,
// without a trip through the LQ. The caller guarantees that nothing else is
// pending for t's subscription, so running t before the rest of the batch
// keeps the subscription's FIFO order. False when the slot is taken or the
// dispatch used up its hops (StartHandoffs); the caller then uses the LQ.
// It returns the slot's copy of t, which the caller may still stamp, or nil.
func (c *Core) Handoff(l *Local, t *task.Task) *task.Task {
	d := HandoffUncounted(l, t)
	if d != nil {
		c.CountEnqueue(l, t.Tenant, 1)
	}
	return d
}

// CountEnqueue adds n to the enqueue counter of tenant, on l's shard: what
// Handoff adds, for the caller of HandoffUncounted. Owner only.
func (c *Core) CountEnqueue(l *Local, tenant uint16, n uint64) {
	l.Shard.Add(c.enqBase+int(tenant), n)
}

// HandoffUncounted is Handoff without the enqueue counter of t's tenant,
// which the caller adds (the kernel adds a route's handoffs once per
// dispatch).
func HandoffUncounted(l *Local, t *task.Task) *task.Task {
	if l.full || l.hops <= 0 {
		return nil
	}
	d := &l.slot[l.put]
	*d, l.full = *t, true
	l.hops--
	return d
}

// StartHandoffs allows the next n Handoffs on l (a dispatch of n tasks
// allows n, so a chain that keeps emitting to itself still returns to the
// worker loop); 0 ends them. Owner only.
func (l *Local) StartHandoffs(n int) { l.hops = n }

// TakeHandoff returns the delivery in the handoff slot, or nil. It stays
// valid until the next TakeHandoff (the slots alternate, so the handler
// running it may hand off the next one). Owner only.
func (l *Local) TakeHandoff() *task.Task {
	if !l.full {
		return nil
	}
	t := &l.slot[l.put]
	l.put ^= 1
	l.full = false
	return t
}

// HandoffPending reports whether the handoff slot holds a delivery that
// TakeHandoff has not returned yet. Owner only.
func (l *Local) HandoffPending() bool { return l.full }

// PopShared gathers a batch for worker l from the yield-overflow queue first,
// then from the shared ready queue.
func (c *Core) PopShared(l *Local, dst []task.Task) int {
	if c.overflow.Len() > 0 {
		if n := c.overflow.PopBatch(dst); n > 0 {
			return n
		}
	}
	if c.grq != nil {
		return c.grq.PopBatch(dst, &l.gc, c.clock())
	}
	return c.rq.PopBatch(dst, &l.rc)
}

// SharedLen returns the number of tasks in the shared queues.
func (c *Core) SharedLen() int {
	n := c.overflow.Len()
	if c.grq != nil {
		return n + c.grq.Len()
	}
	return n + c.rq.Len()
}

// DrainShared removes every task from the shared queues (halt accounting;
// workers must be stopped).
func (c *Core) DrainShared(fn func(t *task.Task)) {
	var buf [64]task.Task
	var rc Cursor
	var gc GCursor
	for {
		n := c.overflow.PopBatch(buf[:])
		if n == 0 {
			if c.grq != nil {
				n = c.grq.PopBatch(buf[:], &gc, 0)
			} else {
				n = c.rq.PopBatch(buf[:], &rc)
			}
		}
		if n == 0 {
			return
		}
		for i := range buf[:n] {
			fn(&buf[i])
		}
	}
}

// EachShared calls fn for every task in the shared queues (RQ or GRQ, and
// the overflow queue); for a quiescent core only (no push or pop meanwhile).
func (c *Core) EachShared(fn func(t *task.Task)) {
	if c.grq != nil {
		for i := range c.grq.buckets {
			for _, r := range c.grq.buckets[i].rings {
				r.Each(fn)
			}
		}
	} else {
		for _, r := range c.rq.sub {
			r.Each(fn)
		}
	}
	c.overflow.Each(fn)
}
