package kv

import (
	"cmp"
	"fmt"
	"math/bits"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// Default task types (modules/doc.go) and sizes (GMK.md Defaults: kv).
const (
	DefaultReqType  = 962
	DefaultRespType = 963
	DefaultBuckets  = 65536
	DefaultEntries  = 8192
	DefaultMaxKey   = 64
	DefaultMaxValue = 256
)

// Config configures the kv module. Zero fields take their defaults.
type Config struct {
	Name     string // module name; default "kv"
	Req      string // request channel; default "kv.req"
	ReqType  uint32 // default DefaultReqType
	RespType uint32 // type of the replies; default DefaultRespType
	Slots    int    // request channel capacity; 0 = the kernel's default
	Buckets  int    // hash buckets, a power of two; default 65536
	Entries  int    // most keys held; default 8192
	MaxKey   int    // longest key in bytes; default 64 (at most 65535)
	MaxValue int    // longest value in bytes; default 256 (at most 65535)
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	c.Name = cmp.Or(c.Name, "kv")
	c.Req = cmp.Or(c.Req, "kv.req")
	c.ReqType = cmp.Or(c.ReqType, DefaultReqType)
	c.RespType = cmp.Or(c.RespType, DefaultRespType)
	def(&c.Buckets, DefaultBuckets)
	def(&c.Entries, DefaultEntries)
	def(&c.MaxKey, DefaultMaxKey)
	def(&c.MaxValue, DefaultMaxValue)
	return c
}

// Validate reports a configuration that cannot work (after defaults).
func (c Config) Validate() error {
	switch {
	case c.Buckets < 1 || bits.OnesCount(uint(c.Buckets)) != 1:
		return fmt.Errorf("kv: buckets %d is not a power of two", c.Buckets)
	case c.Entries < 1 || c.Entries > 1<<24:
		return fmt.Errorf("kv: entries %d out of range [1, 16M]", c.Entries)
	case c.MaxKey < 1 || c.MaxKey > 0xFFFF || c.MaxValue < 0 || c.MaxValue > 0xFFFF:
		return fmt.Errorf("kv: key limit %d or value limit %d out of range", c.MaxKey, c.MaxValue)
	case c.Slots < 0:
		return fmt.Errorf("kv: slots %d below zero", c.Slots)
	}
	return nil
}

// KV is a kv module instance: its store and its kernel module.
type KV struct {
	cfg   Config
	store *Store
}

// New returns a kv instance; the store is allocated here, once.
func New(cfg Config) (*KV, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &KV{cfg: cfg, store: NewStore(cfg.Buckets, cfg.Entries, cfg.MaxKey, cfg.MaxValue)}, nil
}

// Module returns the kv module of a new instance. An invalid configuration
// makes its Init fail, so Boot reports it.
func Module(cfg Config) kernel.Module {
	kv, err := New(cfg)
	if err != nil {
		return kernel.Module{Name: cfg.WithDefaults().Name, Init: func(*kernel.Ctx) error { return err }}
	}
	return kv.Module()
}

// Store returns the instance's store (the control plane's view: gmk kv).
func (kv *KV) Store() *Store { return kv.store }

// Module returns the instance's kernel module.
func (kv *KV) Module() kernel.Module {
	return kernel.Module{Name: kv.cfg.Name, Version: "1.0",
		Handlers: []kernel.Handler{{Type: kv.cfg.ReqType, Name: "request", Fn: kv.handle}},
		Channels: []kernel.ChanDecl{{Name: kv.cfg.Req, Dir: kernel.Consume, Type: kv.cfg.ReqType,
			Guarantee: kernel.Lossless, Slots: kv.cfg.Slots}},
	}
}

// done marks a request whose operation was applied but whose reply did not
// fit its channel; the result is kept in meta1's top bits, so the retry
// re-sends it instead of applying the operation twice.
const done = 1 << 24

// handle serves one request (the contract is in doc.go).
func (kv *KV) handle(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	op, klen := sdk.SplitKVMeta(t.Meta1)
	if t.Meta1&done != 0 {
		return kv.reply(c, kernel.Status(int32(t.Meta1>>32)), 0, 0)
	}
	p := c.Payload()
	if klen == 0 || klen > len(p) {
		return kv.reply(c, sdk.CodeBadRequest, 0, 0)
	}
	key, val := p[:klen], p[klen:]
	var st kernel.Status
	switch op {
	case sdk.KVPut:
		st = kv.store.Put(key, val)
	case sdk.KVDel:
		st = kv.store.Del(key)
	case sdk.KVGet:
		if len(val) != 0 {
			return kv.reply(c, sdk.CodeBadRequest, 0, 0)
		}
		h, n, st := kv.store.getAlloc(c, key)
		return kv.reply(c, st, h, n)
	default:
		st = sdk.CodeBadRequest
	}
	t.Meta1 = t.Meta1&(done-1) | done | uint64(uint32(st))<<32
	return kv.reply(c, st, 0, 0)
}

// reply answers the current request with status st (and a get's value, a
// payload of n bytes at h). A request without a reply address fails with
// st instead, so its error reaches sys.error rather than nobody.
func (kv *KV) reply(c *kernel.Ctx, st kernel.Status, h uint64, n int) kernel.Status {
	r := sdk.ReplyOf(c.Task())
	if r.Chan() == 0 {
		if h != 0 {
			_ = c.Free(h)
		}
		if st < 0 {
			return st
		}
		return kernel.OK
	}
	res := sdk.Result(st)
	if st == kernel.OK {
		res = uint64(n)
	}
	x := kernel.Task{Type: kv.cfg.RespType, Tenant: uint16(c.Tenant()), Meta0: uint64(r), Meta1: res,
		Payload: h, PayloadLen: uint32(n)}
	return sdk.Send(c, r.Chan(), x)
}
