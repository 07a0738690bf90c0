package alloc

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
)

// Stress parameters: small enough for a few seconds under -race on 2 cores, big
// enough that bins run empty and handles cross goroutines all the time.
const (
	stressWorkers = 4
	stressOps     = 15000
	stressTenants = 2
	stressHeld    = 48 // blocks a worker holds at most
)

// tally counts what a stress worker did, per tenant and bin, to be compared with
// the arena's Stats.
type tally struct {
	allocs, fails, stale [stressTenants][NumBins]uint64
	oversize             [stressTenants]uint64
	peak                 [stressTenants][NumBins]int // most blocks this worker held at once
}

// held is one reference a worker owns: the handle and the signature its
// allocator wrote into the block.
type held struct {
	h   Handle
	sig uint64
	n   int
}

// stressWorker runs one goroutine of TestA3_BlockStress.
type stressWorker struct {
	t     *testing.T
	a     *Arena
	rng   *rand.Rand
	id    uint64
	seq   uint64
	mine  []held
	dead  []Handle // handles this worker freed itself (sole reference)
	wire  chan held
	tally tally
}

// sign writes a block's signature at its start and end (n >= 16).
func sign(b []byte, sig uint64) {
	if len(b) >= 16 {
		binary.LittleEndian.PutUint64(b, sig)
		binary.LittleEndian.PutUint64(b[len(b)-8:], ^sig)
	}
}

// check verifies the signature of a block we hold a reference to.
func (w *stressWorker) check(x held) {
	b, err := w.a.Bytes(x.h, x.n)
	if err != nil {
		w.t.Errorf("Bytes(%v) of a held block: %v", x.h, err)
		return
	}
	if len(b) >= 16 && (binary.LittleEndian.Uint64(b) != x.sig || binary.LittleEndian.Uint64(b[len(b)-8:]) != ^x.sig) {
		w.t.Errorf("block %v corrupted: signature %#x, want %#x", x.h, binary.LittleEndian.Uint64(b), x.sig)
	}
}

// alloc allocates a block of a random size for a random tenant.
func (w *stressWorker) alloc() {
	tn, n := w.rng.IntN(stressTenants), w.rng.IntN(1<<w.rng.IntN(16))
	if w.rng.IntN(500) == 0 {
		n = MaxBlock + 1
	}
	h, b, err := w.a.Alloc(tn, n)
	switch {
	case err == nil:
		w.seq++
		x := held{h: h, sig: w.id<<48 | w.seq, n: n}
		sign(b, x.sig)
		w.mine = append(w.mine, x)
		w.tally.allocs[tn][h.Bin()]++
		w.notePeak(h)
	case !errors.Is(err, ErrAllocFail):
		w.t.Errorf("Alloc(%d, %d): %v", tn, n, err)
	case n > MaxBlock:
		w.tally.oversize[tn]++
	default:
		w.tally.fails[tn][binFor(n)]++
	}
}

// notePeak records how many distinct blocks of h's bin the worker now holds.
func (w *stressWorker) notePeak(h Handle) {
	distinct := make(map[Handle]bool)
	for _, m := range w.mine {
		if m.h.Tenant() == h.Tenant() && m.h.Bin() == h.Bin() {
			distinct[m.h] = true
		}
	}
	p := &w.tally.peak[h.Tenant()][h.Bin()]
	*p = max(*p, len(distinct))
}

// release drops a random held reference; a sole reference becomes a dead handle.
func (w *stressWorker) release() {
	if len(w.mine) == 0 {
		return
	}
	k := w.rng.IntN(len(w.mine))
	x := w.mine[k]
	w.mine[k] = w.mine[len(w.mine)-1]
	w.mine = w.mine[:len(w.mine)-1]
	w.check(x)
	// refs == 1 while we hold a reference: no one else holds one, and only a
	// holder could add one, so our release frees the block.
	sole := w.a.Refs(x.h) == 1
	if err := w.a.Release(x.h); err != nil {
		w.t.Errorf("Release(%v) of a held reference: %v", x.h, err)
	}
	if sole && len(w.dead) < 64 {
		w.dead = append(w.dead, x.h)
	}
}

// send retains a held block and hands the new reference to another worker.
func (w *stressWorker) send() {
	if len(w.mine) == 0 {
		return
	}
	x := w.mine[w.rng.IntN(len(w.mine))]
	if err := w.a.Retain(x.h); err != nil {
		w.t.Errorf("Retain(%v): %v", x.h, err)
		return
	}
	select {
	case w.wire <- x:
	default:
		w.check(x)
		if err := w.a.Release(x.h); err != nil {
			w.t.Errorf("Release(%v) of an unsent copy: %v", x.h, err)
		}
	}
}

// recv takes a reference another worker sent.
func (w *stressWorker) recv() {
	select {
	case x := <-w.wire:
		w.mine = append(w.mine, x)
	default:
	}
}

// misuse uses a handle this worker freed: it must get ErrStale whatever the
// slot's new owner (another worker, maybe) is doing with it.
func (w *stressWorker) misuse() {
	if len(w.dead) == 0 {
		return
	}
	h := w.dead[w.rng.IntN(len(w.dead))]
	var err error
	if w.rng.IntN(2) == 0 {
		err = w.a.Release(h)
	} else {
		err = w.a.Retain(h)
	}
	if !errors.Is(err, ErrStale) {
		w.t.Errorf("stale handle %v: %v, want ErrStale", h, err)
	}
	w.tally.stale[h.Tenant()][h.Bin()]++
}

