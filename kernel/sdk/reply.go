package sdk

import "github.com/gmkernel/gmk/kernel"

// Request/reply ([U1]). A request carries where to answer in Meta0: the
// reply channel's id and a correlation id the requester chose,
//
//	meta0 = corr<<32 | reply channel id        (ReplyTo)
//
// and the service answers with a task on that channel whose Meta0 is the
// same word, so the requester matches a reply to its request by Corr. Meta1
// and the payload carry the arguments and the result; each service documents
// them. A ReplyTo of 0 asks for no reply. Channel ids are kernel-local, so a
// ReplyTo is meaningful only on the kernel that issued it (a bridge rewrites
// it with the payload reference).

// ReplyTo is the reply address a request carries in Meta0.
type ReplyTo uint64

// NewReplyTo returns the reply address for channel ch and correlation corr.
func NewReplyTo(ch kernel.ChanID, corr uint32) ReplyTo {
	return ReplyTo(uint64(corr)<<32 | uint64(ch))
}

// Chan returns the reply channel (0: no reply wanted).
func (r ReplyTo) Chan() kernel.ChanID { return kernel.ChanID(uint32(r)) }

// Corr returns the correlation id.
func (r ReplyTo) Corr() uint32 { return uint32(r >> 32) }

// ReplyOf returns the reply address of request t.
func ReplyOf(t *kernel.Task) ReplyTo { return ReplyTo(t.Meta0) }

// Request sends an inline request of p's type: Meta0 = r, Meta1 = arg.
func Request(c *kernel.Ctx, p Port, r ReplyTo, arg uint64) kernel.Status {
	return SendInline(c, p, uint64(r), arg)
}

// RequestBytes sends a request of p's type with a copy of b as payload.
func RequestBytes(c *kernel.Ctx, p Port, r ReplyTo, arg uint64, b []byte) kernel.Status {
	return SendBytes(c, p, uint64(r), arg, b)
}

// Reply answers the current request with an inline task of type typ:
// Meta0 = the request's ReplyTo, Meta1 = result. A request without a reply
// address is answered with OK and nothing sent.
func Reply(c *kernel.Ctx, typ uint32, result uint64) kernel.Status {
	r := ReplyOf(c.Task())
	if r.Chan() == 0 {
		return kernel.OK
	}
	return SendInline(c, Port{Chan: r.Chan(), Type: typ}, uint64(r), result)
}

// ReplyBytes answers the current request with a task of type typ whose
// payload is a copy of b.
func ReplyBytes(c *kernel.Ctx, typ uint32, result uint64, b []byte) kernel.Status {
	r := ReplyOf(c.Task())
	if r.Chan() == 0 {
		return kernel.OK
	}
	return SendBytes(c, Port{Chan: r.Chan(), Type: typ}, uint64(r), result, b)
}

// Result packs a failure code ([T4] and the Code… constants) into a reply's
// result word; a non-negative count is packed as itself.
func Result(code kernel.Status) uint64 { return uint64(int64(code)) }

// Signed reads a reply's result word: a count (bytes, elements) when
// non-negative, a failure code when negative.
func Signed(result uint64) int64 { return int64(result) }
