package kernel

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"go.uber.org/zap"

	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/kernel/metrics"
	"github.com/gmkernel/gmk/kernel/sched"
	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/kernel/trace"
)

const retryLimit = task.RetryLimit

// Kernel is one running GMK/cpu kernel. Its methods are safe for concurrent use.
type Kernel struct {
	cfg   BootConfig
	log   *zap.Logger
	arena *alloc.Arena
	core  *sched.Core
	sup   Supervisor

	workers  []*worker
	types    []typeEntry    // indexed by task type
	handlers []handlerEntry // indexed by handler slot
	modules  []*modState
	chans    *channel.Registry
	declSize map[string][2]int // channel name → slots, replay agreed by its declarations

	sysError   *channel.Channel
	sysDropped *channel.Channel

	stats     *metrics.Set // kernel counters (see metrics.go for the layout)
	chanStats *metrics.Set // channel counters, channel.NumStats per channel
	layout    layout
	levels    *trace.Levels
	ext       extEnv          // the channel environment of goroutines that are not workers
	extEm     channel.Emitter // their emitting context (read-only after Boot)

	clock func() int64

	state      atomic.Int32 // stateRunning → stateHalting → stateHalted
	started    atomic.Bool  // Boot is starting the workers: control that must precede them is closed
	stopFlag   atomic.Bool  // set by Halt when the workers must leave their loops
	nextHome   atomic.Uint32
	subMu      sync.Mutex // serialises changes of the workers' subscription lists
	submitting gate       // outside producers between their state check and their push (enter)
	stop       chan struct{}
	wg         sync.WaitGroup
	halted     HaltReport
	userMu     sync.Mutex
	userNames  map[string]int
	deferred   deferrals    // failures waiting for a supervisor's decision (deferred.go)
	det        *detLane     // the deterministic lane, nil without deterministic types (det.go)
	held       atomic.Int32 // modules held (hold.go)
	npoisoned  atomic.Int32 // types poisoned now (setPoisoned)
	snap       snapState    // keys and journal of snapshotted tasks (snapshot.go)
	snapMu     sync.Mutex
	world      world // stops workers and producers for a snapshot (replay.go)
	sysTick    *channel.Channel
}

const (
	stateRunning int32 = iota
	stateHalting
	stateHalted
)

type typeEntry struct {
	slot      int32 // direct handler slot, -1 = none
	maxYields uint16
	budget    int64
	info      TypeInfo
	poisoned  atomic.Bool
	fails     failWindow
}

type handlerEntry struct {
	fn  HandlerFunc
	mod int32
	typ uint32
	det bool // registered DETERMINISTIC
}

type modState struct {
	m     Module
	idx   int32
	outs  []*channel.Channel // declared lossless outputs (flow control)
	inits atomic.Int32       // InitModule calls (ExternalLifecycle)
	holds atomic.Int32       // HoldModule depth: handlers stopped while > 0 (hold.go)
	// holdMu orders the changes of holds with quiet: some hold of the
	// present run of holds (holds > 0 throughout) saw the handlers stop.
	holdMu sync.Mutex
	quiet  bool
	life   sync.Mutex // one Fini or Init at a time, within a hold (hold.go)
}

