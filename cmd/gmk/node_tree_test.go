package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gmkernel/gmk/actors/config"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/types"
)

// The test modules of the supervision-tree node: probe records the typed
// payload of timer.set tasks (a struct payload of types.toml); flaky fails
// its tasks while flakyBad is set.
var (
	probeSpecs = make(chan types.TimerSpec, 16)
	flakyBad   atomic.Bool
	flakyOK    atomic.Int64
)

const tFlaky = 20

func init() {
	config.Register("test.probe", func(config.Params) (kernel.Module, error) {
		return kernel.Module{Handlers: []kernel.Handler{{Type: types.TimerSet, Name: "spec", Fn: func(c *kernel.Ctx) kernel.Status {
			spec, err := sdk.Read[types.TimerSpec](c)
			if err != nil {
				return kernel.FailCode(-2)
			}
			probeSpecs <- spec
			return kernel.OK
		}}}}, nil
	})
	config.Register("test.flaky", func(config.Params) (kernel.Module, error) {
		return kernel.Module{Handlers: []kernel.Handler{{Type: tFlaky, Name: "flaky", Fn: func(c *kernel.Ctx) kernel.Status {
			if flakyBad.Load() {
				return kernel.FailCode(-5)
			}
			flakyOK.Add(1)
			return kernel.OK
		}}}}, nil
	})
}

const treeConfig = `
kernel:
  id: cpu.0
  workers: 2
  arena_size: 8MiB
  poison: {failures: 3, window: 1000000}
types:
  - {id: 20, name: flaky, retry_limit: 1}
modules:
  - name: probe
    module: test.probe
  - name: flaky
    module: test.flaky
  - name: store
    module: kv
supervisor:
  name: root
  strategy: one_for_one
  max_restarts: 1000
  within: 1m
  children:
    - module: probe
    - module: flaky
    - module: store
`

func writeConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "node.yaml")
	if err := os.WriteFile(p, []byte(treeConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// [U5], [U3] gmk emit with a JSON payload reaches the handler with the
// right typed payload: the fields of TimerSpec, laid out by types.toml's
// schema, read back by sdk.Read in a module of a supervision-tree node
// booted by gmk boot config.yaml (whose kv module gmk kv reaches).
func TestU5_EmitTypedPayload(t *testing.T) {
	n := bootInProcess(t, writeConfig(t))
	if s := n.out.String(); !strings.Contains(s, "node booted from") || rowWith(s, "cpu.0", "peripheral", "2", "rq", "probe,") == nil {
		t.Errorf("boot summary:\n%s", s)
	}
	out := n.cmd(t, "emit", "timer.set", `{"id": 42, "delay": -1500, "period": 1000000000, "chan": 7, "type": 968}`)
	if !strings.Contains(out, "submitted 965 timer.set to cpu.0 (32 payload bytes)") {
		t.Errorf("gmk emit: %q", out)
	}
	select {
	case got := <-probeSpecs:
		want := types.TimerSpec{ID: 42, Delay: -1500, Period: 1e9, Chan: 7, Type: 968}
		if got != want {
			t.Errorf("the handler read %+v, want %+v", got, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the timer.set task never reached the probe")
	}
	if mods := n.cmd(t, "mod", "ls"); rowWith(mods, "cpu.0", "probe", "running") == nil || rowWith(mods, "cpu.0", "cli", "running") == nil {
		t.Errorf("gmk mod ls:\n%s", mods)
	}
	if info := n.cmd(t, "mod", "info", "probe"); rowWith(info, "supervised", "yes") == nil {
		t.Errorf("gmk mod info probe:\n%s", info)
	}
	n.cmd(t, "kv", "put", "k", "v")
	if out := n.cmd(t, "kv", "get", "k", "--store", "store"); out != "v\n" {
		t.Errorf("kv get on the config's kv module: %q", out)
	}
}

// [F3], [U5] gmk mod reset clears a poisoned type: a handler fails until
// the kernel poisons its type; mod ls shows it poisoned and the failures
// show in gmk log --errors; after the handler is healthy again and mod
// reset, a new task is handled.
func TestF3_ModReset(t *testing.T) {
	flakyBad.Store(true)
	defer flakyBad.Store(false)
	n := bootInProcess(t, writeConfig(t))
	poisoned := func(s string) bool { // the POISONED column, the last, lists type 20
		r := rowWith(s, "cpu.0", "flaky")
		return r != nil && strings.HasSuffix(strings.Join(r, " "), "20 flaky")
	}
	deadline := time.Now().Add(30 * time.Second)
	var mods string
	for mods = n.cmd(t, "mod", "ls"); !poisoned(mods); mods = n.cmd(t, "mod", "ls") {
		if time.Now().After(deadline) {
			t.Fatalf("flaky was never poisoned:\n%s", mods)
		}
		n.cmd(t, "emit", "flaky")
		time.Sleep(10 * time.Millisecond)
	}
	if r := rowWith(mods, "cpu.0", "flaky"); r[2] == "running" {
		t.Errorf("a poisoned module shows as running:\n%s", mods)
	}
	errs := n.eventually(t, func(s string) bool { return rowWith(s, "error", "sys.error", "20", "flaky") != nil }, "log", "--errors")
	if r := rowWith(errs, "error", "sys.error", "20", "flaky"); column(errs, r, "CODE") != "FAIL(-5)" && column(errs, r, "CODE") != "POISONED" {
		t.Errorf("gmk log --errors:\n%s", errs)
	}

	flakyBad.Store(false)
	before := flakyOK.Load()
	if out := n.cmd(t, "mod", "reset", "flaky"); !strings.Contains(out, "reset flaky on cpu.0: cleared 20 flaky") {
		t.Errorf("gmk mod reset: %q", out)
	}
	if mods := n.cmd(t, "mod", "ls"); rowWith(mods, "cpu.0", "flaky", "running") == nil {
		t.Errorf("after reset:\n%s", mods)
	}
	n.cmd(t, "emit", "flaky")
	deadline = time.Now().Add(30 * time.Second)
	for flakyOK.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("the task after the reset was not handled")
		}
		time.Sleep(time.Millisecond)
	}
}

// [U5], [K2] gmk halt stops a node that gmk boot runs in a child process:
// the process exits 0 after printing its accounting.
func TestU5_HaltChildProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gmk binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gmk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addrFile := filepath.Join(dir, "node.addr")
	var out, errOut syncBuffer
	cmd := exec.Command(bin, "boot", "--admin", "127.0.0.1:0", "--addr-file", addrFile, "--workers", "1")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var addr string
	for addr == "" && ctx.Err() == nil {
		if b, err := os.ReadFile(addrFile); err == nil && strings.HasSuffix(string(b), "\n") {
			addr = strings.TrimSpace(string(b))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("the child recorded no address: %s%s", &out, &errOut)
	}
	if code, o, e := gmk(t, "halt", "--node", addr); code != 0 {
		t.Errorf("gmk halt: %d %q %q", code, o, e)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("gmk boot exited with %v: %s", err, &errOut)
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-exited
		t.Fatal("gmk boot did not exit after gmk halt")
	}
	if s := out.String(); !strings.Contains(s, "gmk: halted: created") {
		t.Errorf("child output:\n%s", s)
	}
	if _, err := os.Stat(addrFile); !os.IsNotExist(err) {
		t.Errorf("the address file outlived the node: %v", err)
	}
}
