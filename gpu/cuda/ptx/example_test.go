package ptx_test

import (
	"fmt"

	"github.com/gmkernel/gmk/gpu/cuda/ptx"
)

// Pick the kernel image for an H100 (compute capability 9.0) and an RTX
// 4090 (8.9); the CUDA backend loads im.PTX with cuModuleLoadData.
func ExampleFor() {
	for _, cc := range [][2]int{{9, 0}, {8, 9}, {7, 5}} {
		im, err := ptx.For(cc[0], cc[1])
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%d.%d: %s (%t)\n", cc[0], cc[1], im.Arch, len(im.PTX) > 0)
	}
	// Output:
	// 9.0: sm_90 (true)
	// 8.9: sm_80 (true)
	// ptx: compute capability 7.5: no GMK kernel image for this device (oldest is sm_80)
}
