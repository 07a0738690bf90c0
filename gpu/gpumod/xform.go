package gpumod

import (
	"cmp"
	"errors"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
)

// Default task types of the GPU modules here (modules/doc.go reserves
// 960..980 for the standard modules; these follow).
const (
	XformInType     = 990
	XformOutType    = 991
	ChecksumInType  = 992
	ChecksumOutType = 993
)

// XformConfig configures the transform module. Zero fields take defaults.
type XformConfig struct {
	Name    string // module name; default "xform"
	In, Out string // channels; default "host.rx" and "host.tx" (the bridge's default pair)
	InType  uint32 // default XformInType
	OutType uint32 // default XformOutType
	Scale   uint64 // meta1 = meta0 × Scale; default 2
	Slots   int    // capacity of both channels; 0 = the kernel's default
}

func (c XformConfig) withDefaults() XformConfig {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Name, "xform")
	def(&c.In, "host.rx")
	def(&c.Out, "host.tx")
	c.InType = cmp.Or(c.InType, XformInType)
	c.OutType = cmp.Or(c.OutType, XformOutType)
	c.Scale = cmp.Or(c.Scale, 2)
	return c
}

// Xform returns the transform module: a WARP handler ([G3]) that consumes
// In and, for each task, upper-cases the ASCII letters of its payload in
// place — lane i takes bytes i, i+32, i+64 … (a warp's coalesced stride) —
// and sets meta1 = meta0 × Scale; its last lane then forwards the task on
// Out as OutType with the same payload, zero-copy.
//
// Channel contract: In is P2P and lossless (the handler owns the payload it
// rewrites); Out is P2P and lossless, carrying meta0 unchanged. A full Out
// holds the task until there is room (RETRY, which the kernel parks without
// a backoff); the transform is idempotent, so the re-run is harmless.
func Xform(cfg XformConfig) gpu.Module {
	cfg = cfg.withDefaults()
	var out kernel.ChanID
	return gpu.Module{Name: cfg.Name, Version: "1",
		Handlers: []gpu.Handler{{Type: cfg.InType, Name: "xform", Flags: kernel.Warp,
			Fn: func(c *kernel.Ctx, l gpu.Lane) kernel.Status {
				p := c.Payload()
				for i := l.ID; i < len(p); i += l.Width {
					if b := p[i]; 'a' <= b && b <= 'z' {
						p[i] = b - ('a' - 'A')
					}
				}
				if l.ID != l.Width-1 {
					return kernel.OK
				}
				x := *c.Task()
				x.Type, x.Meta1 = cfg.OutType, x.Meta0*cfg.Scale
				return forward(c, out, x)
			}}},
		Channels: []kernel.ChanDecl{
			{Name: cfg.In, Dir: kernel.Consume, Type: cfg.InType, Guarantee: kernel.Lossless, Slots: cfg.Slots},
			{Name: cfg.Out, Dir: kernel.Produce, Type: cfg.OutType, Guarantee: kernel.Lossless, Slots: cfg.Slots},
		},
		Init: func(c *kernel.Ctx) (err error) {
			out, err = c.Kernel().Chan(cfg.Out)
			return err
		},
	}
}

// forward emits x, which carries the current task's payload reference, on
// out: it takes its own reference first (the runtime releases the task's
// when the handler returns) and gives it back if the emit fails. CHAN_FULL
// becomes RETRY, other errors the failure's code.
func forward(c *kernel.Ctx, out kernel.ChanID, x kernel.Task) kernel.Status {
	if x.Payload != 0 {
		if _, err := c.PayloadRetain(); err != nil {
			return kernel.Fail
		}
	}
	err := c.ChanEmit(out, x)
	if err == nil {
		return kernel.OK
	}
	if x.Payload != 0 {
		_ = c.PayloadRelease(x.Payload)
	}
	if errors.Is(err, kernel.ErrChanFull) {
		return kernel.Retry
	}
	return kernel.Fail
}
