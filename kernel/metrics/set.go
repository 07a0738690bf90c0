package metrics

import "sync/atomic"

// Set is a group of uint64 counters sharded per worker ([O1]). A worker adds to
// its own Shard with plain, non-atomic arithmetic and publishes what it changed
// with Flush; goroutines that own no shard (control plane, actors, the host) add
// with AddShared, an atomic add on one extra shared shard. Readers sum the
// published values of all shards.
//
// Counters are addressed by index 0..Len()-1; the caller maps (metric, tenant,
// type …) to indices. Values wrap modulo 2^64.
//
// Lag: Value sees a shard's additions once its owner has flushed them. The
// kernel flushes once per worker loop iteration (one batch) and when a worker
// parks or halts, so a reader trails a running worker by at most one batch and
// an idle or stopped one not at all. AddShared is visible at once.
type Set struct {
	shards []Shard         // one per worker, each owned by one goroutine
	shared []atomic.Uint64 // the shared shard: atomic adds from any goroutine
	n      int             // counters per shard
}

// Shard is one worker's slice of a Set. Add, Flush and Local may be called only
// by the shard's owner goroutine (ownership may pass to another goroutine
// through any synchronizing handoff, such as a channel or a WaitGroup).
//
// Fields: cells and dirty are owner-only. pub is written only by the owner, with
// atomic stores in Flush, and loaded by any goroutine in Set.Value; a Flush's
// stores synchronize before the loads that observe them. The cells and pub
// headers are read-only after NewSet; the owner rewrites dirty's length. The
// pads keep the headers of neighbouring shards on separate cache lines.
type Shard struct {
	_     noCopy
	_     [cacheLinePad]byte
	cells []cell          // owner-only: the shard's running totals and dirty marks
	dirty []int32         // owner-only: indices added to since the last Flush; cap = counters
	pub   []atomic.Uint64 // owner Stores (Flush), anyone Loads (Value): the published totals
	_     [cacheLinePad]byte
}

// cell is one counter of a shard as its owner sees it.
type cell struct {
	val   uint64 // running total of the owner's adds
	dirty bool   // val changed since the last Flush; the index is in Shard.dirty
}

// NewSet returns a set of counters with one shard per worker (shards of them)
// plus the shared shard. It panics if counters or shards is negative.
func NewSet(counters, shards int) *Set {
	s := &Set{shards: make([]Shard, shards), n: counters}
	cells := carve[cell](shards, counters)
	pubs := carve[atomic.Uint64](shards+1, counters)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.cells = cells[i]
		sh.dirty = make([]int32, 0, counters)
		sh.pub = pubs[i]
	}
	s.shared = pubs[shards]
	return s
}

// Len returns the number of counters.
func (s *Set) Len() int { return s.n }

// Shards returns the number of worker shards (the shared shard not included).
func (s *Set) Shards() int { return len(s.shards) }

// Shard returns worker i's shard, 0 <= i < Shards().
func (s *Set) Shard(i int) *Shard { return &s.shards[i] }

// Add adds d to counter idx of the shard: a plain add to the owner's array,
// and, on the counter's first change since the last Flush, an append of idx to
// the dirty list (within its capacity, so never an allocation). Owner only.
func (sh *Shard) Add(idx int, d uint64) {
	c := &sh.cells[idx]
	c.val += d
	if !c.dirty {
		c.dirty = true
		sh.dirty = append(sh.dirty, int32(idx))
	}
}

// Inc adds 1 to counter idx of the shard. Owner only.
func (sh *Shard) Inc(idx int) { sh.Add(idx, 1) }

// Local returns the shard's own total of counter idx, flushed or not. Owner only.
func (sh *Shard) Local(idx int) uint64 { return sh.cells[idx].val }

// Flush publishes the counters changed since the last Flush with one atomic
// store each and clears the dirty list. Its cost is proportional to the number
// of counters touched, not to the size of the set. Owner only.
func (sh *Shard) Flush() {
	for _, idx := range sh.dirty {
		c := &sh.cells[idx]
		sh.pub[idx].Store(c.val) // release: readers that load it see the total
		c.dirty = false
	}
	sh.dirty = sh.dirty[:0]
}

// Dirty returns how many counters changed since the last Flush. Owner only.
func (sh *Shard) Dirty() int { return len(sh.dirty) }

// AddShared adds d to counter idx on the shared shard with one atomic add. Any
// goroutine may call it; it is for paths that own no shard, not for workers'
// per-task paths.
func (s *Set) AddShared(idx int, d uint64) { s.shared[idx].Add(d) }

// Value returns counter idx summed over the published values of all shards and
// the shared shard. Any goroutine may call it; see Set for the lag.
func (s *Set) Value(idx int) uint64 {
	v := s.shared[idx].Load()
	for i := range s.shards {
		v += s.shards[i].pub[idx].Load()
	}
	return v
}

// Values stores every counter's Value into dst, growing it if needed, and
// returns it. Any goroutine may call it.
func (s *Set) Values(dst []uint64) []uint64 {
	if cap(dst) < s.n {
		dst = make([]uint64, s.n)
	}
	dst = dst[:s.n]
	for i := range dst {
		dst[i] = s.shared[i].Load()
	}
	for i := range s.shards {
		pub := s.shards[i].pub
		for j := range pub {
			dst[j] += pub[j].Load()
		}
	}
	return dst
}
