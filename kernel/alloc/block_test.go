package alloc

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// mustAlloc allocates or fails the test.
func mustAlloc(t testing.TB, a *Arena, tenant, n int) (Handle, []byte) {
	t.Helper()
	h, b, err := a.Alloc(tenant, n)
	if err != nil {
		t.Fatalf("Alloc(%d, %d): %v", tenant, n, err)
	}
	return h, b
}

// mustRelease releases or fails the test.
func mustRelease(t testing.TB, a *Arena, h Handle) {
	t.Helper()
	if err := a.Release(h); err != nil {
		t.Fatalf("Release(%v): %v", h, err)
	}
}

// [A2] A request goes to the smallest bin that fits it.
func TestA2_BinRouting(t *testing.T) {
	a := newTestArena(t, Config{Size: 8 << 20})
	tests := []struct{ n, bin int }{
		{0, 0}, {1, 0}, {64, 0}, {65, 1}, {128, 1}, {129, 2}, {1000, 4}, {1024, 4},
		{1025, 5}, {4096, 6}, {65536, 10}, {65537, 11}, {MaxBlock, 11},
	}
	for _, tt := range tests {
		h, b := mustAlloc(t, a, 0, tt.n)
		if h.Bin() != tt.bin || len(b) != tt.n || cap(b) != BinSize(tt.bin) {
			t.Errorf("Alloc(%d): bin %d len %d cap %d, want bin %d len %d cap %d",
				tt.n, h.Bin(), len(b), cap(b), tt.bin, tt.n, BinSize(tt.bin))
		}
		if h.Tenant() != 0 || h.Gen() != 1 {
			t.Errorf("Alloc(%d) = %v, want tenant 0 generation 1", tt.n, h)
		}
		mustRelease(t, a, h)
	}
	for _, n := range []int{MaxBlock + 1, -1} {
		if _, _, err := a.Alloc(0, n); !errors.Is(err, ErrAllocFail) || !errors.Is(err, task.ErrAllocFail) {
			t.Errorf("Alloc(%d) = %v, want ErrAllocFail", n, err)
		}
	}
	s := a.Stats(0)
	if s.Block.Fails != 2 || s.Block.Allocs != uint64(len(tests)) || s.Block.Frees != s.Block.Allocs {
		t.Errorf("block stats %+v, want 2 fails and %d allocs and frees", s.Block, len(tests))
	}
	if a.Live() != 0 {
		t.Errorf("Live() = %d after releasing everything", a.Live())
	}
}

// [A2][A3] An empty bin spills into larger bins; when all are empty the request
// fails, counted on the bin it was routed to, and the stats add up.
func TestA2_SpillAndExhaust(t *testing.T) {
	a := newTestArena(t, Config{Size: MinSize})
	before := a.Stats(0)
	want := 0 // blocks a 64-byte request can reach: every block of every bin
	for i, b := range before.Bins {
		want += int(b.Total) / BinSize(i)
	}
	var hs []Handle
	lastBin := 0
	for {
		h, _, err := a.Alloc(0, 10)
		if err != nil {
			if !errors.Is(err, ErrAllocFail) {
				t.Fatalf("Alloc: %v", err)
			}
			break
		}
		if h.Bin() < lastBin {
			t.Fatalf("spilled back from bin %d to bin %d", lastBin, h.Bin())
		}
		lastBin = h.Bin()
		hs = append(hs, h)
	}
	if len(hs) != want || a.Live() != want {
		t.Fatalf("got %d blocks (Live %d), want every block of every bin: %d", len(hs), a.Live(), want)
	}
	s := a.Stats(0)
	if s.Bins[0].Fails != 1 || s.Block.Fails != 1 || s.Block.Free != 0 || s.Block.HighWater != s.Block.Total {
		t.Fatalf("exhausted stats %+v", s.Block)
	}
	for _, h := range hs {
		mustRelease(t, a, h)
	}
	if s := a.Stats(0); s.Block.Free != s.Block.Total || s.Block.Frees != uint64(want) || a.Live() != 0 {
		t.Fatalf("after release: %+v, Live %d", s.Block, a.Live())
	}
}

// [A4] Retain keeps a block alive past one release; the last release frees it;
// AddRefs adds the references of a fan-out at once.
func TestA4_RefcountSemantics(t *testing.T) {
	a := newTestArena(t, Config{Size: 1 << 20})
	h, b := mustAlloc(t, a, 0, 5)
	copy(b, "hello")
	if a.Refs(h) != 1 {
		t.Fatalf("fresh block has %d refs, want 1", a.Refs(h))
	}
	if err := a.Retain(h); err != nil { // a module keeps it past its handler
		t.Fatal(err)
	}
	mustRelease(t, a, h) // the SDK's automatic release at handler return
	got, err := a.Bytes(h, 5)
	if err != nil || string(got) != "hello" || a.Refs(h) != 1 {
		t.Fatalf("retained block: %q, %v, refs %d", got, err, a.Refs(h))
	}
	// Fan-out to 3 subscribers: one reference per copy, added before delivery.
	if err := a.AddRefs(h, 3); err != nil || a.Refs(h) != 4 {
		t.Fatalf("AddRefs(3): %v, refs %d", err, a.Refs(h))
	}
	mustRelease(t, a, h) // the emitter's own reference
	for i := range 3 {
		if a.Live() != 1 {
			t.Fatalf("freed early, before subscriber %d released", i)
		}
		mustRelease(t, a, h)
	}
	if a.Refs(h) != 0 || a.Live() != 0 {
		t.Fatalf("after the last release: refs %d, Live %d", a.Refs(h), a.Live())
	}
	if s := a.Stats(0).Bins[0]; s.Allocs != 1 || s.Frees != 1 || s.Misuse != 0 {
		t.Fatalf("bin stats %+v, want one alloc and one free", s)
	}
}

