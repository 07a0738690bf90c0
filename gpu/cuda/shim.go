//go:build cuda

package cuda

/*
#cgo LDFLAGS: -L/usr/lib/x86_64-linux-gnu/stubs -L/usr/local/cuda/lib64/stubs -lcuda
// (The stub directories let a machine with the toolkit and no driver link
// the cuda build; at run time the driver's libcuda.so.1 is loaded.)
#cgo CFLAGS: -I${SRCDIR}/../../kernels/include
#include <cuda.h>
#include <stdint.h>
#include "gmk_bridge.h"

// The few driver calls gorgonia.org/cu lacks (docs/notes: gpu.md): mapped
// pinned host memory, and a launch loop in C for the per-task-launch baseline
// (no cgo call or C malloc per launch in the measurement).
static int gmk_host_alloc(void **p, size_t n) {
	return cuMemHostAlloc(p, n, CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE);
}
static int gmk_host_free(void *p) { return cuMemFreeHost(p); }
static int gmk_host_dptr(unsigned long long *d, void *p) {
	CUdeviceptr x = 0;
	CUresult r = cuMemHostGetDevicePointer(&x, p, 0);
	*d = (unsigned long long)x;
	return r;
}
static int gmk_host_register(void *p, size_t n) {
	return cuMemHostRegister(p, n, CU_MEMHOSTREGISTER_DEVICEMAP | CU_MEMHOSTREGISTER_PORTABLE);
}
static int gmk_host_unregister(void *p) { return cuMemHostUnregister(p); }
static int gmk_launch_loop(void *fn, void *stream, unsigned long long a0, unsigned long long a1, int n) {
	void *args[2] = {&a0, &a1};
	for (int i = 0; i < n; i++) {
		CUresult r = cuLaunchKernel((CUfunction)fn, 1, 1, 1, 32, 1, 1, 0, (CUstream)stream, args, 0);
		if (r != CUDA_SUCCESS)
			return r;
	}
	return CUDA_SUCCESS;
}
static int gmk_launch_sync_loop(void *fn, void *stream, unsigned long long a0, unsigned long long a1, int n) {
	void *args[2] = {&a0, &a1};
	for (int i = 0; i < n; i++) {
		CUresult r = cuLaunchKernel((CUfunction)fn, 1, 1, 1, 32, 1, 1, 0, (CUstream)stream, args, 0);
		if (r != CUDA_SUCCESS)
			return r;
		r = cuStreamSynchronize((CUstream)stream);
		if (r != CUDA_SUCCESS)
			return r;
	}
	return CUDA_SUCCESS;
}
// DMA mode of host.rx: after the host published positions [from, to) and
// staging bytes [sfrom, sto) in the ring in pinned host memory, copy them to
// the device-memory mirror with the copy engine, then the new tail — last,
// on the same stream, so the device sees the tail only after the data. *tailbuf
// is a pinned word that stays untouched until the copy ran.
static int gmk_rx_push(void *ctx, void *stream, unsigned long long dring, void *hring,
                       unsigned long long from, unsigned long long to,
                       unsigned long long sfrom, unsigned long long sto, unsigned long long *tailbuf) {
	CUresult r = cuCtxSetCurrent((CUcontext)ctx);
	if (r != CUDA_SUCCESS)
		return r;
	gmk_bridge_ring_t *h = (gmk_bridge_ring_t *)hring;
	CUstream s = (CUstream)stream;
	uint64_t cap = h->capacity, ss = h->staging_size;
	unsigned char *hb = (unsigned char *)hring;
	if (to > from) {
		uint64_t i = from & (cap - 1), n = to - from, first = n < cap - i ? n : cap - i;
		r = cuMemcpyHtoDAsync(dring + h->slots_off + i * 64, hb + h->slots_off + i * 64, first * 64, s);
		if (r == CUDA_SUCCESS && n > first)
			r = cuMemcpyHtoDAsync(dring + h->slots_off, hb + h->slots_off, (n - first) * 64, s);
		if (r != CUDA_SUCCESS)
			return r;
	}
	if (ss > 0 && sto > sfrom) {
		uint64_t o = sfrom & (ss - 1), n = sto - sfrom, first = n < ss - o ? n : ss - o;
		r = cuMemcpyHtoDAsync(dring + h->staging_off + o, hb + h->staging_off + o, first, s);
		if (r == CUDA_SUCCESS && n > first)
			r = cuMemcpyHtoDAsync(dring + h->staging_off, hb + h->staging_off, n - first, s);
		if (r != CUDA_SUCCESS)
			return r;
	}
	*tailbuf = to;
	return cuMemcpyHtoDAsync(dring + offsetof(gmk_bridge_ring_t, tail), tailbuf, 8, s);
}
static const char *gmk_err_name(int r) {
	const char *s = 0;
	cuGetErrorName((CUresult)r, &s);
	return s ? s : "CUDA_ERROR_UNKNOWN";
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"
)

// drvErr turns a driver result into an error naming the call.
func drvErr(call string, r C.int) error {
	if r == 0 {
		return nil
	}
	return fmt.Errorf("cuda: %s: %s (%d)", call, C.GoString(C.gmk_err_name(r)), int(r))
}

// hostAlloc allocates n bytes of pinned host memory mapped into the device
// and returns it with its device address.
func hostAlloc(n int) ([]byte, cu.DevicePtr, error) {
	var p unsafe.Pointer
	if err := drvErr("cuMemHostAlloc", C.gmk_host_alloc(&p, C.size_t(n))); err != nil {
		return nil, 0, err
	}
	var d C.ulonglong
	if err := drvErr("cuMemHostGetDevicePointer", C.gmk_host_dptr(&d, p)); err != nil {
		C.gmk_host_free(p)
		return nil, 0, err
	}
	b := unsafe.Slice((*byte)(p), n)
	clear(b)
	return b, cu.DevicePtr(d), nil
}

// hostFree releases memory from hostAlloc.
func hostFree(b []byte) error {
	return drvErr("cuMemFreeHost", C.gmk_host_free(unsafe.Pointer(unsafe.SliceData(b))))
}

// hostRegister pins memory the caller mapped (a memfd bridge region shared
// with another process) and maps it into the device.
func hostRegister(b []byte) (cu.DevicePtr, error) {
	p := unsafe.Pointer(unsafe.SliceData(b))
	if err := drvErr("cuMemHostRegister", C.gmk_host_register(p, C.size_t(len(b)))); err != nil {
		return 0, err
	}
	var d C.ulonglong
	if err := drvErr("cuMemHostGetDevicePointer", C.gmk_host_dptr(&d, p)); err != nil {
		C.gmk_host_unregister(p)
		return 0, err
	}
	return cu.DevicePtr(d), nil
}

// hostUnregister undoes hostRegister.
func hostUnregister(b []byte) error {
	return drvErr("cuMemHostUnregister", C.gmk_host_unregister(unsafe.Pointer(unsafe.SliceData(b))))
}

// rawFunction and rawStream read the driver handles out of cu's wrappers,
// which keep them in their only field.
func rawFunction(f cu.Function) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&f)) }
func rawStream(s cu.Stream) unsafe.Pointer     { return *(*unsafe.Pointer)(unsafe.Pointer(&s)) }

// launchLoop launches fn(a0, a1) n times on s from C, one block of 32
// threads each; with sync, it waits for each before the next.
func launchLoop(fn cu.Function, s cu.Stream, a0, a1 uint64, n int, sync bool) error {
	if sync {
		return drvErr("cuLaunchKernel", C.gmk_launch_sync_loop(rawFunction(fn), rawStream(s), C.ulonglong(a0), C.ulonglong(a1), C.int(n)))
	}
	return drvErr("cuLaunchKernel", C.gmk_launch_loop(rawFunction(fn), rawStream(s), C.ulonglong(a0), C.ulonglong(a1), C.int(n)))
}

// rxPush runs gmk_rx_push.
func rxPush(ctx cu.CUContext, s cu.Stream, dring cu.DevicePtr, hring unsafe.Pointer, from, to, sfrom, sto uint64, tailbuf *uint64) error {
	return drvErr("rx push", C.gmk_rx_push(rawContext(ctx), rawStream(s), C.ulonglong(dring), hring,
		C.ulonglong(from), C.ulonglong(to), C.ulonglong(sfrom), C.ulonglong(sto), (*C.ulonglong)(unsafe.Pointer(tailbuf))))
}

func rawContext(c cu.CUContext) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&c)) }
