package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// errUsage marks bad usage (exit status 2); cobra's own flag and argument
// errors are wrapped in it by the root command.
var errUsage = errors.New("usage")

// run executes the command line args and returns the exit status. Output
// goes to stdout and stderr only, so tests run it in process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "gmk: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "gmk: %v\n", err)
		return 1
	}
}

// nodeCommands are the commands that boot or talk to a node (boot, halt,
// ps, top, …). Each lives in a file of its own whose init function appends
// its constructor; cobra lists them sorted by name.
var nodeCommands []func() *cobra.Command

// newRoot builds the command tree. Each subcommand lives in a file of its
// own: the development commands are listed here, the node commands come
// from nodeCommands.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "gmk",
		Short:         "GMK: the GPU/CPU microkernel's command line",
		SilenceUsage:  true,
		SilenceErrors: true, // run prints the error once
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fmt.Errorf("%w: %w", errUsage, err) })
	root.AddGroup(&cobra.Group{ID: "dev", Title: "Development:"})
	for _, c := range []*cobra.Command{newVersion(), newGen(), newBuild(), newNew(), newTest()} {
		c.GroupID = "dev"
		root.AddCommand(c)
	}
	if len(nodeCommands) > 0 {
		root.AddGroup(&cobra.Group{ID: "node", Title: "Node:"})
	}
	for _, newCmd := range nodeCommands {
		c := newCmd()
		c.GroupID = "node"
		root.AddCommand(c)
	}
	return root
}

// usageArgs wraps a positional-argument validator so its errors count as
// bad usage.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return fmt.Errorf("%w: %s: %w", errUsage, cmd.CommandPath(), err)
		}
		return nil
	}
}

// Version is the release, set at link time (-ldflags "-X main.Version=v1.2.3");
// otherwise the module version or VCS revision from the build info.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 && (v == "" || v == "(devel)") {
			v = "devel-" + s.Value[:12]
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print gmk's version",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "gmk %s %s %s/%s\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
