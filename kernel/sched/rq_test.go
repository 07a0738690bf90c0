package sched

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// mkTask returns a task of type typ and priority prio carrying id in Meta0.
func mkTask(typ uint32, prio int, id uint64) task.Task {
	t := task.Task{Type: typ, Meta0: id}
	t.SetPriority(prio)
	return t
}

// fillRQ pushes n tasks of priority p, ids base, base+1, …
func fillRQ(t *testing.T, q *RQ, p, n int, base uint64) {
	t.Helper()
	for i := range n {
		tk := mkTask(0, p, base+uint64(i))
		if !q.Push(&tk) {
			t.Fatalf("push %d of priority %d: full", i, p)
		}
	}
}

// popPriority pops one batch and returns its size and its (single) priority.
func popPriority(t *testing.T, q *RQ, dst []task.Task, c *Cursor) (int, int) {
	t.Helper()
	n := q.PopBatch(dst, c)
	if n == 0 {
		return 0, -1
	}
	p := dst[0].Priority()
	for i := range dst[:n] {
		if dst[i].Priority() != p {
			t.Fatalf("batch mixes priorities %d and %d", p, dst[i].Priority())
		}
	}
	return n, p
}

// [S2] The Cursor's schedule is the smooth weighted round robin of 8/4/2/1: a
// fixed cycle of WeightSum picks.
func TestS2_ScheduleCycle(t *testing.T) {
	want := []int{0, 1, 0, 2, 0, 1, 0, 3, 0, 1, 0, 2, 0, 1, 0}
	var c Cursor
	for lap := range 3 {
		for i, w := range want {
			if got := c.peek(); got != w {
				t.Fatalf("lap %d step %d: pick %d, want %d", lap, i, got, w)
			}
			c.spend(c.peek())
		}
		if c != (Cursor{}) {
			t.Fatalf("lap %d: credits %v, want all zero after a cycle", lap, c.credit)
		}
	}
}

// [S2] Under full load the tasks popped per priority are exactly proportional to
// 8:4:2:1, and priority p is served at least every 2, 4, 8, 15 batches. Formula: with batch size B, every window of WeightSum (15) consecutive
// PopBatch calls takes weights[p]*B tasks of priority p, so after 15n calls
// popped[p] = n*weights[p]*B.
func TestS2_WeightedRatioUnderFullLoad(t *testing.T) {
	const B, laps = 4, 10
	q := NewRQ(laps * 8 * B)
	for p := range task.NumPriorities {
		fillRQ(t, q, p, laps*8*B, 0) // enough that no ring runs dry: full load
	}
	var c Cursor
	dst := make([]task.Task, B)
	var total, window, last [task.NumPriorities]int
	maxGap := [task.NumPriorities]int{2, 4, 8, 15} // low priorities progress
	for call := 1; call <= WeightSum*laps; call++ {
		n, p := popPriority(t, q, dst, &c)
		if n != B {
			t.Fatalf("call %d: batch of %d, want %d", call, n, B)
		}
		if gap := call - last[p]; gap > maxGap[p] {
			t.Fatalf("call %d: priority %d waited %d batches, max %d", call, p, gap, maxGap[p])
		}
		last[p] = call
		total[p] += n
		window[p] += n
		if call%WeightSum == 0 {
			for p, w := range weights {
				if window[p] != int(w)*B {
					t.Fatalf("window ending at call %d: %v, want weights×%d", call, window, B)
				}
			}
			window = [task.NumPriorities]int{}
		}
	}
	for p, w := range weights {
		if want := laps * int(w) * B; total[p] != want {
			t.Errorf("priority %d: popped %d, want %d (n·w·B)", p, total[p], want)
		}
	}
}

// [S2] Low priorities progress: under a flood of priority 0 that is refilled
// after every pop, a priority-p task waits at most 2, 4, 8, 15 batches.
func TestS2_LowPrioritiesProgress(t *testing.T) {
	maxWait := [task.NumPriorities]int{2, 4, 8, 15}
	for p := 1; p < task.NumPriorities; p++ {
		q := NewRQ(64)
		fillRQ(t, q, 0, 64, 0)
		rare := mkTask(0, p, 999)
		q.Push(&rare)
		var c Cursor
		dst := make([]task.Task, 8)
		found := 0
		for call := 1; call <= maxWait[p] && found == 0; call++ {
			n, got := popPriority(t, q, dst, &c)
			if got == p {
				found = call
			}
			if got == 0 {
				fillRQ(t, q, 0, n, 0) // refill the flood
			}
		}
		if found == 0 {
			t.Errorf("priority %d: not popped within %d batches of a priority-0 flood", p, maxWait[p])
		}
	}
}

