package cuda

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gmkernel/gmk/gpu"
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
	list, ok := stampField(ptx, modulesTag)
	if !ok {
		return nil, ErrNoModuleList
	}
	var names []string
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// typesTag starts the stamp's line of task types by module: "// GPU task
// types: echo=990,991; kv=993."
const typesTag = "// GPU task types: "

// ErrNoTypeList reports a kernel image without the task types gmk-kbuild
// stamps on it (an image built before the types were stamped).
var ErrNoTypeList = errors.New("cuda: kernel image has no task type list (rebuild it: make kernels)")

// ImageTypes returns the task types each GPU module's handlers take in a
// kernel image, as gmk-kbuild stamped them.
func ImageTypes(ptx string) (map[string][]uint32, error) {
	list, ok := stampField(ptx, typesTag)
	if !ok {
		return nil, ErrNoTypeList
	}
	types := map[string][]uint32{}
	for _, m := range strings.Split(list, ";") {
		name, ids, ok := strings.Cut(strings.TrimSpace(m), "=")
		if !ok {
			return nil, fmt.Errorf("cuda: kernel image: task types %q: want module=type,type", m)
		}
		for _, id := range strings.Split(ids, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(id), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("cuda: kernel image: task types of %s: %w", name, err)
			}
			types[name] = append(types[name], uint32(v))
		}
	}
	return types, nil
}

// CheckModules checks GPU modules against a kernel image's stamp: each is
// compiled into the image, and each of its handlers takes a task type the
// image's module takes — the device dispatches by type through what it was
// built with, so a host-side module that disagrees would send tasks the
// device counts as unknown.
func CheckModules(ptx string, mods []gpu.Module) error {
	names, err := ImageModules(ptx)
	if err != nil {
		return err
	}
	types, err := ImageTypes(ptx)
	if err != nil {
		return err
	}
	for _, m := range mods {
		if err := m.Validate(); err != nil {
			return err
		}
		if !slices.Contains(names, m.Name) {
			return fmt.Errorf("cuda: GPU module %q is not in the kernel image (it has %v): add it under kernels/modules and rebuild the image (make kernels)",
				m.Name, names)
		}
		for _, h := range m.Handlers {
			if !slices.Contains(types[m.Name], h.Type) {
				return fmt.Errorf("cuda: GPU module %s: handler %q takes type %d, but the kernel image's %s takes %v: the module's Go declaration and its module.toml disagree",
					m.Name, h.Name, h.Type, m.Name, types[m.Name])
			}
		}
	}
	return nil
}

// stampField returns the rest of the stamp line (within the first lines,
// all comments) that holds tag, without its final period.
func stampField(ptx, tag string) (string, bool) {
	for range 8 {
		line, rest, _ := strings.Cut(ptx, "\n")
		if !strings.HasPrefix(line, "//") {
			break
		}
		if _, v, ok := strings.Cut(line, tag); ok {
			return strings.TrimSuffix(strings.TrimSpace(v), "."), true
		}
		ptx = rest
	}
	return "", false
}
