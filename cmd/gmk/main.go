// Command gmk is GMK's command line ([U5]): one root command with a
// subcommand per task, no nesting deeper than two levels.
//
//	gmk version                       the build's version
//	gmk gen types [--check]           types.toml → types/types_gen.go, kernels/include/gmk_types.h
//	gmk build --kernel [flags]        the GMK/gpu kernel image (as gmk-kbuild)
//	gmk new NAME [--target cpu|gpu]   scaffold a module that builds and whose test passes
//
// The node commands — boot, halt, ps, top, log, trace, stats, emit, chan,
// mod, kern, kv — talk to a booted node's admin endpoint and join the root
// command (newRoot) when it exists.
//
// Exit status: 0 success, 1 the command failed, 2 bad usage.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