// [A4] Reference-count limits give ErrBadRefs and change nothing.
func TestA4_RefLimits(t *testing.T) {
	a := newTestArena(t, Config{Size: 1 << 20})
	h, _ := mustAlloc(t, a, 0, 1)
	for _, d := range []int{-1, MaxRefs} {
		if err := a.AddRefs(h, d); !errors.Is(err, ErrBadRefs) {
			t.Errorf("AddRefs(%d) = %v, want ErrBadRefs", d, err)
		}
	}
	if err := a.AddRefs(h, MaxRefs-1); err != nil || a.Refs(h) != MaxRefs {
		t.Fatalf("AddRefs to MaxRefs: %v, refs %d", err, a.Refs(h))
	}
	if err := a.Retain(h); !errors.Is(err, ErrBadRefs) || a.Refs(h) != MaxRefs {
		t.Fatalf("Retain at MaxRefs = %v, refs %d", err, a.Refs(h))
	}
	if err := a.AddRefs(h, 0); err != nil {
		t.Fatalf("AddRefs(0) on a live handle: %v", err)
	}
	if _, err := a.Bytes(h, BinSize(0)+1); !errors.Is(err, ErrBadLength) {
		t.Fatalf("Bytes beyond the block = %v, want ErrBadLength", err)
	}
}

// [A5] Use after free and double free are reported with ErrStale and counted.
func TestA5_UseAfterFreeAndDoubleFree(t *testing.T) {
	a := newTestArena(t, Config{Size: 1 << 20})
	h, _ := mustAlloc(t, a, 0, 100)
	mustRelease(t, a, h)
	checks := []struct {
		name string
		err  error
	}{
		{"Release (double free)", a.Release(h)},
		{"Retain", a.Retain(h)},
		{"AddRefs", a.AddRefs(h, 2)},
	}
	_, err := a.Bytes(h, 1)
	checks = append(checks, struct {
		name string
		err  error
	}{"Bytes", err})
	for _, c := range checks {
		if !errors.Is(c.err, ErrStale) || !errors.Is(c.err, task.ErrStalePayload) {
			t.Errorf("%s after free = %v, want ErrStale", c.name, c.err)
		}
	}
	if a.Refs(h) != 0 {
		t.Errorf("Refs of a freed handle = %d", a.Refs(h))
	}
	if s := a.Stats(0); s.Bins[1].Misuse != 4 || s.Block.Misuse != 4 || s.Bins[1].Frees != 1 {
		t.Errorf("stats after misuse: bin %+v block %+v", s.Bins[1], s.Block)
	}
}

// [A5] A stale handle never touches the block's new owner: the slot comes back
// with the next generation, and the old handle's release, retain and bytes fail
// while the new owner's references and data stay as they were.
func TestA5_StaleAfterReuse(t *testing.T) {
	a := newTestArena(t, Config{Size: MinSize})
	var held []Handle
	for { // take every block of bin 0
		h, _, err := a.Alloc(0, 64)
		if err != nil || h.Bin() != 0 {
			if err == nil {
				mustRelease(t, a, h)
			}
			break
		}
		held = append(held, h)
	}
	old := held[0]
	mustRelease(t, a, old)
	h2, b2 := mustAlloc(t, a, 0, 64) // the only free block of bin 0
	if h2.Slot() != old.Slot() || h2.Bin() != 0 || h2.Gen() != old.Gen()+1 {
		t.Fatalf("reuse got %v, want slot %d of bin 0 at generation %d", h2, old.Slot(), old.Gen()+1)
	}
	copy(b2, "new owner")
	if err := a.Release(old); !errors.Is(err, ErrStale) {
		t.Fatalf("stale Release = %v, want ErrStale", err)
	}
	if err := a.Retain(old); !errors.Is(err, ErrStale) {
		t.Fatalf("stale Retain = %v, want ErrStale", err)
	}
	got, err := a.Bytes(h2, 9)
	if a.Refs(h2) != 1 || err != nil || !bytes.Equal(got, []byte("new owner")) {
		t.Fatalf("new owner disturbed: refs %d, %q, %v", a.Refs(h2), got, err)
	}
	mustRelease(t, a, h2)
	for _, h := range held[1:] {
		mustRelease(t, a, h)
	}
	if s := a.Stats(0); a.Live() != 0 || s.Bins[0].Misuse != 2 {
		t.Fatalf("Live %d, bin 0 %+v", a.Live(), s.Bins[0])
	}
}

