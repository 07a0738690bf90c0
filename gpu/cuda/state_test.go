package cuda

import (
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/gmkernel/gmk/gpu/cuda/internal/stateabi"
)

// TestG2_StateLayout checks the Go mirror of the GPU kernel's state against
// the C compiler's layout of kernels/src/gmk_state.h, field by field: every
// field of gpuState and WorkerStats at the offset of its C namesake
// (camelCase ↔ snake_case), the two structs' sizes, and the sizes the host
// lays the device structures out with ([G2]).
func TestG2_StateLayout(t *testing.T) {
	if !stateabi.Available {
		t.Skip("needs cgo to read the C layout")
	}
	c := map[string]uint64{}
	for _, e := range stateabi.Entries() {
		c[e.Name] = e.Value
	}
	check := func(name string, got int) {
		t.Helper()
		want, ok := c[name]
		if !ok {
			t.Errorf("%s: not in the C layout (a Go field without a C namesake?)", name)
			return
		}
		if uint64(got) != want {
			t.Errorf("%s: Go %d, C %d", name, got, want)
		}
	}
	fields := func(cName string, v any) {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			if f := rt.Field(i); f.Name != "_" {
				check(cName+"."+snake(f.Name), int(f.Offset))
			}
		}
		check("sizeof("+cName+")", int(rt.Size()))
	}
	fields("gmk_gpu_state_t", gpuState{})
	fields("gmk_wstat_t", WorkerStats{})
	for name, got := range map[string]int{"gmk_mpmc_t": mpmcSize, "gmk_mpmc_cell_t": cellSize, "gmk_ctl_t": ctlSize,
		"gmk_heartbeat_t": heartbeatSize, "gmk_trace_rec_t": traceRecSize, "gmk_evq_t": evqSize,
		"gmk_evq_cell_t": evqCellSize, "gmk_evq_ent_t": evqCellSize} {
		check("sizeof("+name+")", got)
	}
}

// snake turns a Go field name into its C namesake: rxHost → rx_host,
// NsRxPoll → ns_rx_poll.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