// run performs the worker's random operations.
func (w *stressWorker) run() {
	for range stressOps {
		switch op := w.rng.IntN(16); {
		case op < 6 && len(w.mine) < stressHeld:
			w.alloc()
		case op < 10:
			w.release()
		case op < 12:
			w.send()
		case op < 14:
			w.recv()
		default:
			w.misuse()
		}
	}
}

// [A3] Several goroutines allocate, share (retain and hand over), release and
// misuse blocks of random sizes for two tenants at once. No block is corrupted,
// no reference is lost, and once everything is released the stats equal the
// operations made, exactly, and Live() is 0. [A5] runs along: stale handles are
// used while their slots serve new owners.
func TestA3_BlockStress(t *testing.T) {
	a := newTestArena(t, Config{Size: 1 << 20, Tenants: stressTenants})
	wire := make(chan held, 32)
	ws := make([]*stressWorker, stressWorkers)
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = &stressWorker{t: t, a: a, rng: rand.New(rand.NewPCG(uint64(i), 42)), id: uint64(i + 1), wire: wire}
		wg.Go(ws[i].run)
	}
	wg.Wait()
	close(wire)
	for x := range wire {
		ws[0].mine = append(ws[0].mine, x)
	}
	var sum tally
	for _, w := range ws {
		for len(w.mine) > 0 {
			w.release()
		}
		sum.add(&w.tally)
	}
	if a.Live() != 0 {
		t.Fatalf("Live() = %d after every reference was released", a.Live())
	}
	for tn := range stressTenants {
		checkStressStats(t, tn, a.Stats(tn), &sum)
	}
}

// add sums another worker's tally into s (peaks: the largest).
func (s *tally) add(o *tally) {
	for tn := range stressTenants {
		s.oversize[tn] += o.oversize[tn]
		for b := range NumBins {
			s.allocs[tn][b] += o.allocs[tn][b]
			s.fails[tn][b] += o.fails[tn][b]
			s.stale[tn][b] += o.stale[tn][b]
			s.peak[tn][b] = max(s.peak[tn][b], o.peak[tn][b])
		}
	}
}

// checkStressStats compares one tenant's stats with what the workers did.
func checkStressStats(t *testing.T, tn int, s Stats, sum *tally) {
	t.Helper()
	var allocs, fails, stale uint64
	for b, bs := range s.Bins {
		want := KindStats{Total: bs.Total, Free: bs.Total, HighWater: bs.HighWater,
			Allocs: sum.allocs[tn][b], Frees: sum.allocs[tn][b], Fails: sum.fails[tn][b], Misuse: sum.stale[tn][b]}
		if bs != want {
			t.Errorf("tenant %d bin %d: stats %+v, want %+v", tn, b, bs, want)
		}
		// High watermark: at least what one worker held at once, at most all.
		if low := uint64(sum.peak[tn][b] * BinSize(b)); bs.HighWater < low || bs.HighWater > bs.Total {
			t.Errorf("tenant %d bin %d: high watermark %d outside [%d, %d]", tn, b, bs.HighWater, low, bs.Total)
		}
		allocs, fails, stale = allocs+want.Allocs, fails+want.Fails, stale+want.Misuse
	}
	if s.Block.Allocs != allocs || s.Block.Frees != allocs || s.Block.Fails != fails+sum.oversize[tn] ||
		s.Block.Misuse != stale || s.Block.Free != s.Block.Total {
		t.Errorf("tenant %d block stats %+v: want %d allocs and frees, %d fails, %d misuses",
			tn, s.Block, allocs, fails+sum.oversize[tn], stale)
	}
	if allocs == 0 || fails == 0 || stale == 0 {
		t.Errorf("tenant %d: the stress did not exercise every path: %d allocs, %d fails, %d stale", tn, allocs, fails, stale)
	}
}

// [A3] Several goroutines allocate and free slab objects of one tenant; every
// object has one owner at a time and the stats equal the operations made.
func TestA3_SlabStress(t *testing.T) {
	a := newTestArena(t, Config{Size: MinSize})
	var wg sync.WaitGroup
	var allocs, fails [stressWorkers]uint64
	for w := range stressWorkers {
		wg.Go(func() { allocs[w], fails[w] = slabWorker(t, a.Slab(0), w) })
	}
	wg.Wait()
	var n, f uint64
	for w := range stressWorkers {
		n, f = n+allocs[w], f+fails[w]
	}
	st := a.Stats(0).Slab
	if st.Allocs != n || st.Frees != n || st.Fails != f || st.Free != st.Total || st.Misuse != 0 ||
		st.HighWater > st.Total || st.HighWater == 0 {
		t.Fatalf("slab stats %+v, want %d allocs and frees, %d fails", st, n, f)
	}
}

// slabWorker is one goroutine of TestA3_SlabStress: it stamps every object it
// holds with its id and checks the stamp before freeing. It frees everything it
// holds before it returns its alloc and fail counts.
func slabWorker(t *testing.T, s *Slab, w int) (allocs, fails uint64) {
	rng := rand.New(rand.NewPCG(uint64(w), 7))
	var mine []uint32
	for range stressOps {
		if rng.IntN(2) == 0 && len(mine) < s.Len()/2 {
			i, ok := s.Alloc()
			if !ok {
				fails++
				continue
			}
			allocs++
			binary.LittleEndian.PutUint32(s.Node(i), uint32(w)<<24|i)
			mine = append(mine, i)
			continue
		}
		if len(mine) == 0 {
			continue
		}
		i := mine[len(mine)-1]
		mine = mine[:len(mine)-1]
		if got := binary.LittleEndian.Uint32(s.Node(i)); got != uint32(w)<<24|i {
			t.Errorf("slab object %d of worker %d holds %#x", i, w, got)
		}
		s.Free(i)
	}
	for _, i := range mine {
		s.Free(i)
	}
	return allocs, fails
}