// [A5] Handles that name no block get ErrStale; the zero handle is "no payload".
func TestA5_BadHandles(t *testing.T) {
	a := newTestArena(t, Config{Size: 1 << 20, Tenants: 2})
	h, _ := mustAlloc(t, a, 1, 64)
	bad := []Handle{
		0,
		makeHandle(1, 7, 0, 0),                // tenant that does not exist
		makeHandle(1, 1, 13, 0),               // bin 13
		makeHandle(1, 1, 11, slotMask),        // slot beyond the bin
		makeHandle(h.Gen()+1, 1, 0, h.Slot()), // future generation
	}
	for _, b := range bad {
		if err := a.Release(b); !errors.Is(err, ErrStale) {
			t.Errorf("Release(%v) = %v, want ErrStale", b, err)
		}
	}
	if s := a.Stats(1); s.Block.Misuse != 3 || a.Refs(h) != 1 {
		t.Errorf("tenant 1 block misuse %d (want 3), refs %d", s.Block.Misuse, a.Refs(h))
	}
	if a.Stats(0).Block.Misuse != 0 {
		t.Errorf("tenant 0 charged for other tenants' bad handles")
	}
}

// [A5] Generations skip 0 when they wrap, so no issued handle is 0 or matches a
// handle of the previous lap.
func TestA5_GenerationWrap(t *testing.T) {
	if nextGen(genMask) != 1 || nextGen(1) != 2 {
		t.Fatalf("nextGen(%d) = %d, nextGen(1) = %d", genMask, nextGen(genMask), nextGen(1))
	}
	a := newTestArena(t, Config{Size: MinSize})
	b := &a.tenants[0].bins[0]
	for i := range b.meta { // every free block of bin 0 at the last generation
		b.meta[i].Store(freeWord(genMask))
	}
	h, _ := mustAlloc(t, a, 0, 1)
	if h.Gen() != genMask {
		t.Fatalf("handle %v, want generation %d", h, genMask)
	}
	mustRelease(t, a, h)
	if w := b.meta[h.Slot()].Load(); metaGen(w) != 1 || metaRefs(w) != 0 {
		t.Fatalf("after wrap the slot is at generation %d refs %d, want 1 and 0", metaGen(w), metaRefs(w))
	}
	if err := a.Release(h); !errors.Is(err, ErrStale) {
		t.Fatalf("double free across the wrap = %v", err)
	}
}

// The handle layout is the one documented in the package doc.
func TestHandleLayout(t *testing.T) {
	h := makeHandle(0xABCDEF, 0x12, 0xB, 0x0FEDCBA)
	if uint64(h) != 0xABCDEF_12_B_0FEDCBA {
		t.Fatalf("handle %#x", uint64(h))
	}
	if h.Gen() != 0xABCDEF || h.Tenant() != 0x12 || h.Bin() != 0xB || h.Slot() != 0x0FEDCBA {
		t.Fatalf("fields of %#x: %v", uint64(h), h)
	}
	if h.String() != "payload(t18/b11/s16702650/g11259375)" || Handle(0).String() != "payload(none)" {
		t.Fatalf("String() = %q", h.String())
	}
}

// [A5] Tenants are isolated: exhausting tenant 0 leaves tenant 1 untouched.
func TestA5_TenantIsolation(t *testing.T) {
	a := newTestArena(t, Config{Size: 1 << 20, Tenants: 2})
	for { // exhaust tenant 0's blocks, bump and slab
		if _, _, err := a.Alloc(0, 64); err != nil {
			break
		}
	}
	for _, n := range []int{4096, 8} {
		for {
			if _, err := a.Bump(0, n); err != nil {
				break
			}
		}
	}
	for {
		if _, ok := a.Slab(0).Alloc(); !ok {
			break
		}
	}
	s0 := a.Stats(0)
	if s0.Block.Free != 0 || s0.Bump.Free != 0 || s0.Slab.Free != 0 {
		t.Fatalf("tenant 0 not exhausted: %+v", s0)
	}
	h, _ := mustAlloc(t, a, 1, 64)
	if _, err := a.Bump(1, 4096); err != nil {
		t.Fatalf("tenant 1 bump: %v", err)
	}
	if _, ok := a.Slab(1).Alloc(); !ok {
		t.Fatal("tenant 1 slab exhausted by tenant 0")
	}
	if h.Tenant() != 1 {
		t.Fatalf("tenant 1 got handle %v", h)
	}
	s1 := a.Stats(1)
	if s1.Block.Fails+s1.Bump.Fails+s1.Slab.Fails != 0 || s1.Block.Allocs != 1 {
		t.Fatalf("tenant 1 stats %+v", s1)
	}
	if _, _, err := a.Alloc(2, 1); !errors.Is(err, ErrBadTenant) {
		t.Fatalf("Alloc for tenant 2 = %v, want ErrBadTenant", err)
	}
	if _, err := a.Bump(-1, 1); !errors.Is(err, ErrBadTenant) || a.Slab(2) != nil || a.Stats(2) != (Stats{}) {
		t.Fatal("tenant out of range accepted")
	}
}
