package alloc

import (
	"errors"
	"testing"
	"unsafe"
)

// [A2] Bump hands out 8-byte aligned, disjoint memory until the region is used up;
// BumpReset reclaims the whole region, and the stats follow.
func TestA2_BumpReset(t *testing.T) {
	a := newTestArena(t, Config{Size: 1 << 20})
	total := int(a.Stats(0).Bump.Total)
	used, allocs := 0, 0
	for _, n := range []int{1, 7, 8, 9, 0, 100} {
		b, err := a.Bump(0, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != n || uintptr(unsafe.Pointer(unsafe.SliceData(b[:cap(b)])))%8 != 0 {
			t.Fatalf("Bump(%d): len %d, not 8-byte aligned", n, len(b))
		}
		used += (n + 7) &^ 7
		allocs++
	}
	s := a.Stats(0).Bump
	if s.Free != uint64(total-used) || s.Allocs != uint64(allocs) || s.HighWater != uint64(used) {
		t.Fatalf("bump stats %+v, want %d used in %d allocs", s, used, allocs)
	}
	if _, err := a.Bump(0, total-used+1); !errors.Is(err, ErrAllocFail) {
		t.Fatalf("Bump beyond the region = %v, want ErrAllocFail", err)
	}
	if _, err := a.Bump(0, -1); !errors.Is(err, ErrAllocFail) {
		t.Fatalf("Bump(-1) = %v, want ErrAllocFail", err)
	}
	rest, err := a.Bump(0, total-used) // exactly what is left
	if err != nil || len(rest) != total-used {
		t.Fatalf("Bump of the rest: %v", err)
	}
	a.BumpReset(0)
	s = a.Stats(0).Bump
	want := KindStats{Total: uint64(total), Free: uint64(total), HighWater: uint64(total),
		Allocs: uint64(allocs + 1), Frees: uint64(allocs + 1), Fails: 2}
	if s != want {
		t.Fatalf("after reset %+v, want %+v", s, want)
	}
	whole, err := a.Bump(0, total) // the whole region again
	if err != nil || len(whole) != total {
		t.Fatalf("Bump of the whole region after reset: %v", err)
	}
	a.BumpReset(9) // out of range: ignored
}

// [A2] Concurrent bumps get disjoint ranges; every byte is accounted for.
func TestA2_BumpDisjoint(t *testing.T) {
	a := newTestArena(t, Config{Size: 1 << 20})
	const workers = 4
	got := make([][][]byte, workers)
	done := make(chan int)
	for w := range workers {
		go func() {
			for i := 0; ; i++ {
				b, err := a.Bump(0, 8+i%5*8)
				if err != nil {
					break
				}
				for j := range b {
					b[j] = byte(w + 1)
				}
				got[w] = append(got[w], b)
			}
			done <- w
		}()
	}
	for range workers {
		<-done
	}
	n := 0
	for w, bs := range got {
		for _, b := range bs {
			for _, c := range b {
				if c != byte(w+1) {
					t.Fatalf("worker %d's bump memory overwritten by worker %d", w+1, c)
				}
			}
			n++
		}
	}
	s := a.Stats(0).Bump
	if s.Allocs != uint64(n) || s.Fails < workers || s.Free >= 40 {
		t.Fatalf("bump stats %+v after %d allocations", s, n)
	}
}
