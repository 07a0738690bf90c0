package types

import (
	"errors"
	"fmt"

	"github.com/gmkernel/gmk/internal/kbuild"
)

// ErrModuleType is wrapped by CheckModules' errors: a module.toml handler
// whose type types.toml does not declare, or declares for another module.
var ErrModuleType = errors.New("module.toml handler type")

// CheckModules checks the handlers of parsed module.toml files against
// types.toml ([U3], [U4]): every handler's type id is declared, owned by
// the handler's module, and a handler of a deterministic type is marked
// deterministic. Every violation is reported (errors.Join), each wrapping
// ErrModuleType and naming the module.toml file.
func CheckModules(f *File, mods []*kbuild.Module) error {
	var errs []error
	for _, m := range mods {
		for _, h := range m.Handlers {
			t, ok := f.Lookup(h.Type)
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%s: %w: module %s: fn %s: type %d is not in %s", m.File, ErrModuleType, m.Name, h.Fn, h.Type, f.Path))
			case t.Module != m.Name:
				errs = append(errs, fmt.Errorf("%s: %w: module %s: fn %s: type %d is %s, owned by module %s in %s",
					m.File, ErrModuleType, m.Name, h.Fn, h.Type, t.Name, t.Module, f.Path))
			case t.Deterministic && !h.Deterministic:
				errs = append(errs, fmt.Errorf("%s: %w: module %s: fn %s: type %d (%s) is deterministic: set deterministic = true",
					m.File, ErrModuleType, m.Name, h.Fn, h.Type, t.Name))
			}
		}
	}
	return errors.Join(errs...)
}

// FreeID returns the lowest id at or above from that f does not declare
// and that is below limit, or false when there is none.
func FreeID(f *File, from, limit uint32) (uint32, bool) {
	for id := max(from, 1); id < limit; id++ {
		if _, ok := f.Lookup(id); !ok {
			return id, true
		}
	}
	return 0, false
}
