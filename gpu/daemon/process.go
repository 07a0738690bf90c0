package daemon

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"
)

// The daemon process: start, wait, kill, and requests to its actor.

// proc is one daemon process.
type proc struct {
	cmd   *exec.Cmd
	pid   *actor.PID
	stdin io.WriteCloser
	dead  chan struct{} // closed once the process exited and was waited for
	err   error         // cmd.Wait's, written before dead closes
}

// findExe looks for gmk-gpud beside the running executable, then on PATH.
func findExe() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "gmk-gpud")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("gmk-gpud")
	if err != nil {
		return "", fmt.Errorf("daemon: no gmk-gpud executable (go build ./cmd/gmk-gpud, or set Config.Exe): %w", err)
	}
	return p, nil
}

// start starts a daemon process and waits for its ready line.
func (b *Backend) start(files []*os.File) (*proc, error) {
	cmd := exec.Command(b.cfg.Exe, "--backend", b.cfg.Backend)
	cmd.ExtraFiles = files
	tail := &tailWriter{}
	errOut := b.cfg.Stderr
	if errOut == nil {
		errOut = os.Stderr
	}
	cmd.Stderr = io.MultiWriter(errOut, tail) // the last words go into a failed start's error
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("daemon: start %s: %w", b.cfg.Exe, err)
	}
	p := &proc{cmd: cmd, stdin: stdin, dead: make(chan struct{})}
	ready := make(chan string, 1)
	go func() { // the ready line, then whatever else the daemon prints, until it exits
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			ready <- sc.Text()
		}
		close(ready)
		_, _ = io.Copy(io.Discard, stdout)
		p.err = cmd.Wait()
		close(p.dead)
	}()
	select {
	case line, ok := <-ready:
		addr, found := strings.CutPrefix(line, ReadyPrefix)
		if !ok || !found {
			b.kill(p)
			return nil, fmt.Errorf("daemon: %s did not start: %q (%v): %s", b.cfg.Exe, line, p.err, tail.String())
		}
		p.pid = actor.NewPID(strings.TrimSpace(addr), ActorName)
		return p, nil
	case <-time.After(b.cfg.Start):
		b.kill(p)
		return nil, fmt.Errorf("daemon: %s not ready within %v", b.cfg.Exe, b.cfg.Start)
	}
}

// kill kills p and waits until it was reaped.
func (b *Backend) kill(p *proc) {
	_ = p.cmd.Process.Kill()
	_ = p.stdin.Close()
	<-p.dead
}

// request sends msg to p's actor and waits at most d for the answer.
func (b *Backend) request(p *proc, msg proto.Message, d time.Duration) (any, error) {
	r, err := b.sys.Root.RequestFuture(p.pid, msg, d).Result()
	if err != nil {
		return nil, err
	}
	return r, nil
}

// tailWriter keeps the last bytes written to it (a daemon's standard error,
// for the error of a start that failed). exec's copying goroutine writes;
// the reader reads after the process was reaped (cmd.Wait has returned).
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

const tailBytes = 512

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > tailBytes {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-tailBytes:]...)
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.buf))
}
