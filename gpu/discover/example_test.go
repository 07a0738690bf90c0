package discover_test

import (
	"errors"
	"fmt"

	"github.com/gmkernel/gmk/gpu/discover"
)

// Boot decides between the CUDA backend and the simulated GPU kernel. (No
// Output line: what it prints depends on the machine.)
func Example() {
	ds, err := discover.Devices()
	if errors.Is(err, discover.ErrNoGPU) {
		fmt.Println("simulated GPU kernel:", err)
		return
	}
	for _, d := range ds {
		fmt.Println(d)
	}
}
