//go:build !race

// Allocation tests run without the race detector, which changes allocation
// behaviour (STYLE.md rule 9).

package kv_test

import (
	"testing"

	"github.com/gmkernel/gmk/modules/kv"
)

// The store's operations allocate nothing: entries, buckets and bytes were
// all allocated by NewStore.
func TestU2_KVStoreZeroAlloc(t *testing.T) {
	s := kv.NewStore(1024, 64, 16, 64)
	key, val, dst := []byte("some-key"), []byte("some value"), make([]byte, 0, 64)
	n := testing.AllocsPerRun(1000, func() {
		s.Put(key, val)
		dst, _ = s.Get(key, dst[:0])
		s.Del(key)
	})
	if n != 0 {
		t.Fatalf("%v allocations per put/get/del", n)
	}
}
