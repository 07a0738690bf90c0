package daemon

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/gmkernel/gmk/gpu"
	"github.com/gmkernel/gmk/gpu/gpumod"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/modules/echo"
)

// ModuleRef names a GPU module of the daemon's catalogue, with its
// arguments. A GPU module is Go code compiled into the daemon, so the host
// boots the daemon's kernel with names, not values; the host builds the
// same modules from the same references for their channel declarations
// (Modules), which routing needs.
type ModuleRef struct {
	Name string
	Args map[string]string
}

// builder makes a module from its arguments.
type builder func(a args) (gpu.Module, error)

// catalogue is the GPU modules the daemon runs, by name.
var catalogue = map[string]builder{
	// xform: gpumod.Xform (WARP): in, out, in_type, out_type, scale, slots.
	"xform": func(a args) (gpu.Module, error) {
		c := gpumod.XformConfig{Name: a.str("name", ""), In: a.str("in", ""), Out: a.str("out", ""),
			InType: a.u32("in_type", 0), OutType: a.u32("out_type", 0), Scale: a.u64("scale", 0), Slots: a.int("slots", 0)}
		return gpumod.Xform(c), a.err()
	},
	// checksum: gpumod.Checksum (BLOCK): in, out, in_type, out_type, slots.
	"checksum": func(a args) (gpu.Module, error) {
		c := gpumod.ChecksumConfig{Name: a.str("name", ""), In: a.str("in", ""), Out: a.str("out", ""),
			InType: a.u32("in_type", 0), OutType: a.u32("out_type", 0), Slots: a.int("slots", 0)}
		return gpumod.Checksum(c), a.err()
	},
	// echo: modules/echo as a SCALAR GPU module: in, out, in_type, out_type, slots.
	"echo": func(a args) (gpu.Module, error) {
		c := echo.Config{Name: a.str("name", ""), In: a.str("in", ""), Out: a.str("out", ""),
			InType: a.u32("in_type", 0), OutType: a.u32("out_type", 0), Slots: a.int("slots", 0)}
		return gpu.FromKernel(echo.Module(c)), a.err()
	},
	// hang: fault injection for the watchdog ([F4]): forwards in to out like
	// echo, but its first sight of the task with meta0 = hang_at — not a
	// redelivery — never returns (a hung GPU kernel; killing the daemon ends
	// it). Args: in, out, in_type, out_type, hang_at.
	"hang": func(a args) (gpu.Module, error) {
		return Hang(a.str("in", "host.rx"), a.str("out", "host.tx"), a.u32("in_type", gpumod.XformInType),
			a.u32("out_type", gpumod.XformOutType), a.u64("hang_at", 0)), a.err()
	},
}

// Names returns the names of the catalogue's modules, sorted.
func Names() []string { return slices.Sorted(maps.Keys(catalogue)) }

// Build makes the module ref names.
func Build(ref ModuleRef) (gpu.Module, error) {
	b, ok := catalogue[ref.Name]
	if !ok {
		return gpu.Module{}, fmt.Errorf("daemon: no GPU module %q in the catalogue (have %v)", ref.Name, Names())
	}
	m, err := b(args{m: ref.Args})
	if err != nil {
		return gpu.Module{}, fmt.Errorf("daemon: module %s: %w", ref.Name, err)
	}
	return m, nil
}

// Modules builds every module of refs, in order.
func Modules(refs []ModuleRef) ([]gpu.Module, error) {
	out := make([]gpu.Module, 0, len(refs))
	for _, r := range refs {
		m, err := Build(r)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Hang is the catalogue's "hang" module: it forwards each task of channel
// in to channel out (type outType, everything else kept) and, on its first
// sight of the task whose Meta0 is hangAt — one not flagged
// task.Redelivered — blocks forever: a handler that never returns. A
// redelivery of that task after a reset is forwarded like any other.
func Hang(in, out string, inType, outType uint32, hangAt uint64) gpu.Module {
	return gpu.Module{Name: "hang", Version: "1",
		Handlers: []gpu.Handler{{Type: inType, Name: "forward", Fn: func(c *kernel.Ctx, _ gpu.Lane) kernel.Status {
			t := c.Task()
			if t.Meta0 == hangAt && t.Flags&task.Redelivered == 0 {
				select {} // the device hangs; only a reset (killing the daemon) ends it
			}
			id, err := c.Kernel().Chan(out)
			if err != nil {
				return kernel.Fail
			}
			x := *t
			x.Type = outType
			x.Payload, x.PayloadLen = 0, 0
			if t.Payload != 0 {
				h, err := c.PayloadRetain()
				if err != nil {
					return kernel.Fail
				}
				x.Payload, x.PayloadLen = h, t.PayloadLen
			}
			if err := c.ChanEmit(id, x); err != nil {
				if x.Payload != 0 {
					_ = c.PayloadRelease(x.Payload)
				}
				if errors.Is(err, kernel.ErrChanFull) {
					return kernel.Retry
				}
				return kernel.Fail
			}
			return kernel.OK
		}}},
		Channels: []kernel.ChanDecl{
			{Name: in, Dir: kernel.Consume, Type: inType, Guarantee: kernel.Lossless},
			{Name: out, Dir: kernel.Produce, Type: outType, Guarantee: kernel.Lossless}}}
}

// args reads a module's string arguments, remembering the first bad one.
type args struct {
	m   map[string]string
	bad error
}

func (a *args) err() error { return a.bad }

func (a *args) str(k, def string) string {
	if v, ok := a.m[k]; ok {
		return v
	}
	return def
}

func (a *args) u64(k string, def uint64) uint64 {
	v, ok := a.m[k]
	if !ok {
		return def
	}
	n, err := strconv.ParseUint(v, 0, 64)
	if err != nil && a.bad == nil {
		a.bad = fmt.Errorf("argument %s=%q: %w", k, v, err)
	}
	return n
}

func (a *args) u32(k string, def uint32) uint32 {
	n := a.u64(k, uint64(def))
	if n > 1<<32-1 && a.bad == nil {
		a.bad = fmt.Errorf("argument %s=%d out of range", k, n)
	}
	return uint32(n)
}

func (a *args) int(k string, def int) int { return int(a.u64(k, uint64(def))) }
