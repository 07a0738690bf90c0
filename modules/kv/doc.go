// Package kv is the key-value module ([U2], [G5]): a fixed-size hash table
// served over one request channel, with replies to the requester.
//
// # Channel contract
//
//	kv.req   consumed; P2P, lossless; type ReqType (default 962)
//	         meta0 = ReplyTo: reply channel id | correlation id<<32 (0 = no reply)
//	         meta1 = op (bits 0..7: 1 put, 2 get, 3 del) | key length (bits 8..23)
//	         payload = key bytes, then (put) the value bytes
//	reply    on the ReplyTo channel; type RespType (default 963)
//	         meta0 = the request's ReplyTo (match replies by its correlation id)
//	         meta1 = result, signed: get → the value's length (value = payload;
//	                 none for an empty value), put, del → 0; or a failure code
//	         payload = the value (get)
//
// Failure codes (kernel/sdk): CodeNotFound (get, del of an absent key),
// CodeKeyTooLong, CodeValTooLong, CodeFull (no free entry), CodeBadRequest
// (empty key, key length beyond the payload, a get with a value, unknown
// op), ALLOC_FAIL (no arena block for a get's value). With a reply address a
// failure is the reply's result and the request completes; without one the
// request fails with the code, so it reaches the channel's error handler or
// sys.error instead of nobody.
//
// Order: requests apply in kv.req order (one subscription), and their
// replies leave in that order while the reply channel has room. A reply
// that finds its channel full makes the request wait for room and send it
// then — so later replies may overtake it: match replies by correlation id.
// The operation is applied once: the request remembers it was done (meta1
// bit 24 and the result in bits 32..63), so a put is not repeated and a del
// does not turn into "not found".
//
// Sizes (GMK.md Defaults: kv): 65,536 buckets, values up to 256 bytes, keys
// up to 64 bytes, 8,192 entries; all allocated at New.
//
// # Concurrency
//
// The Store serialises its operations with a mutex (uncontended on the task
// path, where one subscription serves kv.req); the control plane may read
// and write it through KV.Store at any time.
package kv