// [S2] Fall-through: when the picked priority is empty the batch comes from the
// next non-empty priority in cyclic order; a call on an empty RQ spends nothing.
func TestS2_FallThroughWhenEmpty(t *testing.T) {
	q := NewRQ(64)
	fillRQ(t, q, 1, 32, 0)
	fillRQ(t, q, 3, 32, 100)
	// Priorities 1 and 3 queued. Picks 0 1 0 2 0 1 0 3 serve 1 1 1 3 1 1 1 3:
	// an empty 0 falls through to 1, an empty 2 to 3.
	picks := []int{0, 1, 0, 2, 0, 1, 0, 3}
	served := []int{1, 1, 1, 3, 1, 1, 1, 3}
	var c Cursor
	dst := make([]task.Task, 2)
	for i := range picks {
		if got := c.peek(); got != picks[i] {
			t.Fatalf("step %d: pick %d, want %d", i, got, picks[i])
		}
		if _, p := popPriority(t, q, dst, &c); p != served[i] {
			t.Fatalf("step %d: served priority %d, want %d", i, p, served[i])
		}
	}
	// Only priority 0 left non-empty: slot 1 (next pick) falls through 1,2,3 and
	// wraps to 0.
	q2 := NewRQ(8)
	fillRQ(t, q2, 0, 8, 0)
	c = Cursor{}
	c.spend(c.peek()) // next pick is priority 1
	if _, p := popPriority(t, q2, dst, &c); p != 0 {
		t.Fatalf("wrap-around fall-through served %d, want 0", p)
	}
	// Empty: 0 and the cursor does not move.
	empty, before := NewRQ(8), c
	if n := empty.PopBatch(dst, &c); n != 0 || c != before {
		t.Fatalf("empty RQ: popped %d, cursor %v → %v", n, before, c)
	}
}

// [S2] Push rejects a task whose priority ring is full; other priorities still
// accept. PushBatch pushes a prefix, grouping same-priority runs.
func TestS2_PushFullAndPushBatchPrefix(t *testing.T) {
	q := NewRQ(4)
	fillRQ(t, q, 2, 4, 0)
	extra := mkTask(0, 2, 9)
	if q.Push(&extra) {
		t.Fatal("push into a full priority ring succeeded")
	}
	other := mkTask(0, 0, 10)
	if !q.Push(&other) {
		t.Fatal("push into another priority failed")
	}
	// 3 more of priority 0 fit (capacity 4), the 4th does not: prefix of 1+3.
	ts := []task.Task{mkTask(0, 1, 1), mkTask(0, 0, 2), mkTask(0, 0, 3), mkTask(0, 0, 4),
		mkTask(0, 0, 5), mkTask(0, 1, 6)}
	if n := q.PushBatch(ts); n != 4 {
		t.Fatalf("PushBatch = %d, want 4", n)
	}
	if got := q.Len(); got != 4+1+4 {
		t.Fatalf("Len = %d, want 9", got)
	}
	if got := NewRQ(-1).Cap(); got != 2 {
		t.Fatalf("NewRQ(-1).Cap() = %d, want the smallest ring (2)", got)
	}
}

// [S2] [R2] Stress: producers push (single and batch) tasks of random
// priorities while consumers pop weighted batches; every task is popped exactly
// once, and each consumer sees each producer's tasks of one priority in order.
func TestS2_RQStress(t *testing.T) {
	const producers, consumers, perProducer = 4, 3, 5000
	const total = producers * perProducer
	q := NewRQ(256)
	var popped atomic.Int64
	seen := make([][]uint64, consumers)
	var wg sync.WaitGroup
	for pr := range producers {
		wg.Go(func() { produceRQ(q, pr, perProducer) })
	}
	for cn := range consumers {
		wg.Go(func() { seen[cn] = consumeRQ(t, q, &popped, total, perProducer) })
	}
	wg.Wait()
	counts := make([]int, total)
	for _, ids := range seen {
		for _, id := range ids {
			counts[id]++
		}
	}
	for id, n := range counts {
		if n != 1 {
			t.Fatalf("task %d popped %d times", id, n)
		}
	}
	if q.Len() != 0 {
		t.Fatalf("Len = %d after draining", q.Len())
	}
}

// produceRQ pushes n tasks with ids pr*n.. (priority id%4), alternating single
// pushes and batches of 7, retrying while full.
func produceRQ(q *RQ, pr, n int) {
	var batch [7]task.Task
	for i := 0; i < n; {
		if i%2 == 0 {
			tk := mkTask(0, i%task.NumPriorities, uint64(pr*n+i))
			for !q.Push(&tk) {
				runtime.Gosched()
			}
			i++
			continue
		}
		k := min(len(batch), n-i)
		for j := range k {
			batch[j] = mkTask(0, (i+j)%task.NumPriorities, uint64(pr*n+i+j))
		}
		for off := 0; off < k; {
			if m := q.PushBatch(batch[off:k]); m > 0 {
				off += m
			} else {
				runtime.Gosched()
			}
		}
		i += k
	}
}

// consumeRQ pops until all total tasks are popped and returns the ids it got,
// checking per-priority FIFO of each producer's tasks (per consumer, the
// positions it pops in one ring only grow).
func consumeRQ(t *testing.T, q *RQ, popped *atomic.Int64, total, perProducer int) []uint64 {
	var c Cursor
	dst := make([]task.Task, 16)
	var ids []uint64
	last := map[uint64]uint64{} // producer*4+priority → last id + 1
	for popped.Load() < int64(total) {
		n := q.PopBatch(dst, &c)
		if n == 0 {
			runtime.Gosched()
			continue
		}
		for _, tk := range dst[:n] {
			key := tk.Meta0/uint64(perProducer)*task.NumPriorities + uint64(tk.Priority())
			if tk.Meta0+1 <= last[key] {
				t.Errorf("task %d after %d: FIFO broken", tk.Meta0, last[key]-1)
			}
			last[key] = tk.Meta0 + 1
			ids = append(ids, tk.Meta0)
		}
		popped.Add(int64(n))
	}
	return ids
}
