package types

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// ErrSpec is wrapped by every error about types.toml: a syntax error, an
// unknown key, a duplicate id or name, a payload schema that does not fit
// its policy.
var ErrSpec = errors.New("invalid types.toml")

// MaxID is the largest type id: BootConfig.MaxTypes is at most 1M.
const MaxID = 1<<20 - 1

// MaxPayload is the largest max_payload: the arena's largest block
// (kernel/alloc.MaxBlock, 128 KiB).
const MaxPayload = 128 << 10

// Kind is a payload's shape.
type Kind uint8

// The payload kinds of types.toml's payload key.
const (
	Inline Kind = iota // no payload: meta0/meta1 only
	Bytes              // opaque bytes, 0..MaxPayload
	Struct             // a fixed struct of Fields
)

var kindNames = [...]string{Inline: "inline", Bytes: "bytes", Struct: "struct"}

// String returns the types.toml spelling.
func (k Kind) String() string { return kindNames[k] }

// Field is one field of a struct payload, laid out in order.
type Field struct {
	Name   string // snake_case, as in types.toml and the C struct
	Type   string // u8 … u64, i8 … i64, f32, f64
	Offset int
}

// Type is one [[type]] of types.toml, with defaults filled in.
type Type struct {
	ID     uint32
	Name   string // "echo.in"
	Const  string // Go constant: "EchoIn"
	Module string
	Doc    string

	Payload Kind
	Struct  string  // Go name of the struct payload ("TimerSpec")
	Fields  []Field // struct payloads
	Size    int     // struct payloads: bytes

	Meta0, Meta1 string

	Lossy         bool
	Deterministic bool
	Idempotent    bool
	MaxPayload    int
	MaxYields     int
}

// CDefine is the C define of the type's id: GMK_TYPE_ECHO_IN.
func (t *Type) CDefine() string {
	return "GMK_TYPE_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(t.Name))
}

// File is a parsed types.toml: its types in id order.
type File struct {
	Path  string
	Types []Type
}

// Lookup returns the type of id.
func (f *File) Lookup(id uint32) (*Type, bool) {
	i, ok := slices.BinarySearchFunc(f.Types, id, func(t Type, id uint32) int { return int(t.ID) - int(id) })
	if !ok {
		return nil, false
	}
	return &f.Types[i], true
}

type rawFile struct {
	Type []rawType `toml:"type"`
}

type rawType struct {
	ID            *int64     `toml:"id"`
	Name          string     `toml:"name"`
	Const         string     `toml:"const"`
	Module        string     `toml:"module"`
	Doc           string     `toml:"doc"`
	Payload       string     `toml:"payload"`
	Struct        string     `toml:"struct"`
	Fields        []rawField `toml:"fields"`
	Meta0         string     `toml:"meta0"`
	Meta1         string     `toml:"meta1"`
	Guarantee     string     `toml:"guarantee"`
	Deterministic bool       `toml:"deterministic"`
	Idempotent    bool       `toml:"idempotent"`
	MaxPayload    *int64     `toml:"max_payload"`
	MaxYields     int64      `toml:"max_yields"`
}

type rawField struct {
	Name string `toml:"name"`
	Type string `toml:"type"`
}

// fieldSizes are the scalar types a struct field may have, by size.
var fieldSizes = map[string]int{
	"u8": 1, "u16": 2, "u32": 4, "u64": 8,
	"i8": 1, "i16": 2, "i32": 4, "i64": 8,
	"f32": 4, "f64": 8,
}

var (
	typeName  = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
	goIdent   = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// Load reads and parses the types.toml at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// Parse parses types.toml. file names it in errors, which wrap ErrSpec.
// Unknown keys are errors: a misspelt "deterministic" must not silently
// become false.
func Parse(data []byte, file string) (*File, error) {
	var raw rawFile
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %w: %s", file, pe.Position.Line, ErrSpec, pe.Message)
		}
		return nil, fmt.Errorf("%s: %w: %v", file, ErrSpec, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		return nil, fmt.Errorf("%s: %w: unknown key %q", file, ErrSpec, u[0].String())
	}
	f := &File{Path: file}
	for i, rt := range raw.Type {
		t, err := rt.build()
		if err != nil {
			return nil, fmt.Errorf("%s: %w: type[%d] %s: %v", file, ErrSpec, i, rt.Name, err)
		}
		f.Types = append(f.Types, t)
	}
	slices.SortFunc(f.Types, func(a, b Type) int { return int(a.ID) - int(b.ID) })
	if err := checkUnique(f.Types); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", file, ErrSpec, err)
	}
	return f, nil
}

