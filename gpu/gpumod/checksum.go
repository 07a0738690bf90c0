package gpumod

import (
	"cmp"
	"encoding/binary"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/kernel"
)

// ChecksumConfig configures the checksum module. Zero fields take defaults.
type ChecksumConfig struct {
	Name    string // module name; default "checksum"
	In, Out string // channels; default "sum.in" and "sum.out"
	InType  uint32 // default ChecksumInType
	OutType uint32 // default ChecksumOutType
	Slots   int
}

func (c ChecksumConfig) withDefaults() ChecksumConfig {
	c.Name = cmp.Or(c.Name, "checksum")
	c.In = cmp.Or(c.In, "sum.in")
	c.Out = cmp.Or(c.Out, "sum.out")
	c.InType = cmp.Or(c.InType, ChecksumInType)
	c.OutType = cmp.Or(c.OutType, ChecksumOutType)
	return c
}

// checksumShared is the shared memory the BLOCK handler asks for: one
// 8-byte partial sum per thread of the largest block (1024 threads).
const checksumShared = 8 * 1024

// Checksum returns the checksum module: a BLOCK handler ([G3]), the shape of
// a block reduction. Each lane sums the payload bytes i, i+Width, i+2·Width
// … into its slot of the block's shared memory; the last lane adds the
// partial sums and emits an inline result on Out: meta0 unchanged, meta1 =
// the sum of the payload's bytes.
//
// Channel contract: In lossless (P2P), Out lossless (P2P), inline results.
func Checksum(cfg ChecksumConfig) gpu.Module {
	cfg = cfg.withDefaults()
	var out kernel.ChanID
	return gpu.Module{Name: cfg.Name, Version: "1",
		Handlers: []gpu.Handler{{Type: cfg.InType, Name: "checksum", Flags: kernel.Block | kernel.NeedsShared,
			SharedBytes: checksumShared,
			Fn: func(c *kernel.Ctx, l gpu.Lane) kernel.Status {
				var sum uint64
				p := c.Payload()
				for i := l.ID; i < len(p); i += l.Width {
					sum += uint64(p[i])
				}
				binary.LittleEndian.PutUint64(l.Shared[8*l.ID:], sum)
				if l.ID != l.Width-1 {
					return kernel.OK
				}
				var total uint64 // the last lane: every partial is written
				for i := range l.Width {
					total += binary.LittleEndian.Uint64(l.Shared[8*i:])
				}
				t := c.Task()
				return forward(c, out, kernel.Task{Type: cfg.OutType, Tenant: t.Tenant, Meta0: t.Meta0, Meta1: total})
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