// Boot starts a kernel with modules ([K1] CPU part, [M2]): arena → scheduler →
// channels → modules (registration, declaration checks, Init) → workers.
func Boot(cfg BootConfig, modules ...Module) (*Kernel, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.CheckModules != nil {
		if err := cfg.CheckModules(modules); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	arena, err := alloc.NewArena(cfg.Arena)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	k := &Kernel{cfg: cfg, log: cfg.Logger, arena: arena, stop: make(chan struct{}),
		chans: channel.NewRegistry(cfg.MaxChannels), userNames: map[string]int{}}
	k.layout = newLayout(cfg)
	k.stats = metrics.NewSet(k.layout.total, cfg.Workers)
	k.chanStats = metrics.NewSet((cfg.MaxChannels+1)*channel.NumStats, cfg.Workers)
	k.levels = trace.NewLevels(len(modules)+1, cfg.TraceLevel)
	k.clock = cfg.Clock
	if k.clock == nil {
		start := time.Now()
		k.clock = func() int64 { return int64(time.Since(start)) }
	}
	k.snap.journal = cfg.Journal
	k.sup = cfg.Supervisor
	if k.sup == nil {
		k.sup = &Backoff{Policy: cfg.Retry, Limits: k.RetryLimit}
	}
	_, builtin := k.sup.(*Backoff)
	k.deferred.on = !builtin
	k.ext = extEnv{k: k}
	k.extEm = channel.Emitter{Worker: -1, Stats: k.chanStats, Env: &k.ext}
	for _, ti := range cfg.Types {
		if ti.Deterministic {
			k.det = &detLane{h: fnvOffset}
			k.det.hash.Store(fnvOffset)
			break
		}
	}
	if err := k.register(modules); err != nil {
		return nil, err
	}
	k.buildWorkers()
	if err := k.wire(); err != nil {
		return nil, err
	}
	if !cfg.ExternalLifecycle {
		if err := k.initModules(); err != nil {
			return nil, err
		}
	}
	k.started.Store(true)
	for _, w := range k.workers {
		k.wg.Add(1)
		go w.run()
	}
	k.log.Info("kernel booted", zap.String("id", cfg.ID), zap.Int("workers", cfg.Workers),
		zap.Int("modules", len(modules)), zap.Int("tenants", cfg.Tenants), zap.Stringer("policy", cfg.Policy))
	return k, nil
}

func (k *Kernel) buildWorkers() {
	types := make([]uint32, 0, len(k.handlers))
	for _, h := range k.handlers {
		if h.typ != AnyType {
			types = append(types, h.typ)
		}
	}
	core, locals := sched.NewCore(sched.CoreConfig{Policy: k.cfg.Policy, Workers: k.cfg.Workers,
		QueueCap: k.cfg.QueueCap, LQCap: k.cfg.LQCap, OverflowCap: k.cfg.OverflowCap,
		Types: uniq(types), MaxType: uint32(k.cfg.MaxTypes - 1), Stats: k.stats, EnqBase: k.layout.enq, SubmitBase: k.layout.sub, Clock: k.clock})
	k.core = core
	tr := k.arena.TraceRegion()
	per := len(tr) / k.cfg.Workers
	k.workers = make([]*worker, k.cfg.Workers)
	for i := range k.workers {
		k.workers[i] = newWorker(k, i, locals[i], tr[i*per:(i+1)*per])
	}
	if k.det != nil {
		k.workers[0].det = k.det
	}
}

func uniq(ts []uint32) []uint32 {
	seen := map[uint32]bool{}
	out := ts[:0]
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// ID returns the kernel identity ([K3]).
func (k *Kernel) ID() string { return k.cfg.ID }

// Role returns the kernel's role ([K3]).
func (k *Kernel) Role() string { return k.cfg.Role }

// Config returns the effective configuration (defaults applied).
func (k *Kernel) Config() BootConfig { return k.cfg }

// Submit admits a task from outside the kernel. It returns ErrClosed after
// Halt began, ErrBadTenant for a tenant out of range, ErrUnknownType for a
// type at or above MaxTypes, and ErrChanFull when the ready queue is full.
func (k *Kernel) Submit(t Task) error {
	if err := k.checkTask(&t); err != nil {
		return err
	}
	g, ok := k.enter(unsafe.Pointer(&t))
	defer g.Add(-1)
	if !ok {
		return ErrClosed
	}
	if k.isDet(&t) {
		return k.detPut(&t, 0, true)
	}
	t.Flags &^= task.ChannelMsg
	t.Channel, t.YieldCount, t.Aux = 0, 0, 0
	if !k.core.Submit(&t) {
		return ErrChanFull // the backpressure path: no allocation
	}
	return nil
}

// SubmitBatch admits a prefix of ts and returns how many were admitted; an
// error says why the rest was not (tenant or type out of range, queue full,
// closed). Runtime-owned fields of ts are overwritten.
func (k *Kernel) SubmitBatch(ts []Task) (int, error) {
	for i := range ts {
		t := &ts[i]
		if !k.plainTask(t) { // inlined: checkTask's call only for a task it has work for
			if err := k.checkTask(t); err != nil {
				n, err2 := k.SubmitBatch(ts[:i])
				if err2 != nil {
					return n, err2
				}
				return n, err
			}
		}
		t.Flags &^= task.ChannelMsg
		t.Channel, t.YieldCount, t.Aux = 0, 0, 0
	}
	g, ok := k.enter(unsafe.Pointer(&ts))
	defer g.Add(-1)
	if !ok {
		return 0, ErrClosed
	}
	if k.det != nil {
		return k.submitRuns(ts) // deterministic runs go to the lane (det.go)
	}
	n := k.core.SubmitBatch(ts)
	if n < len(ts) {
		return n, errReadyFull // the backpressure path: no allocation
	}
	return n, nil
}

// Halt stops the kernel ([K2]): new submits fail with ErrClosed, workers run
// until every queue is empty or ctx is done, then stop; what is still queued is
// counted and its payload references released; module Fini hooks run in
// reverse order. Halt returns nil when everything drained, an error wrapping
// ctx.Err() when work was still queued, and ErrClosed on a second call.
func (k *Kernel) Halt(ctx context.Context) error {
	if k.state.Load() != stateRunning {
		return ErrClosed
	}
	if ctx.Err() != nil {
		k.stopFlag.Store(true) // no time to drain: workers stop after their batch
	}
	if !k.state.CompareAndSwap(stateRunning, stateHalting) {
		return ErrClosed
	}
	for k.submitting.busy() {
		time.Sleep(10 * time.Microsecond) // a Submit is between its check and its push
	}
	k.waitQuiescent(ctx)
	k.stopFlag.Store(true)
	close(k.stop)
	for _, w := range k.workers {
		k.core.Idle.Wake(w.id)
	}
	k.wg.Wait()
	queued := k.accountQueued()
	if !k.cfg.ExternalLifecycle {
		k.finiModules()
	}
	k.halted = HaltReport{Queued: queued, Stats: k.Stats()}
	k.state.Store(stateHalted)
	k.log.Info("kernel halted", zap.String("id", k.cfg.ID), zap.Uint64("queued", queued))
	if queued > 0 {
		return fmt.Errorf("gmk: halted with %d tasks still queued: %w", queued, context.Cause(ctx))
	}
	return nil
}

// HaltReport is what Halt found.
type HaltReport struct {
	Queued uint64 // tasks still queued when the workers stopped (released)
	Stats  Stats  // final counters
}

// Halted returns the report of a completed Halt.
func (k *Kernel) Halted() (HaltReport, bool) {
	if k.state.Load() != stateHalted {
		return HaltReport{}, false
	}
	return k.halted, true
}

// waitQuiescent returns when every worker is parked with nothing queued
// anywhere (stable across two observations), or when ctx is done.
func (k *Kernel) waitQuiescent(ctx context.Context) {
	var tick *time.Ticker
	for {
		w0 := k.wakeSum()
		if k.core.Idle.Parked() == len(k.workers) && k.pending() == 0 && k.wakeSum() == w0 {
			break
		}
		if tick == nil {
			tick = time.NewTicker(100 * time.Microsecond)
		}
		select {
		case <-ctx.Done():
			tick.Stop()
			return
		case <-tick.C:
		}
	}
	if tick != nil {
		tick.Stop()
	}
}

func (k *Kernel) wakeSum() uint64 {
	var s uint64
	for _, w := range k.workers {
		s += w.wakes.Load()
	}
	return s
}

// pending counts work visible from outside the workers: shared queues,
// subscription queues and the published LQ and EVQ depths.
func (k *Kernel) pending() int {
	n := k.core.SharedLen()
	for _, c := range k.chans.All() {
		n += c.Depth()
		if s := c.Sub(channel.ErrorSub); s != nil {
			n += s.Len()
		}
	}
	for _, w := range k.workers {
		n += int(w.lqDepth.Load() + w.evqDepth.Load() + w.holdN.Load())
	}
	if k.det != nil {
		n += int(k.det.count.Load())
	}
	return n + int(k.deferred.count.Load())
}

// accountQueued empties every queue after the workers stopped, counts the
// tasks and releases their payloads.
func (k *Kernel) accountQueued() uint64 {
	var n uint64
	release := func(t *Task) {
		n++
		if t.Payload != 0 {
			_ = k.arena.Release(alloc.Handle(t.Payload))
		}
	}
	k.core.DrainShared(release)
	for _, w := range k.workers {
		w.l.LQ.Drain(release)
		w.drainEVQ(release)
		w.drainHeld(release)
		for i := range w.holdWait {
			release(&w.holdWait[i])
		}
		w.holdWait = nil
		w.out.Drain(release)
	}
	k.drainDeferred(release)
	k.drainDet(release)
	var buf [64]Task
	for _, c := range k.chans.All() {
		subs := append([]*channel.Sub{c.Sub(channel.ErrorSub)}, c.Subs()...)
		for _, s := range subs {
			for s != nil {
				m := s.Drain(buf[:])
				if m == 0 {
					break
				}
				for i := range buf[:m] {
					release(&buf[i])
				}
			}
		}
	}
	return n
}

// enter admits a producer from outside the kernel (Submit, ChanEmit and
// their batch forms): it holds the gate until the caller's push is done, so
// that Halt, which waits for the gate to empty after it stops admitting, never
// misses a task pushed behind its back. ok is false once Halt began.
func (k *Kernel) enter(p unsafe.Pointer) (g *atomic.Int64, ok bool) {
	g = k.submitting.enter(p)
	for k.world.req.Load() { // a snapshot stops the world: wait outside the gate
		g.Add(-1)
		k.waitWorld()
		g = k.submitting.enter(p)
	}
	return g, k.state.Load() == stateRunning
}

// gate counts outside producers between their state check and their push, so
// that Halt can wait for them. It is sharded by the caller's stack address:
// concurrent producers (different goroutines, different stacks) mostly touch
// different cache lines, and no goroutine id is needed.
type gate struct {
	shards [8]struct {
		n atomic.Int64
		_ [cacheLinePad - 8]byte
	}
}

const cacheLinePad = 128

func (g *gate) enter(p unsafe.Pointer) *atomic.Int64 {
	c := &g.shards[(uintptr(p)>>10)%uintptr(len(g.shards))].n
	c.Add(1)
	return c
}

func (g *gate) busy() bool {
	for i := range g.shards {
		if g.shards[i].n.Load() != 0 {
			return true
		}
	}
	return false
}
