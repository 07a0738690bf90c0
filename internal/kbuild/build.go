package kbuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Errors Build returns (wrapped, with the details).
var (
	// ErrLocalMemory: a handler or a kernel function spills registers or
	// uses a stack frame, and Options.AllowSpills is off ([G4]).
	ErrLocalMemory = errors.New("local memory (spills or stack frame)")
	// ErrStale: Options.Check found a committed output that differs from
	// what the sources produce.
	ErrStale = errors.New("generated kernel files are out of date")
	// ErrNoKernel: the kernel source does not exist. The handler report is
	// still filled in.
	ErrNoKernel = errors.New("no kernel source")
)

// DefaultArchs are the architectures the PTX is built for; the first is the
// one the register probe and the strip-trace comparison use.
var DefaultArchs = []string{"sm_90", "sm_80"}

// Options configure Build. The zero value builds the repository's kernels
// from its root directory.
type Options struct {
	Kernels string   // the kernels directory (default "kernels")
	Kernel  string   // the kernel source, relative to Kernels (default "src/gmk_kernel.cu")
	Out     string   // where the PTX files go (default "gpu/cuda/ptx")
	Archs   []string // default DefaultArchs

	// InlineRegLimit is [G4]'s threshold: handlers whose probe needs more
	// registers are __noinline__. 0 means DefaultInlineRegLimit.
	InlineRegLimit int
	// MaxRegCount, when positive, caps registers per thread in every
	// compile (nvcc and ptxas -maxrregcount).
	MaxRegCount int
	StripTrace  bool // compile with -DGMK_STRIP_TRACE and report the difference
	AllowSpills bool // report local memory instead of failing on it
	Check       bool // compare the outputs on disk with the build's, write nothing
	ReportOnly  bool // write nothing

	// Progress, if set, is called before each step: step counts from 1.
	Progress func(step, total int, what string)
	// Toolchain, if set, is used instead of FindToolchain.
	Toolchain *Toolchain
}

var reArch = regexp.MustCompile(`^sm_[0-9]{2,3}[a-z]?$`)

