// Command gmk-kbuild builds the GMK/gpu kernel image ([G4], [U4]): it
// generates kernels/gen/gmk_dispatch.cuh from the GPU modules' module.toml
// files, compiles kernels/src/gmk_kernel.cu to PTX with nvcc (sm_90 and
// sm_80 by default) into gpu/cuda/ptx, and prints the per-handler and
// per-function register, spill and shared-memory report. Any spill or local
// memory fails the build unless --allow-spills.
//
// Run it from the repository root:
//
//	gmk-kbuild                      generate, compile, report, write
//	gmk-kbuild --check              fail if the committed files are stale
//	gmk-kbuild --report-only        report, write nothing
//	gmk-kbuild --strip-trace        compile without trace code; compare
//	gmk-kbuild --inline-reg-limit 48
//
// It needs the CUDA toolkit (scripts/install-cuda.sh); nothing else in the
// repository does. Exit status: 0 built (or up to date), 1 the build failed,
// 2 bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/gmkernel/gmk/internal/kbuild"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opt, quiet, ok := parseFlags(args, stderr)
	if !ok {
		return 2
	}
	err := kbuild.Run(ctx, opt, quiet, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "gmk-kbuild: %v\n", err)
		if errors.Is(err, kbuild.ErrNoToolkit) {
			fmt.Fprintln(stderr, "gmk-kbuild: the Go build and tests do not need it; only the kernel build does")
		}
		return 1
	}
	return 0
}

// parseFlags returns the build options; ok is false (and the reason is on
// stderr) for bad usage.
func parseFlags(args []string, stderr io.Writer) (opt kbuild.Options, quiet, ok bool) {
	fs := flag.NewFlagSet("gmk-kbuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var archs string
	fs.StringVar(&opt.Kernels, "kernels", "kernels", "the kernels directory")
	fs.StringVar(&opt.Kernel, "kernel", "src/gmk_kernel.cu", "the kernel source, relative to --kernels")
	fs.StringVar(&opt.Out, "out", "gpu/cuda/ptx", "where the PTX files are written")
	fs.StringVar(&archs, "arch", strings.Join(kbuild.DefaultArchs, ","), "architectures, comma-separated; the first is probed")
	fs.IntVar(&opt.InlineRegLimit, "inline-reg-limit", kbuild.DefaultInlineRegLimit, "handlers needing more registers are __noinline__")
	fs.IntVar(&opt.MaxRegCount, "maxrregcount", 0, "cap registers per thread in every compile (0: no cap)")
	fs.BoolVar(&opt.StripTrace, "strip-trace", false, "compile with -DGMK_STRIP_TRACE and report the difference")
	fs.BoolVar(&opt.AllowSpills, "allow-spills", false, "report spills and local memory instead of failing")
	fs.BoolVar(&opt.Check, "check", false, "verify the committed dispatch header and PTX; write nothing")
	fs.BoolVar(&opt.ReportOnly, "report-only", false, "print the report; write nothing")
	fs.BoolVar(&quiet, "quiet", false, "no progress output")
	if err := fs.Parse(args); err != nil {
		return opt, quiet, false
	}
	opt.Archs = strings.Split(archs, ",")
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	case opt.InlineRegLimit == 0:
		err = errors.New("--inline-reg-limit must be at least 1")
	default:
		err = opt.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "gmk-kbuild: %v\n", err)
		return opt, quiet, false
	}
	return opt, quiet, true
}
