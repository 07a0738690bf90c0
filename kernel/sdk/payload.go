package sdk

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	"github.com/gmkernel/gmk/kernel"
)

// Typed payloads ([U1]). A payload type is a plain fixed-size value: a
// struct, array or scalar built only of booleans, integers, floats and
// complex numbers (and arrays and structs of those) — no pointers, strings,
// slices, maps, interfaces, channels or functions. Such a value has the same
// bytes wherever it lives, so it can be viewed in place in the kernel's arena
// (which holds no Go pointers), copied across the bridge, and mirrored by a C
// struct of the same layout on the GPU side.
//
// Every access checks the payload length against the type's size exactly
// (payload_len of [T1]); views also check the alignment (arena blocks are 64-
// byte aligned, so this fails only for hand-made byte slices).

// Errors of typed payload access.
var (
	// ErrNoPayload: the task is inline-only (payload_len 0).
	ErrNoPayload = errors.New("sdk: task has no payload")
	// ErrPayloadSize: payload_len differs from the type's size.
	ErrPayloadSize = errors.New("sdk: payload size does not match the type")
	// ErrNotPlain: the type holds pointers (or is empty), so it cannot live in
	// the arena.
	ErrNotPlain = errors.New("sdk: payload type is not a plain fixed-size value")
	// ErrAlign: the bytes are not aligned for the type.
	ErrAlign = errors.New("sdk: payload bytes misaligned for the type")
)

// View returns a pointer to the current task's payload as a T, without a
// copy. The pointer is valid while the handler runs (or while the module
// holds a reference from PayloadRetain). Writes through it change the
// payload — which other subscribers of a fan-out channel share: treat a
// fan-out payload as read-only ([C5]).
func View[T any](c *kernel.Ctx) (*T, error) {
	if c.Task().PayloadLen == 0 {
		return nil, ErrNoPayload
	}
	return ViewBytes[T](c.Payload())
}

// ViewBytes is View over bytes obtained elsewhere (Kernel.Alloc, Ctx.Alloc).
func ViewBytes[T any](b []byte) (*T, error) {
	var zero T
	if err := check[T](len(b), unsafe.Sizeof(zero)); err != nil {
		return nil, err
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	if uintptr(p)%unsafe.Alignof(zero) != 0 {
		return nil, ErrAlign
	}
	return (*T)(p), nil
}

// ViewSlice returns the current task's payload as a []T, without a copy: a
// payload of n·size(T) bytes is n values. A length that is not a multiple of
// the size is ErrPayloadSize; an inline task gives an empty slice.
func ViewSlice[T any](c *kernel.Ctx) ([]T, error) { return SliceBytes[T](c.Payload()) }

// SliceBytes is ViewSlice over bytes obtained elsewhere.
func SliceBytes[T any](b []byte) ([]T, error) {
	var zero T
	size := unsafe.Sizeof(zero)
	if !Plain[T]() {
		return nil, fmt.Errorf("%w: %s", ErrNotPlain, reflect.TypeFor[T]())
	}
	if len(b) == 0 {
		return nil, nil
	}
	if len(b)%int(size) != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a multiple of %d", ErrPayloadSize, len(b), size)
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	if uintptr(p)%unsafe.Alignof(zero) != 0 {
		return nil, ErrAlign
	}
	return unsafe.Slice((*T)(p), len(b)/int(size)), nil
}

// Read returns a copy of the current task's payload as a T.
func Read[T any](c *kernel.Ctx) (T, error) {
	p, err := View[T](c)
	if err != nil {
		var zero T
		return zero, err
	}
	return *p, nil
}

// New allocates a payload for a T from the tenant's block allocator and
// returns a task of type typ carrying it, and a view to fill in. The handler
// owns the reference until it sends the task (Send and its forms take it
// over) or frees it (Ctx.Free). ErrAllocFail is a normal result ([A3]).
func New[T any](c *kernel.Ctx, typ uint32) (kernel.Task, *T, error) {
	var zero T
	size := unsafe.Sizeof(zero)
	if err := check[T](int(size), size); err != nil {
		return kernel.Task{}, nil, err
	}
	h, b, err := c.Alloc(int(size))
	if err != nil {
		return kernel.Task{}, nil, err
	}
	p := (*T)(unsafe.Pointer(unsafe.SliceData(b)))
	*p = zero // blocks are recycled: clear what the last owner left
	t := kernel.Task{Type: typ, Tenant: uint16(c.Tenant()), Payload: h, PayloadLen: uint32(size)}
	return t, p, nil
}

// Put copies v into bytes b, which must be exactly size(T) long: building a
// payload outside a handler (Kernel.Alloc).
func Put[T any](b []byte, v *T) error {
	p, err := ViewBytes[T](b)
	if err != nil {
		return err
	}
	*p = *v
	return nil
}

// check validates a payload of n bytes for T of the given size.
func check[T any](n int, size uintptr) error {
	if !Plain[T]() {
		return fmt.Errorf("%w: %s", ErrNotPlain, reflect.TypeFor[T]())
	}
	if uintptr(n) != size {
		return fmt.Errorf("%w: payload_len %d, %s is %d bytes", ErrPayloadSize, n, reflect.TypeFor[T](), size)
	}
	return nil
}

// plainCache remembers Plain's verdict per type: reflect.Type → bool.
var plainCache sync.Map

// Plain reports whether T is a plain fixed-size value that may live in a
// payload. The verdict is computed once per type and cached.
func Plain[T any]() bool {
	rt := reflect.TypeFor[T]()
	if v, ok := plainCache.Load(rt); ok {
		return v.(bool)
	}
	ok := rt.Size() > 0 && plainType(rt)
	plainCache.Store(rt, ok)
	return ok
}

func plainType(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return plainType(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !plainType(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}
