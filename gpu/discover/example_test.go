package discover_test

import (
	"errors"
	"fmt"

	"github.com/gmkernel/gmk/gpu/discover"
)

// Boot decides between the CUDA backend and the simulated GPU kernel.
func Example() {
	ds, err := discover.Devices()
	backend := "cuda"
	if errors.Is(err, discover.ErrNoGPU) {
		backend = "sim" // and err says why
	}
	_ = ds
	fmt.Println(backend == "cuda" || backend == "sim")
	// Output: true
}