// Validate reports options Build cannot use.
func (o Options) Validate() error {
	if o.Check && o.ReportOnly {
		return errors.New("kbuild: check and report-only exclude each other")
	}
	if o.InlineRegLimit < 0 || o.InlineRegLimit > 255 {
		return fmt.Errorf("kbuild: inline register limit %d out of range 0..255", o.InlineRegLimit)
	}
	if o.MaxRegCount < 0 || o.MaxRegCount > 255 {
		return fmt.Errorf("kbuild: maxrregcount %d out of range 0..255", o.MaxRegCount)
	}
	seen := map[string]bool{}
	for _, a := range o.Archs {
		if !reArch.MatchString(a) {
			return fmt.Errorf("kbuild: arch %q: want sm_NN, e.g. sm_90", a)
		}
		if seen[a] {
			return fmt.Errorf("kbuild: arch %s given twice", a)
		}
		seen[a] = true
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Kernels == "" {
		o.Kernels = "kernels"
	}
	if o.Kernel == "" {
		o.Kernel = "src/gmk_kernel.cu"
	}
	if o.Out == "" {
		o.Out = filepath.Join("gpu", "cuda", "ptx")
	}
	if len(o.Archs) == 0 {
		o.Archs = DefaultArchs
	}
	if o.InlineRegLimit == 0 {
		o.InlineRegLimit = DefaultInlineRegLimit
	}
	return o
}

// PTXFile is the PTX file name for an architecture: sm_90 → gmk_sm90.ptx.
func PTXFile(arch string) string { return "gmk_" + strings.ReplaceAll(arch, "_", "") + ".ptx" }

// HandlerReport is one handler's line of the report: its placement and what
// ptxas says of its probe (the handler inlined into an entry of its own).
type HandlerReport struct {
	Placement
	Probe  Stats
	Traced *Stats // the probe with tracing compiled in, when StripTrace
}

// Output is one file the build produces.
type Output struct {
	Path string // where it goes on disk
	Data []byte
}

// Result is everything a build found and produced.
type Result struct {
	Options  Options // as used, defaults filled in
	Toolkit  string  // nvcc's release
	Modules  []*Module
	Handlers []HandlerReport // by type
	// Kernel has the functions of the kernel image for every arch, in
	// Options.Archs order.
	Kernel []Stats
	// Traced has the first arch's functions built with tracing, when
	// StripTrace (the report compares them with Kernel).
	Traced   []Stats
	Warnings []string
	Outputs  []Output // the dispatch header, then one PTX file per arch
	Written  []string // paths written
	Stale    []string // with Check: paths whose content differs
}

// Build generates the dispatch header, compiles the kernel to PTX for every
// architecture and reports registers, spills and shared memory per handler
// and per kernel function ([G4], [U4]).
//
// It works on a temporary copy of the kernels directory, so a failed build
// or a Check changes nothing on disk. On success (and unless Check or
// ReportOnly) it writes Kernels/gen/gmk_dispatch.cuh and Out/gmk_smNN.ptx.
// The Result is returned with the errors that come after compiling
// (ErrLocalMemory, ErrStale, ErrNoKernel) so the caller can print the report.
func Build(ctx context.Context, opt Options) (*Result, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	tc := opt.Toolchain
	if tc == nil {
		found, err := FindToolchain(ctx)
		if err != nil {
			return nil, fmt.Errorf("kbuild: %w", err)
		}
		tc = &found
	}
	b := &builder{opt: opt, tc: *tc, res: &Result{Options: opt, Toolkit: tc.Version}}
	b.total = 3 + len(opt.Archs)
	if opt.StripTrace {
		b.total += 2
	}
	tmp, err := os.MkdirTemp("", "gmk-kbuild-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	b.tmp = tmp
	return b.run(ctx)
}

type builder struct {
	opt   Options
	tc    Toolchain
	res   *Result
	tmp   string // the temporary copy of the kernels directory
	step  int
	total int
}

func (b *builder) progress(what string) {
	b.step++
	if b.opt.Progress != nil {
		b.opt.Progress(b.step, b.total, what)
	}
}

func (b *builder) run(ctx context.Context) (*Result, error) {
	res, opt := b.res, b.opt
	b.progress("reading modules")
	mods, err := LoadModules(opt.Kernels)
	if err != nil {
		return nil, fmt.Errorf("kbuild: %w", err)
	}
	res.Modules = mods
	if err := copyTree(opt.Kernels, b.tmp); err != nil {
		return nil, fmt.Errorf("kbuild: copying %s: %w", opt.Kernels, err)
	}
	kernelPath := filepath.Join(opt.Kernels, filepath.FromSlash(opt.Kernel))
	kernelSrc, err := os.ReadFile(kernelPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := b.placeHandlers(ctx, string(kernelSrc)); err != nil {
		return nil, err
	}
	if kernelSrc == nil {
		return res, fmt.Errorf("kbuild: %w: %s", ErrNoKernel, kernelPath)
	}
	if err := b.compileImages(ctx); err != nil {
		return nil, err
	}
	if err := b.checkLocalMemory(); err != nil {
		return res, err
	}
	b.progress("writing outputs")
	return res, b.finish()
}

// placeHandlers probes every handler, decides its attribute ([G4]) and
// generates the dispatch header (Outputs[0]).
func (b *builder) placeHandlers(ctx context.Context, kernelSrc string) error {
	res, opt := b.res, b.opt
	hs := Handlers(res.Modules)
	b.progress(fmt.Sprintf("probing %d handlers (%s)", len(hs), opt.Archs[0]))
	probe, err := b.probe(ctx, hs, kernelSrc, opt.StripTrace)
	if err != nil {
		return err
	}
	var traced map[string]Stats
	if opt.StripTrace {
		b.progress("probing handlers with tracing, for comparison")
		if traced, err = b.probe(ctx, hs, kernelSrc, false); err != nil {
			return err
		}
	}
	regs := map[string]int{}
	for fn, s := range probe {
		regs[fn] = s.Registers
	}
	ps := Place(hs, regs, opt.InlineRegLimit)
	for _, p := range ps {
		hr := HandlerReport{Placement: p, Probe: probe[p.Fn]}
		if t, ok := traced[p.Fn]; ok {
			hr.Traced = &t
		}
		res.Handlers = append(res.Handlers, hr)
	}
	if w := BlockWarning(hs); w != "" {
		res.Warnings = append(res.Warnings, w)
	}
	dispatch := GenerateDispatch(res.Modules, ps, opt.InlineRegLimit)
	res.Outputs = append(res.Outputs, Output{Path: filepath.Join(opt.Kernels, filepath.FromSlash(DispatchFile)), Data: dispatch})
	return nil
}

// compileImages compiles the kernel with the generated header for every
// architecture (Outputs[1:]), and with tracing for comparison.
func (b *builder) compileImages(ctx context.Context) error {
	res, opt := b.res, b.opt
	if err := b.writeTmp(DispatchFile, res.Outputs[0].Data); err != nil {
		return err
	}
	for _, arch := range opt.Archs {
		b.progress("compiling " + opt.Kernel + " for " + arch)
		ptx, stats, err := b.compileKernel(ctx, arch, opt.StripTrace)
		if err != nil {
			return err
		}
		res.Kernel = append(res.Kernel, stats...)
		res.Outputs = append(res.Outputs, Output{Path: filepath.Join(opt.Out, PTXFile(arch)), Data: ptx})
	}
	if opt.StripTrace {
		b.progress("compiling with tracing, for comparison")
		var err error
		if _, res.Traced, err = b.compileKernel(ctx, opt.Archs[0], false); err != nil {
			return err
		}
	}
	return nil
}

// checkLocalMemory applies [G4]: any spill or stack frame, in a handler's
// probe or in a function of the kernel image, fails the build (a warning
// with AllowSpills). A handler is named by its probe; an entry that uses
// local memory lists the handlers inlined into it.
func (b *builder) checkLocalMemory() error {
	var problems []string
	for _, h := range b.res.Handlers {
		if p := h.Probe.Problem(); p != "" {
			problems = append(problems, fmt.Sprintf("handler %s (type %d, module %s): %s", h.Fn, h.Type, h.Module, p))
		}
	}
	var inlined, outlined []string
	for _, h := range b.res.Handlers {
		if h.Inline {
			inlined = append(inlined, h.Fn)
		} else {
			outlined = append(outlined, h.Fn)
		}
	}
	for _, s := range b.res.Kernel {
		// A call to a __noinline__ handler passes its context by reference:
		// the caller's stack frame holds it. That is the call ABI, not a
		// spill, so an entry's stack frame without spills is reported, not
		// failed, when some handler is out of line.
		if s.Entry && len(outlined) > 0 && s.StackFrame > 0 && s.SpillStores == 0 && s.SpillLoads == 0 {
			b.warn(fmt.Sprintf("kernel entry %s: %d-byte stack frame for calls to __noinline__ handlers (%s)",
				s.Name, s.StackFrame, strings.Join(outlined, ", ")))
			continue
		}
		if p := s.Problem(); p != "" {
			what := "function " + baseName(s.Name)
			if s.Entry {
				what = fmt.Sprintf("kernel entry %s (inlined handlers: %s)", s.Name, strings.Join(inlined, ", "))
			}
			problems = append(problems, what+": "+p)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	if b.opt.AllowSpills {
		b.warn(problems...)
		return nil
	}
	return fmt.Errorf("kbuild: %w (pass --allow-spills to build anyway):\n  %s", ErrLocalMemory, strings.Join(problems, "\n  "))
}
