package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/gmkernel/gmk/admin"
)

// [U5] gmk top --once against a real booted node: three tasks emitted to
// echo.in show up as echo's OK count, echo.out's emits and the kernel's
// completed tasks; every pane is printed with its KERNEL column.
func TestU5_TopOnce(t *testing.T) {
	n := bootInProcess(t)
	for range 3 {
		n.cmd(t, "emit", "echo.in", `"hello"`)
	}
	out := n.eventually(t, func(s string) bool {
		echo, ch := rowWith(s, "cpu.0", "echo", "running"), rowWith(s, "cpu.0", "echo.out")
		return echo != nil && column(s, echo, "OK") == "3" && ch != nil && column(s, ch, "EMITS") == "3"
	}, "top", "--once")
	for _, want := range []string{"── kernels ──", "── channels ──", "── modules ──"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	k := rowWith(out, "cpu.0", "peripheral")
	if k == nil || leading(out, k, "WORKERS") != "2" || leading(out, k, "STALLED") != "0" ||
		!strings.HasSuffix(leading(out, k, "RATE"), "/s") {
		t.Errorf("kernel row %q in:\n%s", k, out)
	}
	// echo → echo.out → cli: three echoes and three taps completed.
	if got := leading(out, k, "TASKS"); got != "6" {
		t.Errorf("TASKS = %q, want 6:\n%s", got, out)
	}
	if r := rowWith(out, "cpu.0", "echo.out"); column(out, r, "PRODUCERS") != "echo" || column(out, r, "CONSUMERS") != "cli" {
		t.Errorf("echo.out row %q", r)
	}
	if rowWith(out, "cpu.0", "0", "idle") == nil && rowWith(out, "cpu.0", "0", "active") == nil {
		t.Errorf("no worker 0 row:\n%s", out)
	}
	if rowWith(out, "KERNEL", "TENANT", "SLAB", "BLOCK", "BUMP") == nil || !strings.Contains(out, " B / ") {
		t.Errorf("no memory table:\n%s", out)
	}
}

// leading returns the value of column name in a row whose last column (the
// kernels' MEMORY, "1.5 KiB / 1 MiB") spans several fields: columns before
// it are found by their index in the header line that holds name.
func leading(out string, row []string, name string) string {
	for _, line := range strings.Split(out, "\n") {
		hs := strings.Fields(line)
		if len(hs) > 0 && hs[0] == "KERNEL" {
			for i, h := range hs {
				if h == name && i < len(hs)-1 && i < len(row) && contains(hs, "MEMORY") {
					return row[i]
				}
			}
		}
	}
	return ""
}

// [U5] gmk top against no node fails with the reason.
func TestU5_TopNoNode(t *testing.T) {
	code, _, errOut := gmk(t, "top", "--once", "--node", "127.0.0.1:1")
	if code != 1 || !strings.Contains(errOut, "no node at") {
		t.Errorf("gmk top --once with no node: %d %q", code, errOut)
	}
	if code, _, _ := gmk(t, "top", "--interval", "0"); code != 2 {
		t.Errorf("gmk top --interval 0: exit %d, want 2", code)
	}
}

// snapshots is a node whose counters advance by one step per poll.
type snapshots struct {
	n   int
	err error
}

func (s *snapshots) fetch(context.Context) (admin.Snapshot, error) {
	if s.err != nil {
		return admin.Snapshot{}, s.err
	}
	s.n++
	ok := uint64(1000 * s.n)
	return admin.Snapshot{
		Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Node: admin.NodeInfo{Kernels: []admin.KernelInfo{{ID: "cpu.0", Role: "peripheral", Workers: 2}, {ID: "gpu.0", Role: "compute", Workers: 1}}},
		Kernels: []admin.KernelStats{
			{Kernel: "cpu.0", Workers: 2, Stalled: 1, Tasks: admin.Tasks{Completed: ok}, Rates: admin.TaskRates{Completed: 8400},
				Memory: []admin.Memory{{Slab: admin.Alloc{InUse: 1536, Total: 1 << 20}}}},
			{Kernel: "gpu.0", Workers: 1}},
		Workers: []admin.WorkerStats{{Kernel: "cpu.0", ID: 0, State: admin.WorkerActive}, {Kernel: "cpu.0", ID: 1, State: admin.WorkerStalled},
			{Kernel: "gpu.0", ID: 0, State: admin.WorkerIdle}},
		Channels: []admin.Channel{{Kernel: "cpu.0", Name: "host.rx", Mode: "p2p", Guarantee: "lossless", Depth: 7, Emits: ok,
			EmitRate: 8400, Producers: []string{"ingest"}, Subs: []admin.Sub{{Module: "bridge"}}}},
		Modules: []admin.Module{{Kernel: "gpu.0", Name: "xform", State: admin.ModulePoisoned, OK: ok, Fail: 3, FailRate: 1.5,
			Poisoned: []admin.TypeRef{{ID: 9, Name: "img.in"}}}},
	}, nil
}

// [U5] The dashboard's model without a terminal: Init polls; a poll's
// result redraws the view and schedules the next tick; a tick polls again
// and the new counters show; tab switches panes; a failed poll keeps the
// last snapshot and says why; q quits.
func TestU5_TopModel(t *testing.T) {
	src := &snapshots{}
	m := newTopModel(context.Background(), "test:1", src.fetch, 500*time.Millisecond)
	if v := m.View(); !strings.Contains(v, "waiting for the first snapshot") {
		t.Errorf("view before the first poll:\n%s", v)
	}
	step := func(msg tea.Msg) tea.Msg {
		t.Helper()
		_, cmd := m.Update(msg)
		if cmd == nil {
			t.Fatalf("Update(%T) scheduled nothing", msg)
		}
		return cmd()
	}
	poll := m.Init()()
	if _, ok := step(poll).(tickMsg); !ok { // the poll's result schedules a tick
		t.Fatal("a poll result did not schedule a tick")
	}
	v := m.View()
	k := rowWith(v, "cpu.0", "peripheral")
	if k == nil || leading(v, k, "TASKS") != "1K" || leading(v, k, "RATE") != "8.4K/s" || leading(v, k, "ACTIVE") != "1" ||
		leading(v, k, "STALLED") != "1" {
		t.Errorf("kernels pane, row %q:\n%s", k, v)
	}
	if !strings.Contains(v, "1.5 KiB / 1 MiB") || rowWith(v, "gpu.0", "compute") == nil || !strings.Contains(v, "[kernels]") {
		t.Errorf("kernels pane:\n%s", v)
	}

	poll = step(tickMsg(time.Now())) // a tick polls again: counters advance
	step(poll)
	m.Update(tea.KeyMsg{Type: tea.KeyTab})
	v = m.View()
	if r := rowWith(v, "cpu.0", "host.rx"); r == nil || column(v, r, "EMITS") != "2K" || column(v, r, "DEPTH") != "7" ||
		column(v, r, "RATE") != "8.4K/s" || column(v, r, "CONSUMERS") != "bridge" || !strings.Contains(v, "[channels]") {
		t.Errorf("channels pane after a tick, row %q:\n%s", r, v)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyTab})
	v = m.View()
	if r := rowWith(v, "gpu.0", "xform"); r == nil || column(v, r, "STATE") != "poisoned" || column(v, r, "OK") != "2K" ||
		column(v, r, "FAIL/S") != "1.5/s" || column(v, r, "POISONED") != "img.in" {
		t.Errorf("modules pane, row %q:\n%s", r, v)
	}

	src.err = errors.New("no node at test:1")
	step(step(tickMsg(time.Now())))
	if v = m.View(); !strings.Contains(v, "poll failed: no node at test:1") || rowWith(v, "gpu.0", "xform") == nil {
		t.Errorf("view after a failed poll:\n%s", v)
	}

	m.Update(tea.WindowSizeMsg{Width: 20, Height: 4})
	if lines := strings.Split(m.View(), "\n"); len(lines) != 4 || len([]rune(lines[0])) != 20 || !strings.HasPrefix(lines[3], "… ") {
		t.Errorf("view clipped to 20x4: %q", lines)
	}
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	if cmd == nil {
		t.Fatal("q returned no command")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("q did not return tea.Quit")
	}
}
