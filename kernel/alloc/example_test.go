package alloc_test

import (
	"errors"
	"fmt"

	"github.com/gmkernel/gmk/kernel/alloc"
)

// A payload's life: allocate, fan out to two subscribers, release every copy;
// the stale handle is then reported instead of touching reused memory.
func Example() {
	a, err := alloc.NewArena(alloc.Config{Size: 1 << 20, Tenants: 2})
	if err != nil {
		panic(err)
	}
	h, b, _ := a.Alloc(1, 100) // routed to the 128-byte bin of tenant 1
	copy(b, "payload")
	fmt.Println(h.Tenant(), alloc.BinSize(h.Bin()), a.Refs(h))

	_ = a.AddRefs(h, 2) // fan-out: one reference per subscriber, before delivery
	_ = a.Release(h)    // the emitter's own reference
	got, _ := a.Bytes(h, 7)
	fmt.Println(string(got), a.Refs(h))
	_ = a.Release(h) // subscriber 1
	_ = a.Release(h) // subscriber 2: frees the block

	err = a.Release(h) // a double free
	fmt.Println(errors.Is(err, alloc.ErrStale), a.Live(), a.Stats(1).Block.Misuse)

	tick, _ := a.Bump(0, 24) // per-tick scratch memory
	a.BumpReset(0)           // the whole region back at the end of the tick
	fmt.Println(len(tick), a.Stats(0).Bump.Allocs)
	// Output:
	// 1 128 1
	// payload 2
	// true 0 1
	// 24 1
}
