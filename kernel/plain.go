package kernel

// plainCount accumulates the counters of runTask's short path for one task
// type and tenant: the dequeued count of the tasks it started and the
// completed counts (by tenant and by type) of those that returned OK. The
// shard gets them when the entry is taken for another type or tenant,
// before a failure or a yield is handled (flushCounts), and at the end of
// each dispatch — before anything can read the shard's totals — so three
// counter adds per task become two increments. Owner only.
type plainCount struct {
	typ     uint32
	tenant  uint16
	started uint32
	done    uint32
}

// plainCounts is a worker's direct-mapped set of plainCount, by type.
type plainCounts [8]plainCount

// retakePlain gives p, the entry of t's type, to t's type and tenant,
// flushing what another left in it (runTask, on a miss).
func (w *worker) retakePlain(p *plainCount, t *Task) {
	w.flushPlainEntry(p)
	p.typ, p.tenant = t.Type, t.Tenant
}

// flushCounts adds every count accumulated by runTask's short path and by
// chanEmit's route handoffs (chanEntry.n) to the shards.
func (w *worker) flushCounts() {
	for i := range w.plain {
		if p := &w.plain[i]; p.started|p.done != 0 {
			w.flushPlainEntry(p)
		}
	}
	for i := range w.chans1 {
		if w.chans1[i].n != 0 {
			w.flushRoute(&w.chans1[i])
		}
	}
}

// flushPlainEntry adds p's counts to the shard. A flush while a task of p
// runs (PublishChanStats in its handler) takes its start, and its
// completion follows alone: started and done are flushed apart.
func (w *worker) flushPlainEntry(p *plainCount) {
	k, sh := w.k, w.l.Shard
	if p.started > 0 {
		sh.Add(k.layout.deq+int(p.tenant), uint64(p.started))
	}
	if p.done > 0 {
		sh.Add(k.layout.tenOK+int(p.tenant), uint64(p.done)) // Stats.Completed sums these
		sh.Add(k.layout.typeOK+int(p.typ)*3, uint64(p.done))
	}
	p.started, p.done = 0, 0
}
