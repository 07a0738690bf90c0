package kernel

import "github.com/gmkernel/gmk/kernel/task"

// Sorted dispatch (BootConfig.SortBatch) is the GPU worker's dispatch ([G1],
// [G3]): the lead warp gathers a batch, sorts it by type, and the block runs
// each homogeneous sub-batch at once. Here the gathered batch is ordered by
// handler before it runs, so each handler gets its tasks as one run — the
// sub-batch a GPU block dispatches together — and Ctx.Run tells a handler
// where its task sits in that run (for a SCALAR handler: the lane the task
// runs on). The simulated GPU kernel (gpu/sim) boots with it; a CPU kernel
// may too.
//
// The key is the handler slot a task dispatches to, which for typed handlers
// is its type's handler: runs are homogeneous by type. Sorting by slot rather
// than by raw type keeps a catch-all handler's deliveries (a relay on an
// untyped channel carrying several types) in one run, in order. The sort is
// stable, so the tasks of one handler keep their gathered order and a
// subscription's deliveries still run in channel order.
//
// Cost: one key lookup per task and an insertion sort, linear for a batch
// that is already homogeneous (what the GRQ hands out) and at most
// BatchSize²/2 moves of two small words otherwise; tasks themselves are not
// moved. Nothing allocates after the worker's first sorted batch.

// sortBuf is a worker's sorted-dispatch state, owned by its goroutine (it
// hangs off the worker's Ctx).
type sortBuf struct {
	key []int32  // handler slot of each position, sorted
	idx []uint16 // batch index of each position (BatchSize ≤ 4096)
	run int      // the running task's index in its run
	n   int      // the running run's length; 0 outside a sorted dispatch
}

// dispatchSorted runs batch grouped by handler, in a stable order.
func (w *worker) dispatchSorted(batch []Task) {
	sb := w.ctx.sorted
	if sb == nil {
		sb = &sortBuf{key: make([]int32, len(w.batch)), idx: make([]uint16, len(w.batch))}
		w.ctx.sorted = sb
	}
	n := len(batch)
	key, idx := sb.key[:n], sb.idx[:n]
	for i := range batch {
		k, x := w.k.slotOf(&batch[i]), uint16(i)
		j := i
		for ; j > 0 && key[j-1] > k; j-- { // stable: equal keys keep their order
			key[j], idx[j] = key[j-1], idx[j-1]
		}
		key[j], idx[j] = k, x
	}
	for start := 0; start < n; {
		end := start + 1
		for end < n && key[end] == key[start] {
			end++
		}
		sb.n = end - start
		for i := start; i < end; i++ {
			sb.run = i - start
			w.runTask(&batch[idx[i]])
		}
		start = end
	}
	sb.run, sb.n = 0, 0
}

// slotOf returns the handler slot t dispatches to (runTask's resolution
// without its checks), or -1 when it has none; runTask reports those.
func (k *Kernel) slotOf(t *Task) int32 {
	if t.Flags&task.ChannelMsg != 0 {
		if c := k.chans.Get(t.ChannelID()); c != nil {
			if s := c.Sub(t.Subscriber()); s != nil {
				return s.Handler
			}
		}
		return -1
	}
	if int(t.Type) < len(k.types) {
		return k.types[t.Type].slot
	}
	return -1
}

// Run returns the running task's place in the homogeneous run its handler
// was dispatched with: index in [0, n), n the run's length ([G3]: on a GPU,
// the lane of a SCALAR task and the number of lanes busy). It is (0, 1) when
// the kernel does not sort batches (BootConfig.SortBatch), in Init and Fini,
// and on the deterministic lane.
func (c *Ctx) Run() (index, n int) {
	if c.sorted == nil || c.sorted.n == 0 || c.det {
		return 0, 1
	}
	return c.sorted.run, c.sorted.n
}
