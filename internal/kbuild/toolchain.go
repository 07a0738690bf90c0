package kbuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNoToolkit is returned by FindToolchain (and so by Build) when nvcc or
// ptxas is not on PATH.
var ErrNoToolkit = errors.New("the CUDA toolkit (nvcc, ptxas) is not on PATH; install it with scripts/install-cuda.sh")

// Toolchain names the CUDA tools the build runs.
type Toolchain struct {
	NVCC      string
	PTXAS     string
	CUOBJDUMP string // optional: without it instructions are not counted
	Version   string // nvcc's release, e.g. "11.8, V11.8.89"
}

// FindToolchain looks the tools up on PATH and asks nvcc its version.
// It returns ErrNoToolkit when nvcc or ptxas is missing.
func FindToolchain(ctx context.Context) (Toolchain, error) {
	var tc Toolchain
	var err error
	if tc.NVCC, err = exec.LookPath("nvcc"); err != nil {
		return tc, ErrNoToolkit
	}
	if tc.PTXAS, err = exec.LookPath("ptxas"); err != nil {
		return tc, ErrNoToolkit
	}
	tc.CUOBJDUMP, _ = exec.LookPath("cuobjdump")
	out, err := tc.run(ctx, "", tc.NVCC, "--version")
	if err != nil {
		return tc, err
	}
	tc.Version = nvccRelease(out)
	return tc, nil
}

var reRelease = regexp.MustCompile(`release ([0-9.]+, V[0-9.]+)`)

func nvccRelease(out string) string {
	if m := reRelease.FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return "unknown"
}

// run runs a tool in dir and returns its combined output. A failure's error
// carries that output, with dir shown as "kernels" so messages name the
// user's files rather than the build's temporary copy.
func (tc Toolchain) run(ctx context.Context, dir, tool string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text, line := out.String(), strings.Join(append([]string{filepath.Base(tool)}, args...), " ")
	if dir != "" {
		text = strings.ReplaceAll(text, dir+"/", "kernels/")
		line = strings.ReplaceAll(strings.ReplaceAll(line, dir+"/", "kernels/"), dir, "kernels")
	}
	if err != nil {
		return text, fmt.Errorf("%s: %w\n%s", line, err, strings.TrimSpace(text))
	}
	return text, nil
}
