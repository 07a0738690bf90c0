package gpu

import (
	"fmt"

	"github.com/gmkernel/gmk/kernel"
)

// WarpSize is the number of lanes of a warp.
const WarpSize = 32

// Lane is what one thread of a GPU handler sees ([G3]). A handler runs as
// Width lanes; each lane is one call of the handler's LaneFunc with the same
// Ctx (the same task) and its own ID:
//
//   - SCALAR (the default): one task per lane. A homogeneous sub-batch of n
//     tasks runs on lanes 0..n-1, one call per task: ID is the task's index
//     in its sub-batch, Width its size (n ≤ the batch size, 32).
//   - WARP: one task per warp. The handler is called WarpSize (32) times for
//     the task, ID 0..31, Width 32.
//   - BLOCK: one task per block. The handler is called BlockThreads times
//     for the task (Info.BlockThreads, 128 by default), ID 0..Width-1.
//
// On a device the lanes run at once; the simulated kernel runs them one
// after another in ID order on one worker, so lane i sees what lanes below
// i wrote to Shared, and the last lane (ID == Width-1) runs after all the
// others — put a combining step (a reduction's total, the one emit of the
// task's result) there, where a device handler would sit behind a barrier.
// Every lane's status counts: the task's result is the first lane's
// non-OK status in ID order, else OK. Side effects (emits, yields) are the
// task's, whichever lane makes them: a WARP or BLOCK handler emits from one
// lane only.
type Lane struct {
	ID     int    // this lane, 0..Width-1
	Width  int    // lanes the task (SCALAR: the sub-batch) runs on
	Shared []byte // the block's shared memory: SharedBytes, zeroed per task (SCALAR: per sub-batch)
}

// Warp returns the lane's warp within its block, and its lane within the warp.
func (l Lane) Warp() (warp, lane int) { return l.ID / WarpSize, l.ID % WarpSize }

// LaneFunc is a GPU handler: one call per lane.
type LaneFunc func(c *kernel.Ctx, l Lane) kernel.Status

// Handler registers a GPU handler for a task type ([M1]): Flags holds the
// granularity (kernel.Scalar, kernel.Warp or kernel.Block) and the other
// registration flags; SharedBytes sizes the block's shared memory.
type Handler struct {
	Type        uint32
	Name        string
	Flags       kernel.HandlerFlags
	SharedBytes int
	Fn          LaneFunc

	plain kernel.HandlerFunc // set by FromKernel: a CPU-style handler, run as SCALAR
}

// Module is a GPU module ([G5]): the module structure of the CPU kernel —
// name, handlers, channel declarations, Init and Fini — with lane handlers.
type Module struct {
	Name     string
	Version  string
	Handlers []Handler
	Channels []kernel.ChanDecl
	Init     func(*kernel.Ctx) error
	Fini     func(*kernel.Ctx) error
}

// FromKernel adapts a CPU-style module (the standard modules of modules/,
// which implement the GPU modules' contracts) to a GPU module whose
// handlers run as SCALAR: one call per task, the lane not shown.
func FromKernel(m kernel.Module) Module {
	g := Module{Name: m.Name, Version: m.Version, Channels: m.Channels, Init: m.Init, Fini: m.Fini}
	for _, h := range m.Handlers {
		g.Handlers = append(g.Handlers, Handler{Type: h.Type, Name: h.Name, Flags: h.Flags,
			SharedBytes: h.SharedBytes, plain: h.Fn})
	}
	return g
}

// Plain returns the CPU-style function of a handler made by FromKernel.
func (h Handler) Plain() kernel.HandlerFunc { return h.plain }

// Granularity returns the handler's lanes per task for a block of
// blockThreads: 1 (SCALAR), WarpSize (WARP) or blockThreads (BLOCK).
func (h Handler) Granularity(blockThreads int) int {
	switch {
	case h.Flags&kernel.Block != 0:
		return blockThreads
	case h.Flags&kernel.Warp != 0:
		return WarpSize
	}
	return 1
}

// Validate reports a module a GPU kernel cannot run.
func (m Module) Validate() error {
	for _, h := range m.Handlers {
		switch {
		case h.Fn == nil && h.plain == nil:
			return fmt.Errorf("gpu: module %s: handler %q for type %d has no function", m.Name, h.Name, h.Type)
		case h.Flags&kernel.Warp != 0 && h.Flags&kernel.Block != 0:
			return fmt.Errorf("gpu: module %s: handler %q is both WARP and BLOCK", m.Name, h.Name)
		case h.plain != nil && h.Flags&(kernel.Warp|kernel.Block) != 0:
			return fmt.Errorf("gpu: module %s: handler %q is WARP or BLOCK but has no lane function (use a gpu.Handler with Fn)", m.Name, h.Name)
		case h.SharedBytes < 0 || h.SharedBytes > MaxShared:
			return fmt.Errorf("gpu: module %s: handler %q asks for %d bytes of shared memory, max %d", m.Name, h.Name, h.SharedBytes, MaxShared)
		}
	}
	return nil
}

// MaxShared is the most shared memory a handler may ask for (an H100
// block's 227 KiB, rounded down).
const MaxShared = 224 << 10
