package alloc

import (
	"errors"
	"fmt"
)

// Defaults of [Config] (GMK.md "Defaults", [A1]).
const (
	DefaultSize         = 64 << 20
	DefaultTaskSlabPct  = 10
	DefaultTraceSlabPct = 2
	DefaultBlockPct     = 68
	DefaultBumpPct      = 20
	DefaultTenants      = 1
	DefaultSlabObject   = 64
)

// Limits checked by [Config.Validate].
const (
	MinSize       = 64 << 10 // smallest arena
	MaxSize       = 1 << 40  // largest arena
	MaxTenants    = 1 << tenantBits
	MaxSlabObject = 64 << 10 // largest slab object
	slabAlign     = 16       // slab objects are multiples of this (C alignment of a task)
	regionAlign   = 64       // every region and tenant share starts on a cache line
)

// ErrConfig is wrapped by every error of [Config.Validate] and [NewArena] that is
// caused by the configuration.
var ErrConfig = errors.New("alloc: invalid config")

// Config is the boot configuration of an arena ([A1]). Zero fields take their
// defaults in [Config.WithDefaults] (so a percentage cannot be set to 0).
type Config struct {
	Size         int // arena bytes; default 64 MiB
	TaskSlabPct  int // share of the task slab in percent; default 10
	TraceSlabPct int // share of the trace region in percent; default 2
	BlockPct     int // share of the block bins in percent; default 68
	BumpPct      int // share of the bump allocator in percent; default 20
	Tenants      int // partitions, 1..256; default 1
	SlabObject   int // task-slab object size in bytes, a multiple of 16; default 64
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Size, DefaultSize)
	def(&c.TaskSlabPct, DefaultTaskSlabPct)
	def(&c.TraceSlabPct, DefaultTraceSlabPct)
	def(&c.BlockPct, DefaultBlockPct)
	def(&c.BumpPct, DefaultBumpPct)
	def(&c.Tenants, DefaultTenants)
	def(&c.SlabObject, DefaultSlabObject)
	return c
}

// Validate checks c as it is (it does not apply defaults; [NewArena] does): the
// size range, percentages of 1..100 that sum to 100, the tenant count, the slab
// object size, and that every tenant gets at least one slab object and one 64-byte
// block while no bin outgrows the handle's 28-bit slot field. Every error wraps
// [ErrConfig].
func (c Config) Validate() error {
	if c.Size < MinSize || uint64(c.Size) > MaxSize {
		return fmt.Errorf("%w: size %d bytes out of range [%d, %d]", ErrConfig, c.Size, MinSize, uint64(MaxSize))
	}
	if err := c.validatePcts(); err != nil {
		return err
	}
	if c.Tenants < 1 || c.Tenants > MaxTenants {
		return fmt.Errorf("%w: %d tenants out of range [1, %d]", ErrConfig, c.Tenants, MaxTenants)
	}
	if c.SlabObject < slabAlign || c.SlabObject > MaxSlabObject || c.SlabObject%slabAlign != 0 {
		return fmt.Errorf("%w: slab object size %d must be a multiple of %d in [%d, %d]",
			ErrConfig, c.SlabObject, slabAlign, slabAlign, MaxSlabObject)
	}
	return c.validateLayout()
}

// validatePcts checks the four region percentages.
func (c Config) validatePcts() error {
	pcts := [...]struct {
		name string
		v    int
	}{{"task slab", c.TaskSlabPct}, {"trace slab", c.TraceSlabPct}, {"block", c.BlockPct}, {"bump", c.BumpPct}}
	sum := 0
	for _, p := range pcts {
		if p.v < 1 || p.v > 100 {
			return fmt.Errorf("%w: %s percentage %d out of range [1, 100]", ErrConfig, p.name, p.v)
		}
		sum += p.v
	}
	if sum != 100 {
		return fmt.Errorf("%w: percentages sum to %d (task slab %d + trace slab %d + block %d + bump %d), want 100",
			ErrConfig, sum, c.TaskSlabPct, c.TraceSlabPct, c.BlockPct, c.BumpPct)
	}
	return nil
}

// validateLayout checks the carved sizes of an otherwise valid config.
func (c Config) validateLayout() error {
	l := c.layout()
	if l.slabObjs < 1 || l.binBytes < MinBlock {
		return fmt.Errorf("%w: arena of %d bytes is too small for %d tenants: each gets %d slab objects and %d bytes per bin (want at least 1 object and %d bytes)",
			ErrConfig, c.Size, c.Tenants, l.slabObjs, l.binBytes, MinBlock)
	}
	if slots := l.binBytes / MinBlock; slots > maxSlots {
		return fmt.Errorf("%w: the %d-byte bin would hold %d blocks per tenant, more than the handle's %d-bit slot field allows (%d); use a smaller arena or more tenants",
			ErrConfig, MinBlock, slots, slotBits, maxSlots)
	}
	if int64(l.slabObjs) > maxSlabObjs {
		return fmt.Errorf("%w: the task slab would hold %d objects per tenant, more than %d; use larger objects or a smaller slab",
			ErrConfig, l.slabObjs, int64(maxSlabObjs))
	}
	return nil
}

// layout says where each region of a valid config lies in the arena. Tenant t's
// share of a region starts at off + t*per; bin i of tenant t starts at
// blockOff + t*blockPer + i*binBytes.
type layout struct {
	taskOff, taskPer   int
	slabObjs           int // objects per tenant slab
	traceOff, traceLen int
	blockOff, blockPer int
	binBytes           int // bytes per bin, before rounding to whole blocks
	bumpOff, bumpPer   int
}

// layout carves c (which must have passed the range checks of Validate). Regions
// follow each other in the order task slab, trace, block, bump; each is its
// percentage of Size rounded down to a cache line, each tenant share and each bin
// share too.
func (c Config) layout() layout {
	region := func(pct int) int { return alignDown(int(int64(c.Size)*int64(pct)/100), regionAlign) }
	share := func(n int) int { return alignDown(n/c.Tenants, regionAlign) }
	var l layout
	task, trace, block, bump := region(c.TaskSlabPct), region(c.TraceSlabPct), region(c.BlockPct), region(c.BumpPct)
	l.taskOff, l.taskPer = 0, share(task)
	l.slabObjs = l.taskPer / c.SlabObject
	l.traceOff, l.traceLen = task, trace
	l.blockOff, l.blockPer = task+trace, share(block)
	l.binBytes = alignDown(l.blockPer/NumBins, regionAlign)
	l.bumpOff, l.bumpPer = task+trace+block, share(bump)
	return l
}

// alignDown rounds n down to a multiple of align, a power of two.
func alignDown(n, align int) int { return n &^ (align - 1) }
