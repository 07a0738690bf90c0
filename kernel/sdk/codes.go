package sdk

import (
	"errors"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

// Failure codes of the standard modules (modules/…). They extend the stable
// codes of [T4] in the application range below -1000 and are shared with the
// GPU versions of the modules: a module reports them as FAIL(code) (to the
// channel's error handler or sys.error, with the code in the report's Aux
// field) or as the negative status of a reply.
const (
	CodeBadRequest  kernel.Status = -1000 // malformed request: a field out of range, a payload of the wrong size
	CodeNotFound    kernel.Status = -1001 // kv: no such key
	CodeKeyTooLong  kernel.Status = -1002 // kv: key longer than the store's limit
	CodeValTooLong  kernel.Status = -1003 // kv: value longer than the store's limit
	CodeFull        kernel.Status = -1004 // a fixed-size table (kv entries, timers, gates, reduce groups) is full
	CodeDuplicate   kernel.Status = -1005 // reduce: an element index arrived twice
	CodeMismatch    kernel.Status = -1006 // gate: arrivals disagree on N; reduce: two last elements
	CodeIO          kernel.Status = -1007 // nic, nvme: an I/O error without a more precise code
	CodeNoSpace     kernel.Status = -1008 // nvme: the target is full (ENOSPC, EDQUOT, EFBIG)
	CodeReadOnly    kernel.Status = -1009 // nvme: the target is read-only (EROFS, EACCES, EPERM)
	CodeNoFile      kernel.Status = -1010 // nvme: unknown file id or missing file
	CodeUnreachable kernel.Status = -1011 // nic: unknown or closed endpoint
)

// Code maps an error returned by the kernel API to its status ([T4]): nil
// is OK, a kernel sentinel its stable code, a *task.CodeError its code, and
// anything else FAIL.
func Code(err error) kernel.Status {
	if err == nil {
		return kernel.OK
	}
	for _, s := range codes { // the sentinels themselves: no unwrapping, no allocation
		if err == s.err {
			return s.code
		}
	}
	for _, s := range codes {
		if errors.Is(err, s.err) {
			return s.code
		}
	}
	if ce := (*task.CodeError)(nil); errors.As(err, &ce) {
		return ce.Code
	}
	return kernel.Fail
}

var codes = [...]struct {
	err  error
	code kernel.Status
}{
	{kernel.ErrChanFull, task.ChanFull},
	{kernel.ErrChanClosed, task.ChanClosed},
	{kernel.ErrChanTypeMismatch, task.ChanTypeMismatch},
	{kernel.ErrChanAlreadyBound, task.ChanAlreadyBound},
	{kernel.ErrChanUnknown, task.ChanUnknown},
	{kernel.ErrAllocFail, task.AllocFail},
	{kernel.ErrStalePayload, task.StalePayload},
	{kernel.ErrClosed, task.KernelClosed},
	{kernel.ErrUnknownType, task.UnknownType},
	{kernel.ErrBadTenant, task.BadTenant},
}
