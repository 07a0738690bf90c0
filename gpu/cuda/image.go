package cuda

import (
	"errors"
	"slices"
	"strings"
)

// ErrNoModuleList reports a kernel image without the module list that
// gmk-kbuild stamps on it.
var ErrNoModuleList = errors.New("cuda: kernel image has no GPU module list (not built by gmk-kbuild)")

// modulesTag starts the list of GPU modules in the stamp gmk-kbuild writes
// at the top of every image (internal/kbuild, stamp): "// Source:
// kernels/src/gmk_kernel.cu; GPU modules: checksum, echo, xform.".
const modulesTag = "; GPU modules: "

// ImageModules returns the names of the GPU modules compiled into a kernel
// image (PTX text), sorted, as gmk-kbuild stamped them in its header: the
// module directories of kernels/modules whose module.toml targets the GPU.
// A device kernel dispatches by task type through the modules built into
// its image, so a GPU module the host asks for must be one of these.
func ImageModules(ptx string) ([]string, error) {
	for range 8 { // the stamp is within the first lines
		line, rest, _ := strings.Cut(ptx, "\n")
		if !strings.HasPrefix(line, "//") {
			break
		}
		if _, list, ok := strings.Cut(line, modulesTag); ok {
			list = strings.TrimSuffix(strings.TrimSpace(list), ".")
			var names []string
			for _, n := range strings.Split(list, ",") {
				if n = strings.TrimSpace(n); n != "" {
					names = append(names, n)
				}
			}
			slices.Sort(names)
			return names, nil
		}
		ptx = rest
	}
	return nil, ErrNoModuleList
}
