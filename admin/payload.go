package admin

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/types"
)

// resolvedType is a task type named by an emit: its id, its name and, when
// the registry knows it, its schema.
type resolvedType struct {
	id     uint32
	name   string
	schema *types.Type
}

// resolveType finds name — a registry name, a name of the kernel's
// BootConfig.Types, or a decimal id — for kernel k.
func (s *Server) resolveType(k *kernel.Kernel, name string) (resolvedType, error) {
	if t, ok := s.cfg.Types.ByName(name); ok {
		return resolvedType{id: t.ID, name: t.Name, schema: &t}, nil
	}
	if id, ok := k.TypeByName(name); ok {
		return s.withSchema(k, id), nil
	}
	id, err := strconv.ParseUint(name, 10, 32)
	if err != nil || uint32(id) == kernel.AnyType {
		return resolvedType{}, notFound("unknown type %q (not in the type registry nor in kernel %s's types)", name, k.ID())
	}
	return s.withSchema(k, uint32(id)), nil
}

func (s *Server) withSchema(k *kernel.Kernel, id uint32) resolvedType {
	rt := resolvedType{id: id, name: s.typeName(k, id)}
	if t, ok := s.cfg.Types.Lookup(id); ok {
		rt.schema = &t
	}
	return rt
}

// encodePayload turns an emit's JSON payload into payload bytes through the
// type's schema ([U3]): the struct's fields, little-endian at their
// offsets; a bytes payload from a string or {"base64": …}; nothing for an
// inline type. Types without a schema take bytes. The result is checked
// against the schema's size (types.Registry.CheckPayload).
func (s *Server) encodePayload(rt resolvedType, raw json.RawMessage) ([]byte, error) {
	empty := len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
	var b []byte
	var err error
	switch {
	case rt.schema == nil && empty:
	case rt.schema == nil:
		b, err = bytesPayload(raw)
	case rt.schema.Payload == types.Inline:
		if !empty {
			return nil, badRequest("%s is inline: no payload (use meta0/meta1)", rt.schema.Name)
		}
	case rt.schema.Payload == types.Struct:
		if empty {
			raw = json.RawMessage("{}")
		}
		b, err = structPayload(rt.schema, raw)
	case !empty:
		b, err = bytesPayload(raw)
	}
	if err != nil {
		return nil, err
	}
	if rt.schema != nil {
		if err := s.cfg.Types.CheckPayload(rt.id, len(b)); err != nil {
			return nil, badRequest("%v", err)
		}
	}
	return b, nil
}

// bytesPayload reads a JSON string (its UTF-8 bytes) or {"base64": "…"}.
func bytesPayload(raw json.RawMessage) ([]byte, error) {
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		return []byte(str), nil
	}
	var b64 struct {
		Base64 string `json:"base64"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b64); err != nil {
		return nil, badRequest("a bytes payload is a JSON string or {\"base64\": \"...\"}: %v", err)
	}
	b, err := base64.StdEncoding.DecodeString(b64.Base64)
	if err != nil {
		return nil, badRequest("payload base64: %v", err)
	}
	return b, nil
}

// structPayload lays out a JSON object's fields per the schema. Missing
// fields are zero; unknown fields and out-of-range values are errors.
func structPayload(t *types.Type, raw json.RawMessage) ([]byte, error) {
	var obj map[string]json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, badRequest("%s carries a %s: want a JSON object of numbers: %v", t.Name, t.Struct, err)
	}
	b := make([]byte, t.MaxPayload)
	known := map[string]bool{}
	for _, f := range t.Fields {
		known[f.Name] = true
		n, ok := obj[f.Name]
		if !ok {
			continue
		}
		if err := putField(b[f.Offset:], f.Type, n); err != nil {
			return nil, badRequest("%s.%s: %v", t.Struct, f.Name, err)
		}
	}
	for name := range obj {
		if !known[name] {
			return nil, badRequest("%s has no field %q (fields: %s)", t.Struct, name, fieldNames(t))
		}
	}
	return b, nil
}

func fieldNames(t *types.Type) string {
	ns := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		ns[i] = f.Name
	}
	return strings.Join(ns, ", ")
}

// putField writes n as a field of type typ (u8 … u64, i8 … i64, f32, f64).
func putField(dst []byte, typ string, n json.Number) error {
	bits := map[string]int{"u8": 8, "u16": 16, "u32": 32, "u64": 64, "i8": 8, "i16": 16, "i32": 32, "i64": 64}[typ]
	var v uint64
	switch {
	case typ == "f32":
		f, err := n.Float64()
		if err != nil {
			return err
		}
		v = uint64(math.Float32bits(float32(f)))
		bits = 32
	case typ == "f64":
		f, err := n.Float64()
		if err != nil {
			return err
		}
		v, bits = math.Float64bits(f), 64
	case typ[0] == 'u':
		u, err := strconv.ParseUint(n.String(), 10, bits)
		if err != nil {
			return err
		}
		v = u
	case typ[0] == 'i':
		i, err := strconv.ParseInt(n.String(), 10, bits)
		if err != nil {
			return err
		}
		v = uint64(i)
	default:
		return fmt.Errorf("unknown field type %q", typ)
	}
	var le [8]byte
	binary.LittleEndian.PutUint64(le[:], v)
	copy(dst[:bits/8], le[:])
	return nil
}
