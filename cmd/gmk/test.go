package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/internal/kbuild"
)

// newTest is `gmk test NAME`: run a CPU module's tests ([U4]), which boot
// it in the sandbox of kernel/sdk/sdktest (the test gmk new scaffolds).
func newTest() *cobra.Command {
	var dir string
	var race bool
	cmd := &cobra.Command{
		Use:   "test NAME [-- GO-TEST-FLAGS]",
		Short: "Test a CPU module in a sandboxed kernel that captures its emits, traces and allocations",
		Long: `Test runs the tests of the CPU module NAME — DIR/NAME, where gmk new --target cpu
--dir DIR put it (DIR defaults to ".") — with go test, streaming its output. The
scaffolded test boots the module in kernel/sdk/sdktest's sandbox: a real kernel
that captures every task the module emits on its outputs, its trace records and
its allocation statistics, and checks at halt that every task is accounted for.
Flags after -- go to go test (e.g. gmk test counter -- -run Handler -v).

The exit status is 0 when the tests pass and 1 when they fail or do not build.`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModuleTests(cmd, dir, args[0], race, args[1:])
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", `the module package's parent directory, as given to gmk new (default ".")`)
	cmd.Flags().BoolVar(&race, "race", false, "run the tests with the race detector")
	return cmd
}

// errTestsFailed reports failing module tests; go test said why.
var errTestsFailed = errors.New("test: the module's tests failed")

// runModuleTests finds the module's package and runs go test on it, with
// its output going to the command's writers.
func runModuleTests(cmd *cobra.Command, dir, name string, race bool, extra []string) error {
	pkg, err := moduleDir(dir, name)
	if err != nil {
		return err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("test: no go command on PATH: %w", err)
	}
	args := []string{"test", "-count=1"}
	if race {
		args = append(args, "-race")
	}
	args = append(append(args, extra...), ".")
	fmt.Fprintf(cmd.ErrOrStderr(), "gmk test: go %v in %s\n", args, pkg)
	c := exec.CommandContext(cmd.Context(), goBin, args...)
	c.Dir = pkg
	c.Stdout, c.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := c.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("%w (go test exit status %d)", errTestsFailed, exit.ExitCode())
		}
		return fmt.Errorf("test: %w", err)
	}
	return nil
}

// moduleDir resolves NAME as gmk new --target cpu places it: DIR/NAME, a
// directory with Go files. A module.toml there must say target cpu.
func moduleDir(dir, name string) (string, error) {
	if !reModName.MatchString(name) {
		return "", fmt.Errorf("%w: test: name %q: want a module name as gmk new takes", errUsage, name)
	}
	pkg := filepath.Join(cmpOr(dir, "."), name)
	if fi, err := os.Stat(pkg); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("test: no module %s: %s is not a directory (gmk new %s writes it; --dir names its parent)", name, pkg, name)
	}
	if data, err := os.ReadFile(filepath.Join(pkg, "module.toml")); err == nil {
		m, err := kbuild.ParseModule(data, filepath.Join(pkg, "module.toml"))
		if err != nil {
			return "", fmt.Errorf("test: %w", err)
		}
		if m.Target != "" && m.Target != "cpu" {
			return "", fmt.Errorf("test: module %s targets %s: gmk test runs CPU modules' tests (gmk build --kernel builds GPU ones)", name, m.Target)
		}
	}
	if gofiles, _ := filepath.Glob(filepath.Join(pkg, "*.go")); len(gofiles) == 0 {
		return "", fmt.Errorf("test: %s has no Go files", pkg)
	}
	return pkg, nil
}
