package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an output a command writes from its goroutine while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// booted is a node started by `gmk boot` in process.
type booted struct {
	addr string
	out  *syncBuffer
	errs *syncBuffer
	done chan int // the boot command's exit status
}

// bootInProcess runs `gmk boot --admin 127.0.0.1:0 args…` in a goroutine —
// the code path of the real command — and waits for the address it
// records. At the end of the test the node is halted with `gmk halt`, and
// boot must return 0.
func bootInProcess(t *testing.T, args ...string) *booted {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "node.addr")
	b := &booted{out: &syncBuffer{}, errs: &syncBuffer{}, done: make(chan int, 1)}
	argv := append([]string{"boot", "--admin", "127.0.0.1:0", "--addr-file", addrFile, "--workers", "2", "--log-level", "warn"}, args...)
	go func() { b.done <- run(context.Background(), argv, b.out, b.errs) }()
	deadline := time.Now().Add(30 * time.Second)
	for b.addr == "" {
		select {
		case code := <-b.done:
			t.Fatalf("gmk boot exited %d: %s%s", code, b.out, b.errs)
		default:
		}
		if data, err := os.ReadFile(addrFile); err == nil && strings.HasSuffix(string(data), "\n") {
			b.addr = strings.TrimSpace(string(data))
		}
		if time.Now().After(deadline) {
			t.Fatal("gmk boot recorded no address")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Cleanup(func() { b.halt(t) })
	return b
}

// halt halts the node (once) and checks that boot returned 0 with its
// accounting line.
func (b *booted) halt(t *testing.T) string {
	t.Helper()
	if b.done == nil {
		return b.out.String()
	}
	if code, out, errOut := gmk(t, "halt", "--node", b.addr); code != 0 || !strings.Contains(out, "halting the node") {
		t.Errorf("gmk halt: %d %q %q", code, out, errOut)
	}
	select {
	case code := <-b.done:
		if code != 0 {
			t.Errorf("gmk boot exited %d after halt: %s", code, b.errs)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("gmk boot did not return after gmk halt")
	}
	b.done = nil
	return b.out.String()
}

// cmd runs a node command against b.
func (b *booted) cmd(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := gmk(t, append(args, "--node", b.addr)...)
	if code != 0 {
		t.Fatalf("gmk %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// eventually runs a command until its output satisfies ok.
func (b *booted) eventually(t *testing.T, ok func(string) bool, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := b.cmd(t, args...)
		if ok(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("gmk %s never showed what was expected; last:\n%s", strings.Join(args, " "), out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rowWith returns the fields of the first output line whose fields
// contain every one of want, or nil.
func rowWith(out string, want ...string) []string {
	for _, line := range strings.Split(out, "\n") {
		fs := strings.Fields(line)
		all := true
		for _, w := range want {
			if !contains(fs, w) {
				all = false
				break
			}
		}
		if all && len(fs) > 0 {
			return fs
		}
	}
	return nil
}

func contains(fs []string, s string) bool {
	for _, f := range fs {
		if f == s {
			return true
		}
	}
	return false
}

// column returns the value of column name in the row (by the header line
// that holds name).
func column(out string, row []string, name string) string {
	for _, line := range strings.Split(out, "\n") {
		hs := strings.Fields(line)
		for i, h := range hs {
			if h == name && len(hs) == len(row) && i < len(row) {
				return row[i]
			}
		}
	}
	return ""
}
