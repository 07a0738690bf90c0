package sdk

import (
	"context"

	"github.com/gmkernel/gmk/kernel"
)

// Key-value requests ([U1] kv put/get/del), served by modules/kv. One
// request channel carries all three operations, so that a client's requests
// apply in the order it sent them:
//
//	request   meta0 = ReplyTo (reply channel, correlation id; 0 = no reply)
//	          meta1 = op (bits 0..7) | key length (bits 8..23)
//	          payload = key bytes, then (put) value bytes
//	reply     meta0 = the request's ReplyTo
//	          meta1 = result: get → value length (the value is the payload),
//	                  put, del → 0; or a negative code: CodeNotFound,
//	                  CodeKeyTooLong, CodeValTooLong, CodeFull, CodeBadRequest
//
// An empty key is a bad request. A get of an empty value replies 0 with no
// payload.

// KVOp is a key-value operation.
type KVOp uint8

// Key-value operations.
const (
	KVPut KVOp = 1
	KVGet KVOp = 2
	KVDel KVOp = 3
)

// KVMeta returns a request's meta1 for op and a key of keyLen bytes.
func KVMeta(op KVOp, keyLen int) uint64 { return uint64(op) | uint64(uint16(keyLen))<<8 }

// SplitKVMeta splits a request's meta1.
func SplitKVMeta(meta1 uint64) (op KVOp, keyLen int) {
	return KVOp(meta1), int(uint16(meta1 >> 8))
}

// KVRequest sends a key-value request of op to the kv service at p: key and
// (for KVPut) val are copied into one payload.
func KVRequest(c *kernel.Ctx, p Port, r ReplyTo, op KVOp, key, val []byte) kernel.Status {
	if len(key) == 0 || len(key) > 0xFFFF {
		return CodeBadRequest
	}
	h, b, err := c.Alloc(len(key) + len(val))
	if err != nil {
		return Code(err)
	}
	copy(b[copy(b, key):], val)
	t := kernel.Task{Type: p.Type, Tenant: uint16(c.Tenant()), Meta0: uint64(r), Meta1: KVMeta(op, len(key)),
		Payload: h, PayloadLen: uint32(len(b))}
	return Send(c, p.Chan, t)
}

// KVPutReq, KVGetReq and KVDelReq are KVRequest for one operation.
func KVPutReq(c *kernel.Ctx, p Port, r ReplyTo, key, val []byte) kernel.Status {
	return KVRequest(c, p, r, KVPut, key, val)
}

// KVGetReq sends a get.
func KVGetReq(c *kernel.Ctx, p Port, r ReplyTo, key []byte) kernel.Status {
	return KVRequest(c, p, r, KVGet, key, nil)
}

// KVDelReq sends a delete.
func KVDelReq(c *kernel.Ctx, p Port, r ReplyTo, key []byte) kernel.Status {
	return KVRequest(c, p, r, KVDel, key, nil)
}

// EmitKV sends a key-value request from outside the kernel (EmitBytes).
func EmitKV(ctx context.Context, k *kernel.Kernel, p Port, tenant int, r ReplyTo, op KVOp, key, val []byte) error {
	if len(key) == 0 || len(key) > 0xFFFF {
		return CodeBadRequest.Err()
	}
	b := make([]byte, 0, len(key)+len(val))
	b = append(append(b, key...), val...)
	return EmitBytes(ctx, k, p, tenant, uint64(r), KVMeta(op, len(key)), b)
}
