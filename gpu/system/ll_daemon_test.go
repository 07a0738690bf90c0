//go:build !race

// The GPU daemon over LL rings: protoactor remote trips the race detector
// (see daemon_test.go), so this runs in the plain `go test` build.

package system_test

import (
	"testing"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/gpu/daemon"
	"github.com/gmkernel/gmk/gpu/sim"
	"github.com/gmkernel/gmk/gpu/system"
	"github.com/gmkernel/gmk/internal/gpudtest"
	"github.com/gmkernel/gmk/kernel"
)

// [B4] The GPU daemon's kernel over LL rings (bridge.Config.LL): the
// shared-memory regions are formatted LL on the CPU side and read as such in
// the daemon's process (the format travels in the rings' flags); 5,000
// inline round trips through its xform come back in order, through small
// rings that wrap many times, and the halt's identities hold.
func TestB4_DaemonRoundTripLL(t *testing.T) {
	const n = 5000
	st := &store{}
	s, err := system.Boot(system.Config{CPU: small, CPUModules: []kernel.Module{ingest, st.module()},
		Bridge: bridge.Config{Capacity: 64, LL: true},
		Daemon: &daemon.Config{Exe: gpudtest.Exe(t), Sim: sim.Config{Workers: 2, Kernel: small},
			Modules: []daemon.ModuleRef{{Name: "xform", Args: map[string]string{"scale": "3"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	emitInline(t, s.CPU(), n)
	waitFor(t, "the round trips", func() bool { return st.n.Load() == n })
	halt(t, s)
	for i, v := range st.meta {
		if v != uint64(i) {
			t.Fatalf("task %d came back as %d", i, v)
		}
	}
}
