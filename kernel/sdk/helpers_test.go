package sdk_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/kernel"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// boot starts a small kernel that the test halts at cleanup (if it did not).
func boot(t testing.TB, cfg kernel.BootConfig, mods ...kernel.Module) *kernel.Kernel {
	t.Helper()
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.ArenaSize == 0 {
		cfg.ArenaSize = 4 << 20
	}
	if cfg.MaxTypes == 0 {
		cfg.MaxTypes = 64
	}
	if cfg.MaxChannels == 0 {
		cfg.MaxChannels = 32
	}
	if cfg.QueueCap == 0 {
		cfg.QueueCap = 4096
	}
	if cfg.EVQCap == 0 {
		cfg.EVQCap = 4096
	}
	k, err := kernel.Boot(cfg, mods...)
	if err != nil {
		t.Fatalf("boot: %v", err)
	}
	t.Cleanup(func() { halt(t, k) })
	return k
}

// halt halts k (once) and checks the accounting of [C9] and that no payload
// is left live.
func halt(t testing.TB, k *kernel.Kernel) kernel.HaltReport {
	t.Helper()
	if r, ok := k.Halted(); ok {
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := k.Halt(ctx); err != nil && !errors.Is(err, kernel.ErrClosed) {
		t.Errorf("halt: %v", err)
	}
	r, _ := k.Halted()
	if s := r.Stats; s.Created() != s.Completed+s.Errored+s.Dropped+r.Queued {
		t.Errorf("[C9] accounting: %v queued=%d", s, r.Queued)
	}
	if n := k.LivePayloads(); n != 0 {
		t.Errorf("%d payloads live after halt", n)
	}
	return r
}

// waitFor polls cond until it holds, failing after a generous deadline: for
// state the kernel reaches asynchronously.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// submit submits t, retrying while the ready queue is full.
func submit(t testing.TB, k *kernel.Kernel, x kernel.Task) {
	t.Helper()
	for {
		err := k.Submit(x)
		if err == nil {
			return
		}
		if !errors.Is(err, kernel.ErrChanFull) {
			t.Fatalf("submit: %v", err)
		}
		time.Sleep(20 * time.Microsecond)
	}
}
