package types

import (
	"errors"
	"fmt"

	"github.com/gmkernel/gmk/kernel"
)

// Errors of Check and CheckPayload (wrapped, with the module, handler or
// channel and the type named).
var (
	// ErrUnknownType: a handler or channel declaration names a type id the
	// registry does not have.
	ErrUnknownType = errors.New("types: unknown type")
	// ErrPolicy: a declaration breaks its type's policy — a deterministic
	// type's handler not registered DETERMINISTIC (the error also wraps
	// kernel.ErrNotDeterministic), or a lossless type declared on a lossy
	// channel.
	ErrPolicy = errors.New("types: policy violation")
	// ErrPayload: a payload larger than its type's max_payload, or one on
	// an inline type, or a struct payload of the wrong size.
	ErrPayload = errors.New("types: payload does not fit its type")
)

// Check validates modules against the Default registry; see Registry.Check.
func Check(mods ...kernel.Module) error { return Default.Check(mods...) }

// Check validates the modules' handler and channel declarations against
// the registry's policies before they boot ([U3]):
//
//   - every handler type and every typed channel declaration is in the
//     registry (ErrUnknownType); catch-all handlers and untyped channels
//     (kernel.AnyType) are exempt;
//   - a handler of a deterministic type is registered kernel.DetHandler
//     (ErrPolicy, kernel.ErrNotDeterministic);
//   - a lossless type is declared only on lossless channels (ErrPolicy).
//
// It reports every violation (errors.Join), each naming the module, the
// handler or channel and the type, so the caller can fail boot with all of
// them at once. kernel.Boot repeats the deterministic and lossless checks
// for the types given in BootConfig.Types (TypeInfos); Check adds the
// unknown-type check and works before any kernel exists.
func (r *Registry) Check(mods ...kernel.Module) error {
	var errs []error
	for _, m := range mods {
		for _, h := range m.Handlers {
			if h.Type == kernel.AnyType {
				continue
			}
			t, ok := r.byID[h.Type]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%w: module %s: handler %s: type %d", ErrUnknownType, m.Name, h.Name, h.Type))
			case t.Deterministic && h.Flags&kernel.DetHandler == 0:
				errs = append(errs, fmt.Errorf("%w: module %s: handler %s: type %d (%s) is deterministic, the handler is not registered DETERMINISTIC: %w",
					ErrPolicy, m.Name, h.Name, h.Type, t.Name, kernel.ErrNotDeterministic))
			}
		}
		for _, d := range m.Channels {
			if d.Type == kernel.AnyType {
				continue
			}
			t, ok := r.byID[d.Type]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%w: module %s: channel %s: type %d", ErrUnknownType, m.Name, d.Name, d.Type))
			case t.Lossless && d.Guarantee != kernel.Lossless:
				errs = append(errs, fmt.Errorf("%w: module %s: channel %s is declared %s, but type %d (%s) is lossless",
					ErrPolicy, m.Name, d.Name, d.Guarantee, d.Type, t.Name))
			}
		}
	}
	return errors.Join(errs...)
}

// CheckPayload reports whether a payload of n bytes fits type id's schema:
// none for an inline type, exactly the struct's size for a struct type, at
// most MaxPayload for bytes. Errors wrap ErrPayload or ErrUnknownType. It
// is the check for task sources outside handlers (gmk emit, the bridge).
func (r *Registry) CheckPayload(id uint32, n int) error {
	t, ok := r.byID[id]
	switch {
	case !ok:
		return fmt.Errorf("%w: %d", ErrUnknownType, id)
	case t.Payload == Inline && n != 0:
		return fmt.Errorf("%w: %s is inline, the payload has %d bytes", ErrPayload, t.Name, n)
	case t.Payload == Struct && n != int(t.MaxPayload):
		return fmt.Errorf("%w: %s carries a %d-byte %s, the payload has %d bytes", ErrPayload, t.Name, t.MaxPayload, t.Struct, n)
	case n < 0 || n > int(t.MaxPayload):
		return fmt.Errorf("%w: %s takes at most %d bytes, the payload has %d", ErrPayload, t.Name, t.MaxPayload, n)
	}
	return nil
}
