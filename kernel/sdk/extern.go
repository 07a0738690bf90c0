package sdk

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/gmkernel/gmk/kernel"
)

// Producers outside the kernel (an actor, a network reader, a test) send
// with these: they allocate the payload in the kernel's arena, emit, and wait
// while the channel is full (Kernel.ChanEmitWait) until ctx ends. On any error
// the payload is released.

// EmitInline emits an inline task of p's type.
func EmitInline(ctx context.Context, k *kernel.Kernel, p Port, tenant int, meta0, meta1 uint64) error {
	t := kernel.Task{Type: p.Type, Tenant: uint16(tenant), Meta0: meta0, Meta1: meta1}
	return emitExt(ctx, k, p, t)
}

// EmitBytes emits a task of p's type whose payload is a copy of b.
func EmitBytes(ctx context.Context, k *kernel.Kernel, p Port, tenant int, meta0, meta1 uint64, b []byte) error {
	t := kernel.Task{Type: p.Type, Tenant: uint16(tenant), Meta0: meta0, Meta1: meta1}
	if len(b) > 0 {
		h, buf, err := k.Alloc(tenant, len(b))
		if err != nil {
			return err
		}
		copy(buf, b)
		t.Payload, t.PayloadLen = h, uint32(len(b))
	}
	return emitExt(ctx, k, p, t)
}

// EmitValue emits a task of p's type whose payload is a copy of *v.
func EmitValue[T any](ctx context.Context, k *kernel.Kernel, p Port, tenant int, meta0, meta1 uint64, v *T) error {
	size := unsafe.Sizeof(*v)
	if err := check[T](int(size), size); err != nil {
		return err
	}
	h, b, err := k.Alloc(tenant, int(size))
	if err != nil {
		return err
	}
	*(*T)(unsafe.Pointer(unsafe.SliceData(b))) = *v
	t := kernel.Task{Type: p.Type, Tenant: uint16(tenant), Payload: h, PayloadLen: uint32(size), Meta0: meta0, Meta1: meta1}
	return emitExt(ctx, k, p, t)
}

func emitExt(ctx context.Context, k *kernel.Kernel, p Port, t kernel.Task) error {
	if err := k.ChanEmitWait(ctx, p.Chan, t); err != nil {
		if t.Payload != 0 {
			_ = k.Release(t.Payload)
		}
		return fmt.Errorf("sdk: emit on channel %d: %w", p.Chan, err)
	}
	return nil
}
