package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/internal/kbuild"
	"github.com/gmkernel/gmk/internal/types"
)

// buildFlags are gmk build's flags: cmd/gmk-kbuild's, plus --kernel (what
// to build; the GPU kernel image is the only target today) and --types.
type buildFlags struct {
	opt       kbuild.Options
	archs     string
	kernel    bool
	quiet     bool
	typesFile string
}

// newBuild is `gmk build --kernel`: the GMK/gpu kernel image ([U4], [G4]),
// exactly as cmd/gmk-kbuild builds it, after checking the GPU modules'
// handler types against types.toml.
func newBuild() *cobra.Command {
	var f buildFlags
	cmd := &cobra.Command{
		Use:   "build --kernel",
		Short: "Build the GMK/gpu kernel image: dispatch header, PTX, register report",
		Long: `Build generates kernels/gen/gmk_dispatch.cuh from the GPU modules' module.toml
files, compiles the persistent kernel to PTX with nvcc and prints the register,
spill and shared-memory report, as gmk-kbuild does. The handler types must be
declared in types.toml (--types; "" skips the check).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd) },
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.kernel, "kernel", false, "build the GPU kernel image (required: the only target today)")
	fl.StringVar(&f.opt.Kernels, "kernels", "kernels", "the kernels directory")
	fl.StringVar(&f.opt.Kernel, "kernel-src", "src/gmk_kernel.cu", "the kernel source, relative to --kernels (gmk-kbuild's --kernel)")
	fl.StringVar(&f.opt.Out, "out", "gpu/cuda/ptx", "where the PTX files are written")
	fl.StringVar(&f.archs, "arch", strings.Join(kbuild.DefaultArchs, ","), "architectures, comma-separated; the first is probed")
	fl.IntVar(&f.opt.InlineRegLimit, "inline-reg-limit", kbuild.DefaultInlineRegLimit, "handlers needing more registers are __noinline__")
	fl.IntVar(&f.opt.MaxRegCount, "maxrregcount", 0, "cap registers per thread in every compile (0: no cap)")
	fl.BoolVar(&f.opt.StripTrace, "strip-trace", false, "compile with -DGMK_STRIP_TRACE and report the difference")
	fl.BoolVar(&f.opt.AllowSpills, "allow-spills", false, "report spills and local memory instead of failing")
	fl.BoolVar(&f.opt.Check, "check", false, "verify the committed dispatch header and PTX; write nothing")
	fl.BoolVar(&f.opt.ReportOnly, "report-only", false, "print the report; write nothing")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress output")
	fl.StringVar(&f.typesFile, "types", types.SpecFile, "types.toml to check the handler types against")
	return cmd
}

// validate turns the flags into build options; errors are bad usage.
func (f *buildFlags) validate() error {
	f.opt.Archs = strings.Split(f.archs, ",")
	switch {
	case !f.kernel:
		return fmt.Errorf("%w: build: say what to build: --kernel (the GPU kernel image)", errUsage)
	case f.opt.InlineRegLimit == 0:
		return fmt.Errorf("%w: build: --inline-reg-limit must be at least 1", errUsage)
	}
	if err := f.opt.Validate(); err != nil {
		return fmt.Errorf("%w: build: %w", errUsage, err)
	}
	return nil
}

func (f *buildFlags) run(cmd *cobra.Command) error {
	if err := f.validate(); err != nil {
		return err
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := checkKernelTypes(f.typesFile, f.opt.Kernels); err != nil {
		return err
	}
	err := kbuild.Run(cmd.Context(), f.opt, f.quiet, stdout, stderr)
	if errors.Is(err, kbuild.ErrNoToolkit) {
		return fmt.Errorf("%w\n(the Go build and tests do not need the CUDA toolkit; only the kernel build does: scripts/install-cuda.sh)", err)
	}
	return err
}

// checkKernelTypes checks the GPU modules' handler types against
// types.toml; an empty path skips the check.
func checkKernelTypes(typesFile, kernels string) error {
	if typesFile == "" {
		return nil
	}
	spec, err := types.Load(typesFile)
	if err != nil {
		return err
	}
	mods, err := kbuild.LoadModules(kernels)
	if err != nil {
		return err
	}
	return types.CheckModules(spec, mods)
}
