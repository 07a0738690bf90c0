package types

import (
	"errors"
	"fmt"
	"sort"

	"github.com/gmkernel/gmk/kernel"
)

// PayloadKind is a payload's shape (types.toml's payload key).
type PayloadKind uint8

// The payload kinds.
const (
	Inline PayloadKind = iota // no payload: meta0/meta1 only
	Bytes                     // opaque bytes, 0..MaxPayload
	Struct                    // a fixed struct of Fields (MaxPayload is its size)
)

// String returns the types.toml spelling.
func (k PayloadKind) String() string {
	switch k {
	case Inline:
		return "inline"
	case Bytes:
		return "bytes"
	case Struct:
		return "struct"
	}
	return fmt.Sprintf("payload(%d)", uint8(k))
}

// Field is one field of a struct payload.
type Field struct {
	Name   string // snake_case, as in types.toml and C
	Type   string // u8 … u64, i8 … i64, f32, f64
	Offset int
}

// Type is one task type: its id, its names, its payload schema and its
// policies ([U3]).
type Type struct {
	ID     uint32
	Name   string
	Module string // the owning module
	Doc    string

	Payload    PayloadKind
	MaxPayload uint32
	Struct     string // Go name of a struct payload
	Fields     []Field

	Lossless      bool // only on lossless channels
	Deterministic bool // only on DETERMINISTIC handlers ([D1])
	Idempotent    bool // may be replayed after a crash ([F5])
	MaxYields     int  // 0 = the kernel's default

	Meta0, Meta1 string // what the inline words carry
}

// Registry is a set of types by id and by name. It is immutable once
// built, so any number of goroutines may use it.
type Registry struct {
	byID   map[uint32]*Type
	byName map[string]*Type
	list   []Type // by id
}

// Default is the registry of types.toml.
var Default = mustRegistry(table[:]...)

// ErrRegistry is wrapped by NewRegistry's errors.
var ErrRegistry = errors.New("types: invalid registry")

// NewRegistry builds a registry of ts. Ids and names must be unique and
// non-zero, and a payload's kind must agree with its MaxPayload (inline: 0;
// at most the arena's largest block, 128 KiB); errors wrap ErrRegistry.
// An application extends Default with All() plus its own types.
func NewRegistry(ts ...Type) (*Registry, error) {
	r := &Registry{byID: map[uint32]*Type{}, byName: map[string]*Type{}, list: append([]Type(nil), ts...)}
	sort.Slice(r.list, func(i, j int) bool { return r.list[i].ID < r.list[j].ID })
	for i := range r.list {
		t := &r.list[i]
		switch {
		case t.ID == 0 || t.ID == kernel.AnyType || t.Name == "":
			return nil, fmt.Errorf("%w: type %d %q: id and name must be set", ErrRegistry, t.ID, t.Name)
		case r.byID[t.ID] != nil:
			return nil, fmt.Errorf("%w: id %d used by %s and %s", ErrRegistry, t.ID, r.byID[t.ID].Name, t.Name)
		case r.byName[t.Name] != nil:
			return nil, fmt.Errorf("%w: name %s used by ids %d and %d", ErrRegistry, t.Name, r.byName[t.Name].ID, t.ID)
		case t.Payload == Inline && t.MaxPayload != 0, t.MaxPayload > 128<<10:
			return nil, fmt.Errorf("%w: type %d (%s): %s payload of at most %d bytes", ErrRegistry, t.ID, t.Name, t.Payload, t.MaxPayload)
		}
		r.byID[t.ID], r.byName[t.Name] = t, t
	}
	return r, nil
}

func mustRegistry(ts ...Type) *Registry {
	r, err := NewRegistry(ts...)
	if err != nil {
		panic(err) // the generated table is checked by the generator and its tests
	}
	return r
}

// Lookup returns the type of id.
func (r *Registry) Lookup(id uint32) (Type, bool) {
	if t := r.byID[id]; t != nil {
		return *t, true
	}
	return Type{}, false
}

// ByName returns the type named name ("echo.in").
func (r *Registry) ByName(name string) (Type, bool) {
	if t := r.byName[name]; t != nil {
		return *t, true
	}
	return Type{}, false
}

// All returns every type, in id order (a copy).
func (r *Registry) All() []Type { return append([]Type(nil), r.list...) }

// TypeInfos returns the kernel's view of the policies, for
// BootConfig.Types: the kernel itself then enforces deterministic handlers
// and lossless channels for every type below its MaxTypes. Types at or
// above maxTypes are left out (a kernel with a small MaxTypes rejects them).
func (r *Registry) TypeInfos(maxTypes int) []kernel.TypeInfo {
	var out []kernel.TypeInfo
	for _, t := range r.list {
		if int(t.ID) >= maxTypes {
			continue
		}
		out = append(out, kernel.TypeInfo{ID: t.ID, Name: t.Name, MaxYields: t.MaxYields,
			Lossless: t.Lossless, Deterministic: t.Deterministic})
	}
	return out
}

// Enforce returns cfg set up so that kernel.Boot enforces r ([U3]): the
// module set is vetted by r.Check before anything boots, and the per-type
// policies the kernel itself applies (deterministic handlers, lossless
// channels, yield limits) are added to cfg.Types.
func (r *Registry) Enforce(cfg kernel.BootConfig) kernel.BootConfig {
	cfg.CheckModules = func(mods []kernel.Module) error { return r.Check(mods...) }
	maxTypes := cfg.WithDefaults().MaxTypes
	cfg.Types = append(append([]kernel.TypeInfo(nil), cfg.Types...), r.TypeInfos(maxTypes)...)
	return cfg
}
