//go:build cgo

package hosttest_test

import (
	"fmt"

	"github.com/gmkernel/gmk/kernels/hosttest"
)

// Four threads stress a slab of 32 blocks (gmk_slab.h). At the end they race,
// 100 times over, to free every block: exactly one free per block succeeds,
// so 3 × 32 × 100 double frees are rejected.
func ExampleSlab() {
	st, err := hosttest.Slab(hosttest.Config{Producers: 4, Capacity: 32, Block: 64, Items: 10000, Seed: 1})
	fmt.Println(err, st.Aux)
	// Output: <nil> 9600
}
