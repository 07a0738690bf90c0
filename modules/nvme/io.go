package nvme

import (
	"errors"
	"io"
	"io/fs"
	"syscall"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// Request layouts (see doc.go).

// ReqMeta returns a request's meta0: the caller's tag and the file id.
func ReqMeta(tag, file uint32) uint64 { return uint64(tag) | uint64(file)<<32 }

// SplitReq splits a request's meta0.
func SplitReq(meta0 uint64) (tag, file uint32) { return uint32(meta0), uint32(meta0 >> 32) }

// ReadMeta returns a read's meta1: offset (bits 0..39) and length (bits
// 40..63).
func ReadMeta(off uint64, n int) uint64 { return off&(1<<40-1) | uint64(n)<<40 }

// SplitRead splits a read's meta1.
func SplitRead(meta1 uint64) (off uint64, n int) { return meta1 & (1<<40 - 1), int(meta1 >> 40) }

// ErrMeta is the meta1 of an error task: the operation (bits 56..63: 1 read,
// 2 write) and the failure code (bits 0..31, signed).
func ErrMeta(op Op, st kernel.Status) uint64 { return uint64(op)<<56 | uint64(uint32(st)) }

// SplitErr splits an error task's meta1.
func SplitErr(meta1 uint64) (Op, kernel.Status) {
	return Op(meta1 >> 56), kernel.Status(int32(uint32(meta1)))
}

// Op is a request's operation.
type Op uint8

// Operations.
const (
	OpRead  Op = 1
	OpWrite Op = 2
)

// request is one queued I/O.
type request struct {
	op     Op
	meta0  uint64 // tag | file<<32, echoed in the completion
	meta1  uint64
	tenant uint16
	off    int64
	n      int    // read length
	h      uint64 // write: the retained payload
	b      []byte // write: its arena bytes, valid while h is held
}

// read handles disk.read: it only validates and queues.
func (d *NVMe) read(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	off, n := SplitRead(t.Meta1)
	if n < 1 || n > MaxIO {
		return sdk.CodeBadRequest
	}
	return d.enqueue(c, request{op: OpRead, meta0: t.Meta0, meta1: t.Meta1, tenant: t.Tenant, off: int64(off), n: n})
}

// write handles disk.write: the payload is retained, not copied, until the
// I/O goroutine wrote it.
func (d *NVMe) write(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	if t.Meta1 > 1<<62 {
		return sdk.CodeBadRequest
	}
	r := request{op: OpWrite, meta0: t.Meta0, meta1: t.Meta1, tenant: t.Tenant, off: int64(t.Meta1)}
	if t.Payload != 0 {
		h, err := c.PayloadRetain()
		if err != nil {
			return sdk.Code(err)
		}
		r.h, r.b = h, c.Payload()
	}
	st := d.enqueue(c, r)
	if st != kernel.OK && r.h != 0 {
		_ = c.PayloadRelease(r.h)
	}
	return st
}

func (d *NVMe) enqueue(c *kernel.Ctx, r request) kernel.Status {
	_, file := SplitReq(r.meta0)
	if int(file) >= len(d.files) {
		return sdk.CodeNoFile
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return sdk.Code(kernel.ErrClosed) // KERNEL_CLOSED: the module is stopping
	}
	select {
	case d.queue <- r:
		return kernel.OK
	default: // every I/O goroutine is busy and the queue is full: back off
		return kernel.Retry
	}
}

// failed handles the error task of a failed request: it fails with the
// request's code, so the failure reaches sys.error (it is a direct task,
// not a channel delivery, so the request channels' error handlers do not
// see it).
func (d *NVMe) failed(c *kernel.Ctx) kernel.Status {
	_, st := SplitErr(c.Task().Meta1)
	return kernel.FailCode(int32(st))
}

// serve is an I/O goroutine.
func (d *NVMe) serve() {
	defer d.wg.Done()
	for r := range d.queue {
		if r.op == OpRead {
			d.doRead(r)
		} else {
			d.doWrite(r)
		}
	}
}

func (d *NVMe) doRead(r request) {
	_, file := SplitReq(r.meta0)
	f := d.files[file]
	if f == nil {
		d.complete(r, d.readResp, d.codes[file], 0, 0)
		return
	}
	h, b, err := d.k.Alloc(int(r.tenant), r.n)
	if err != nil {
		d.complete(r, d.readResp, sdk.Code(err), 0, 0)
		return
	}
	m, err := f.ReadAt(b, r.off)
	if err != nil && !errors.Is(err, io.EOF) {
		_ = d.k.Release(h)
		d.complete(r, d.readResp, code(err), 0, 0)
		return
	}
	if m == 0 {
		_ = d.k.Release(h)
		h = 0
	}
	d.complete(r, d.readResp, kernel.OK, h, m)
}

func (d *NVMe) doWrite(r request) {
	_, file := SplitReq(r.meta0)
	f := d.files[file]
	st, m := d.codes[file], 0
	if f != nil {
		var err error
		m, err = f.WriteAt(r.b, r.off)
		st = code(err)
	}
	if r.h != 0 {
		_ = d.k.Release(r.h)
	}
	d.complete(r, d.writeResp, st, 0, m)
}

// complete sends a request's completion on resp (when it has one): meta0
// echoed, meta1 the byte count or the failure code, payload h of n bytes;
// a failure also becomes an error task.
func (d *NVMe) complete(r request, resp sdk.Port, st kernel.Status, h uint64, n int) {
	if resp.Chan != 0 {
		res := uint64(n)
		if st != kernel.OK {
			res = sdk.Result(st)
		}
		t := kernel.Task{Type: resp.Type, Tenant: r.tenant, Meta0: r.meta0, Meta1: res}
		if h != 0 {
			t.Payload, t.PayloadLen = h, uint32(n)
		}
		if d.k.ChanEmitWait(d.ctx, resp.Chan, t) != nil && h != 0 {
			_ = d.k.Release(h) // the kernel halted or the module stops
		}
	} else if h != 0 {
		_ = d.k.Release(h)
	}
	if st != kernel.OK {
		_ = d.k.Submit(kernel.Task{Type: d.cfg.ErrType, Tenant: r.tenant, Meta0: r.meta0, Meta1: ErrMeta(r.op, st)})
	}
}

// code maps an I/O error to a failure code.
func code(err error) kernel.Status {
	var errno syscall.Errno
	switch {
	case err == nil:
		return kernel.OK
	case errors.As(err, &errno) && (errno == syscall.ENOSPC || errno == syscall.EDQUOT || errno == syscall.EFBIG):
		return sdk.CodeNoSpace
	case errors.As(err, &errno) && (errno == syscall.EROFS || errno == syscall.EACCES || errno == syscall.EPERM || errno == syscall.EBADF):
		return sdk.CodeReadOnly
	case errors.Is(err, fs.ErrNotExist):
		return sdk.CodeNoFile
	}
	return sdk.CodeIO
}
