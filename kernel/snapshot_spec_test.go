package kernel

// Spec test of snapshots and replay ([F5]; issue 7 acceptance 4): snapshot
// → crash → restart → replay: every IDEMPOTENT task runs, none twice after
// its end was journaled; the others are listed, not replayed.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/kernel/task"
)

// runLog counts runs per (type, Meta0) across kernels.
type runLog struct {
	mu   sync.Mutex
	runs map[[2]uint64]int
}

func (l *runLog) add(t *Task) {
	l.mu.Lock()
	if l.runs == nil {
		l.runs = map[[2]uint64]int{}
	}
	l.runs[[2]uint64{uint64(t.Type), t.Meta0}]++
	l.mu.Unlock()
}

func (l *runLog) count(typ uint32, meta uint64) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.runs[[2]uint64{uint64(typ), meta}]
}

func TestF5_SnapshotCrashReplay(t *testing.T) {
	const tRetry, tQ1, tQ2 = 1, 2, 3
	idem := func(x Task, on bool) Task {
		if on {
			x.Flags |= task.Idempotent
		}
		return x
	}
	mods := func(log *runLog, failFirst bool) []Module {
		rec := func(c *Ctx) Status {
			log.add(c.Task())
			if failFirst && c.Task().Type == tRetry {
				return Retry // parked in the event queue for an hour
			}
			if string(c.Payload()) != "p" {
				return FailCode(-9) // the payload must survive the replay
			}
			return OK
		}
		return []Module{{Name: "work", Handlers: []Handler{{Type: tRetry, Fn: rec}, {Type: tQ1, Fn: rec}, {Type: tQ2, Fn: rec}},
			Channels: []ChanDecl{
				{Name: "test.q1", Dir: Consume, Type: tQ1, Guarantee: Lossless},
				{Name: "test.q2", Dir: Consume, Type: tQ2, Guarantee: Lossless}}}}
	}
	var journal bytes.Buffer
	logA := &runLog{}
	a := fxBoot(t, BootConfig{Workers: 2, Journal: &journal,
		Retry: RetryPolicy{Max: 8, Min: time.Hour, Cap: time.Hour}}, mods(logA, true)...)
	payload := func(k *Kernel, x Task) Task {
		h, buf, err := k.Alloc(0, 1)
		if err != nil {
			t.Fatal(err)
		}
		buf[0] = 'p'
		x.Payload, x.PayloadLen = h, 1
		return x
	}
	// 20 idempotent + 5 other tasks that fail once and wait in event queues.
	for i := range 25 {
		if err := a.Submit(payload(a, idem(Task{Type: tRetry, Meta0: uint64(i)}, i < 20))); err != nil {
			t.Fatal(err)
		}
	}
	fxWait(t, "the retries parked", func() bool { return a.Stats().Retried == 25 })
	// Deliveries held in two paused subscription queues.
	q1, _ := a.Chan("test.q1")
	q2, _ := a.Chan("test.q2")
	for _, q := range []ChanID{q1, q2} {
		if err := a.ChanPause(q, 0, true); err != nil {
			t.Fatal(err)
		}
		typ := uint32(tQ1)
		if q == q2 {
			typ = tQ2
		}
		for i := range 12 {
			if err := a.ChanEmit(q, payload(a, idem(Task{Type: typ, Meta0: uint64(i)}, i < 10))); err != nil {
				t.Fatal(err)
			}
		}
	}
	var snap bytes.Buffer
	n, err := a.Snapshot(&snap)
	if err != nil || n != 25+24 {
		t.Fatalf("snapshot of %d tasks: %v, want %d", n, err, 25+24)
	}
	// After the snapshot q1's deliveries run (their ends are journaled); then
	// the kernel "crashes": halted at once, what was queued is gone.
	if err := a.ChanPause(q1, 0, false); err != nil {
		t.Fatal(err)
	}
	fxWait(t, "q1's deliveries", func() bool { return a.Stats().Completed == 12 })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Halt(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("crash: %v", err)
	}

	s, err := ReadSnapshot(bytes.NewReader(snap.Bytes()))
	if err != nil || len(s.Entries) != n || s.Kernel != "cpu.0" {
		t.Fatalf("read back: %v (%d entries)", err, len(s.Entries))
	}
	ends, err := ReadJournal(bytes.NewReader(journal.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	logB := &runLog{}
	b := fxBoot(t, BootConfig{Workers: 2}, mods(logB, false)...)
	r, err := b.Replay(s, ends)
	if err != nil {
		t.Fatal(err)
	}
	if r.Ended != 12 || r.Replayed != 20+10 || len(r.Skipped) != 5+2 {
		t.Fatalf("replay: ended %d replayed %d skipped %d, want 12, 30, 7", r.Ended, r.Replayed, len(r.Skipped))
	}
	for _, e := range r.Skipped {
		if e.Task.Flags&task.Idempotent != 0 {
			t.Fatalf("an idempotent task was listed: %+v", e.Task)
		}
	}
	st := haltOK(t, b).Stats
	if st.Completed != 30 || st.Errored != 0 {
		t.Fatalf("after the replay: %v", st)
	}
	for i := range 20 {
		if logB.count(tRetry, uint64(i)) != 1 {
			t.Fatalf("idempotent retried task %d ran %d times after the replay", i, logB.count(tRetry, uint64(i)))
		}
	}
	for i := range 12 {
		want := 0
		if i < 10 {
			want = 1 // q2's idempotent deliveries: never ran on A
		}
		if logB.count(tQ2, uint64(i)) != want || logB.count(tQ1, uint64(i)) != 0 {
			t.Fatalf("delivery %d: q1 ran %d, q2 ran %d times on B", i, logB.count(tQ1, uint64(i)), logB.count(tQ2, uint64(i)))
		}
	}
	if _, err := ReadSnapshot(bytes.NewReader(snap.Bytes()[:snap.Len()-3])); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("truncated snapshot: %v", err)
	}
}

// [F5][K2] Snapshots taken while a pipeline runs at full speed — producers
// outside, stages emitting inside — stop and resume it cleanly: nothing is
// lost or run twice, and the accounting holds.
func TestF5_SnapshotUnderLoad(t *testing.T) {
	var done atomic.Int64
	k := fxBoot(t, BootConfig{Workers: 2},
		stageModule("s1", "test.in", "test.mid", 1, &done),
		stageModule("s2", "test.mid", "", 2, &done))
	in, _ := k.Chan("test.in")
	const total = 50_000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range total {
			if err := k.ChanEmitWait(context.Background(), in, Task{Type: 1, Meta0: uint64(i)}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	snaps := 0
	for done.Load() < total && snaps < 50 {
		if _, err := k.Snapshot(io.Discard); err != nil {
			t.Fatal(err)
		}
		snaps++
	}
	wg.Wait()
	fxWait(t, "the pipeline", func() bool { return done.Load() == total })
	r := haltOK(t, k)
	checkIdentity(t, r)
	if r.Stats.Completed != 2*total || snaps == 0 {
		t.Fatalf("completed %d after %d snapshots", r.Stats.Completed, snaps)
	}
}
