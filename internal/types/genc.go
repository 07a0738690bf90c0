package types

import (
	"bytes"
	"fmt"
	"strings"
)

// GenerateC returns kernels/include/gmk_types.h: per type a define of its
// id, its largest payload and its policy bits; per struct payload a struct
// with static assertions on its size and every offset.
//
// The structs are "packed" in the sense that matters for an ABI — the
// generator rejects any schema that would need padding — but carry no
// packed attribute: that would drop their alignment to 1 and make device
// code load them a byte at a time.
func GenerateC(f *File) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `/* %s */
/*
 * gmk_types.h — GMK's task types ([U3]): the ids, payload limits, policies and
 * payload structs of types.toml, for the GPU modules and host C. The Go
 * mirror is package github.com/gmkernel/gmk/types.
 *
 * Plain C11 or C++ (host and CUDA device code): fixed-width integers only.
 */
#ifndef GMK_TYPES_H
#define GMK_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define GMK_TYPES_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define GMK_TYPES_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* Policy bits of GMK_TYPE_<NAME>_POLICY. */
#define GMK_TYPE_LOSSLESS 0x1u      /* only on lossless channels */
#define GMK_TYPE_DETERMINISTIC 0x2u /* only on DETERMINISTIC handlers ([D1]) */
#define GMK_TYPE_IDEMPOTENT 0x4u    /* may be replayed after a crash ([F5]) */

`, header)
	for _, t := range f.Types {
		d := t.CDefine()
		fmt.Fprintf(&b, "/* %d %s (module %s): %s. Payload: %s. */\n", t.ID, t.Name, t.Module, cComment(t.Doc), payloadDesc(&t))
		fmt.Fprintf(&b, "#define %s %du\n", d, t.ID)
		fmt.Fprintf(&b, "#define %s_MAX_PAYLOAD %du\n", d, t.MaxPayload)
		fmt.Fprintf(&b, "#define %s_POLICY %s\n", d, cPolicy(&t))
		if t.MaxYields > 0 {
			fmt.Fprintf(&b, "#define %s_MAX_YIELDS %du\n", d, t.MaxYields)
		}
		b.WriteByte('\n')
	}
	for _, t := range f.Types {
		if t.Payload == Struct {
			writeCStruct(&b, &t)
		}
	}
	b.WriteString("#endif /* GMK_TYPES_H */\n")
	return b.Bytes()
}

func writeCStruct(b *bytes.Buffer, t *Type) {
	name := cStruct(t)
	tag := strings.TrimSuffix(name, "_t")
	fmt.Fprintf(b, "/* %s: the payload of %s (Go: types.%s). */\n", name, t.CDefine(), t.Struct)
	fmt.Fprintf(b, "typedef struct %s {\n", tag)
	for _, fd := range t.Fields {
		fmt.Fprintf(b, "    %s %s; /* %2d */\n", cScalar[fd.Type], fd.Name, fd.Offset)
	}
	fmt.Fprintf(b, "} %s;\n\n", name)
	fmt.Fprintf(b, "GMK_TYPES_STATIC_ASSERT(sizeof(%s) == %d, \"%s is %d bytes\");\n", name, t.Size, name, t.Size)
	for _, fd := range t.Fields {
		fmt.Fprintf(b, "GMK_TYPES_STATIC_ASSERT(offsetof(%s, %s) == %d, \"%s.%s\");\n", name, fd.Name, fd.Offset, name, fd.Name)
	}
	b.WriteByte('\n')
}

func payloadDesc(t *Type) string {
	switch t.Payload {
	case Bytes:
		return fmt.Sprintf("bytes, at most %d", t.MaxPayload)
	case Struct:
		return cStruct(t)
	}
	return "none (inline)"
}

func cPolicy(t *Type) string {
	var bits []string
	if !t.Lossy {
		bits = append(bits, "GMK_TYPE_LOSSLESS")
	}
	if t.Deterministic {
		bits = append(bits, "GMK_TYPE_DETERMINISTIC")
	}
	if t.Idempotent {
		bits = append(bits, "GMK_TYPE_IDEMPOTENT")
	}
	if len(bits) == 0 {
		return "0u"
	}
	return "(" + strings.Join(bits, " | ") + ")"
}

// cComment keeps a doc line from closing the comment it sits in.
func cComment(s string) string { return strings.ReplaceAll(s, "*/", "* /") }
