package bridge

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// benchShm runs one measurement across two processes: this one produces into a
// memfd region formatted for c, a child started from exe (see
// MaybeRunBenchChild) consumes.
func benchShm(exe string, c Config, batch, size, n int) (float64, float64, error) {
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return 0, 0, err
		}
	}
	s, err := NewShm(c)
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	var out bytes.Buffer
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%d", benchChildEnv, n, size))
	cmd.ExtraFiles = []*os.File{s.File()} // fd 3 in the child
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("start consumer process: %w", err)
	}
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		s.Disconnect() // a dead consumer fails the producer instead of hanging it
		exited <- err
	}()
	rate, tpt, err := benchProduce(s, batch, size, n)
	s.Disconnect()
	if werr := <-exited; werr != nil {
		err = errors.Join(err, fmt.Errorf("consumer process: %w: %s", werr, bytes.TrimSpace(out.Bytes())))
	}
	return rate, tpt, err
}
