package channel

import (
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/kernel/metrics"
	"github.com/gmkernel/gmk/kernel/sched"
	"github.com/gmkernel/gmk/kernel/task"
)

// The concurrency tests start emitters and drainers; every one must be gone
// when they return.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// dropRec is one copy handed to Env.Dropped.
type dropRec struct {
	From int
	Task task.Task
	Code task.Status
}

// refRec is one Env.AddRefs call.
type refRec struct {
	Payload uint64
	N       int
}

// recEnv is the kernel side of a channel as the tests see it: it keeps every
// dropped copy, every reference added and every wake, in call order. Safe for
// concurrent emitters. Appends within the slices' capacity do not
// allocate, so the zero-allocation tests can use it after reset.
type recEnv struct {
	mu      sync.Mutex
	dropped []dropRec
	refs    []refRec
	wakes   []int
}

var _ Env = (*recEnv)(nil)

func newRecEnv() *recEnv {
	return &recEnv{dropped: make([]dropRec, 0, 64), refs: make([]refRec, 0, 64), wakes: make([]int, 0, 64)}
}

func (e *recEnv) Dropped(from int, t task.Task, code task.Status) {
	e.mu.Lock()
	e.dropped = append(e.dropped, dropRec{From: from, Task: t, Code: code})
	e.mu.Unlock()
}

func (e *recEnv) AddRefs(payload uint64, n int) {
	e.mu.Lock()
	e.refs = append(e.refs, refRec{Payload: payload, N: n})
	e.mu.Unlock()
}

func (e *recEnv) Wake(w int) {
	e.mu.Lock()
	e.wakes = append(e.wakes, w)
	e.mu.Unlock()
}

// reset forgets everything recorded, keeping the capacity.
func (e *recEnv) reset() {
	e.mu.Lock()
	e.dropped, e.refs, e.wakes = e.dropped[:0], e.refs[:0], e.wakes[:0]
	e.mu.Unlock()
}

func (e *recEnv) drops() []dropRec {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]dropRec(nil), e.dropped...)
}

func (e *recEnv) refCalls() []refRec {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]refRec(nil), e.refs...)
}

func (e *recEnv) wakeCalls() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.wakes...)
}

// testMax is the channel limit of the tests' registries.
const testMax = 8

// fixture is one registry with its metrics set, an Env and a non-worker
// emitter (Shard nil: counters go to the shared shard and are visible at once).
type fixture struct {
	reg   *Registry
	stats *metrics.Set
	env   *recEnv
	em    *Emitter
}

func newFixture() *fixture {
	f := &fixture{reg: NewRegistry(testMax), stats: metrics.NewSet((testMax+1)*NumStats, 2), env: newRecEnv()}
	f.em = &Emitter{Worker: -1, Stats: f.stats, Env: f.env}
	return f
}

// open opens spec, failing the test on error.
func (f *fixture) open(t testing.TB, spec Spec) *Channel {
	t.Helper()
	c, _, err := f.reg.Open(spec)
	if err != nil {
		t.Fatalf("Open(%+v): %v", spec, err)
	}
	return c
}

// sub subscribes to c, failing the test on error.
func sub(t testing.TB, c *Channel, home int) *Sub {
	t.Helper()
	s, err := c.Subscribe(home, int32(home))
	if err != nil {
		t.Fatalf("Subscribe(%d): %v", home, err)
	}
	return s
}

// asWorker makes f's emitter worker w of a two-worker enqueue core whose LQs
// hold lqCap tasks (watermark 75 %), and returns w's Local.
func (f *fixture) asWorker(w, lqCap int) *sched.Local {
	core, ls := sched.NewCore(sched.CoreConfig{Workers: 2, QueueCap: 16, LQCap: lqCap, OverflowCap: 4,
		Stats: metrics.NewSet(8, 2)})
	f.em.Worker, f.em.Core, f.em.Local = w, core, ls[w]
	return ls[w]
}

// withOutbox makes f's emitter worker w (asWorker) with an outbox for its
// deliveries to other workers, and returns the outbox.
func (f *fixture) withOutbox(w, lqCap int) *Outbox {
	f.asWorker(w, lqCap)
	f.em.Out = new(Outbox)
	return f.em.Out
}

// stat reads counter k of channel c.
func (f *fixture) stat(c *Channel, k int) uint64 { return f.stats.Value(int(c.ID())*NumStats + k) }

// msgType is the task type of the tests' typed channels.
const msgType = 7

// msg is a task of msgType and priority prio carrying id in Meta0, with
// runtime-owned fields set to junk so header resets are visible.
func msg(prio int, id uint64) task.Task {
	m := task.Task{Type: msgType, Meta0: id, YieldCount: 5, Aux: 9, Seq: 777}
	m.SetPriority(prio)
	return m
}

// emit emits msg(prio, id) and returns the status and copies delivered.
func (f *fixture) emit(c *Channel, prio int, id uint64) (task.Status, int) {
	m := msg(prio, id)
	return c.Emit(f.em, &m)
}

// mustEmit emits and fails the test unless the status is OK.
func (f *fixture) mustEmit(t testing.TB, c *Channel, id uint64) {
	t.Helper()
	if st, _ := f.emit(c, 1, id); st != task.OK {
		t.Fatalf("Emit(%d) = %v, want OK", id, st)
	}
}

// drainAll drains every queued delivery of s.
func drainAll(s *Sub) []task.Task {
	var out []task.Task
	buf := make([]task.Task, 16)
	for {
		n := s.Drain(buf)
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

// ids returns the Meta0 of each task.
func ids(ts []task.Task) []uint64 {
	out := make([]uint64, len(ts))
	for i := range ts {
		out[i] = ts[i].Meta0
	}
	return out
}

// seqs returns the Seq of each task.
func seqs(ts []task.Task) []uint32 {
	out := make([]uint32, len(ts))
	for i := range ts {
		out[i] = ts[i].Seq
	}
	return out
}

// span returns [from, from+1, … to].
func span[T uint32 | uint64](from, to T) []T {
	var out []T
	for v := from; v <= to; v++ {
		out = append(out, v)
	}
	return out
}