func checkUnique(ts []Type) error {
	names, consts, structs := map[string]uint32{}, map[string]uint32{}, map[string]uint32{}
	for i, t := range ts {
		if i > 0 && ts[i-1].ID == t.ID {
			return fmt.Errorf("duplicate id %d: %s and %s", t.ID, ts[i-1].Name, t.Name)
		}
		for _, u := range []struct {
			m    map[string]uint32
			key  string
			what string
		}{{names, t.Name, "name"}, {consts, t.Const, "const"}, {structs, t.Struct, "struct"}} {
			if u.key == "" {
				continue
			}
			if o, ok := u.m[u.key]; ok {
				return fmt.Errorf("%s %q used by types %d and %d", u.what, u.key, o, t.ID)
			}
			u.m[u.key] = t.ID
		}
	}
	return nil
}

func (rt rawType) build() (Type, error) {
	t := Type{Name: rt.Name, Const: rt.Const, Module: rt.Module, Doc: rt.Doc, Struct: rt.Struct,
		Meta0: rt.Meta0, Meta1: rt.Meta1, Deterministic: rt.Deterministic, Idempotent: rt.Idempotent}
	switch {
	case rt.ID == nil:
		return t, errors.New("missing id")
	case *rt.ID < 1 || *rt.ID > MaxID:
		return t, fmt.Errorf("id %d out of range 1..%d", *rt.ID, MaxID)
	case !typeName.MatchString(rt.Name):
		return t, fmt.Errorf("name %q: want dotted lower-case words (echo.in)", rt.Name)
	case !goIdent.MatchString(rt.Const):
		return t, fmt.Errorf("const %q: want an exported Go identifier", rt.Const)
	case rt.Module == "":
		return t, errors.New("missing module")
	case strings.ContainsAny(rt.Doc+rt.Meta0+rt.Meta1, "\n\r"):
		return t, errors.New("doc, meta0 and meta1 are one line each")
	case rt.MaxYields < 0 || rt.MaxYields > 1<<15:
		return t, fmt.Errorf("max_yields %d out of range 0..32768", rt.MaxYields)
	}
	t.ID, t.MaxYields = uint32(*rt.ID), int(rt.MaxYields)
	switch rt.Guarantee {
	case "", "lossless":
	case "lossy":
		t.Lossy = true
	default:
		return t, fmt.Errorf("guarantee %q: want lossless or lossy", rt.Guarantee)
	}
	return t, rt.payload(&t)
}

// payload fills in the payload schema and max_payload and checks that they
// agree.
func (rt rawType) payload(t *Type) error {
	k := slices.Index(kindNames[:], rt.Payload)
	if k < 0 {
		return fmt.Errorf("payload %q: want inline, bytes or struct", rt.Payload)
	}
	t.Payload = Kind(k)
	if t.Payload != Struct && (rt.Struct != "" || len(rt.Fields) > 0) {
		return fmt.Errorf("struct and fields need payload = \"struct\"")
	}
	switch t.Payload {
	case Inline:
		t.MaxPayload = 0
	case Bytes:
		if rt.MaxPayload == nil {
			return errors.New("payload bytes needs max_payload")
		}
		t.MaxPayload = int(*rt.MaxPayload)
	case Struct:
		if err := layout(t, rt); err != nil {
			return err
		}
		t.MaxPayload = t.Size
	}
	if rt.MaxPayload != nil && int(*rt.MaxPayload) != t.MaxPayload {
		return fmt.Errorf("max_payload %d: a %s payload's is %d", *rt.MaxPayload, t.Payload, t.MaxPayload)
	}
	if t.MaxPayload < 0 || t.MaxPayload > MaxPayload {
		return fmt.Errorf("max_payload %d out of range 0..%d", t.MaxPayload, MaxPayload)
	}
	return nil
}

// layout places a struct's fields in order and rejects padding, so the Go
// struct and the C struct agree byte for byte.
func layout(t *Type, rt rawType) error {
	if !goIdent.MatchString(rt.Struct) {
		return fmt.Errorf("struct %q: want an exported Go identifier", rt.Struct)
	}
	if len(rt.Fields) == 0 {
		return errors.New("struct payload without fields")
	}
	off, align, seen := 0, 1, map[string]bool{}
	for _, rf := range rt.Fields {
		sz, ok := fieldSizes[rf.Type]
		switch {
		case !fieldName.MatchString(rf.Name) || seen[rf.Name]:
			return fmt.Errorf("field %q: want a unique snake_case name", rf.Name)
		case !ok:
			return fmt.Errorf("field %s: type %q: want u8..u64, i8..i64, f32 or f64", rf.Name, rf.Type)
		case off%sz != 0:
			return fmt.Errorf("field %s (%s) at offset %d is not aligned: reorder or add an explicit pad field", rf.Name, rf.Type, off)
		}
		seen[rf.Name] = true
		t.Fields = append(t.Fields, Field{Name: rf.Name, Type: rf.Type, Offset: off})
		off, align = off+sz, max(align, sz)
	}
	if off%align != 0 {
		return fmt.Errorf("size %d is not a multiple of its alignment %d: add an explicit pad field", off, align)
	}
	t.Size = off
	return nil
}
