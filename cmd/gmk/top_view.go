package main

import (
	"fmt"
	"strings"

	"github.com/gmkernel/gmk/admin"
)

// The dashboard's text: a header and three panes, each aligned columns in
// human units (units, node_format.go), with a KERNEL column on every row.

// header writes the title line, the pane tabs (when tabs) and the last
// poll's error.
func (m *topModel) header(b *strings.Builder, tabs bool) {
	when := "waiting for the first snapshot"
	if m.have {
		when = m.snap.Time.Local().Format("15:04:05")
	}
	fmt.Fprintf(b, "gmk top  node %s  %d kernel(s)  %s  every %s\n", m.addr, len(m.snap.Node.Kernels), when, m.every)
	for i, n := range paneNames {
		if !tabs {
			break
		}
		if i == m.pane {
			n = "[" + n + "]"
		}
		fmt.Fprintf(b, "%-11s", n)
		if i == numPanes-1 {
			b.WriteString("  tab: next pane · q: quit\n")
		}
	}
	if m.err != nil {
		fmt.Fprintf(b, "poll failed: %v\n", m.err)
	}
}

// renderPane writes pane p's tables.
func (m *topModel) renderPane(b *strings.Builder, p int) {
	fmt.Fprintf(b, "\n── %s ──\n", paneNames[p])
	switch p {
	case paneKernels:
		m.kernelsPane(b)
	case paneChannels:
		m.channelsPane(b)
	case paneModules:
		m.modulesPane(b)
	}
}

func (m *topModel) keep(kernel string) bool { return m.kernel == "" || m.kernel == kernel }

// kernelsPane: kernels with their workers' states, queues and memory; the
// workers; memory per tenant.
func (m *topModel) kernelsPane(b *strings.Builder) {
	tw := table(b)
	row(tw, "KERNEL", "ROLE", "WORKERS", "ACTIVE", "IDLE", "STALLED", "TASKS", "RATE", "ERRORS", "ERR/S",
		"IN-FLIGHT", "SHARED-Q", "LOCAL-Q", "EVQ", "PENDING", "MEMORY")
	for i, k := range m.snap.Kernels {
		if !m.keep(k.Kernel) {
			continue
		}
		role := ""
		if i < len(m.snap.Node.Kernels) {
			role = m.snap.Node.Kernels[i].Role
		}
		st := workerStates(m.snap.Workers, k.Kernel)
		inUse, total := memoryUse(k.Memory)
		t := k.Tasks
		row(tw, k.Kernel, dash(role), k.Workers, st[admin.WorkerActive], st[admin.WorkerIdle], st[admin.WorkerStalled],
			units.Count(t.Completed), units.Rate(k.Rates.Completed), units.Count(t.Errored), units.Rate(k.Rates.Errored),
			t.InFlight, k.SharedQueue, k.LocalQueues, k.Events, k.Pending, units.Bytes(inUse)+" / "+units.Bytes(total))
	}
	row(tw)
	row(tw, "KERNEL", "WORKER", "STATE", "SUBS", "PENDING", "LQ", "LQ-HIGH", "EVQ", "WAKES")
	for _, w := range m.snap.Workers {
		if m.keep(w.Kernel) {
			row(tw, w.Kernel, w.ID, w.State, w.Subs, w.Pending, w.LQ, w.LQHigh, w.EVQ, units.Count(w.Wakes))
		}
	}
	row(tw)
	row(tw, "KERNEL", "TENANT", "SLAB", "BLOCK", "BUMP", "FAILS")
	for _, k := range m.snap.Kernels {
		for _, mem := range k.Memory {
			if m.keep(k.Kernel) {
				row(tw, k.Kernel, mem.Tenant, allocUse(mem.Slab), allocUse(mem.Block), allocUse(mem.Bump),
					mem.Slab.Fails+mem.Block.Fails+mem.Bump.Fails)
			}
		}
	}
	_ = tw.Flush() // a strings.Builder does not fail
}

// channelsPane: every channel with its depth, rates and who uses it.
func (m *topModel) channelsPane(b *strings.Builder) {
	tw := table(b)
	row(tw, "KERNEL", "CHANNEL", "TYPE", "MODE", "DEPTH", "SLOTS", "EMITS", "RATE", "FULL/S", "DROPS", "DROP/S", "PRODUCERS", "CONSUMERS")
	for _, c := range m.snap.Channels {
		if !m.keep(c.Kernel) {
			continue
		}
		var subs []string
		for _, s := range c.Subs {
			subs = append(subs, s.Module)
		}
		row(tw, c.Kernel, c.Name, dash(c.TypeName), c.Mode+"/"+c.Guarantee, c.Depth, c.Slots, units.Count(c.Emits),
			units.Rate(c.EmitRate), units.Rate(c.FullRate), units.Count(c.Drops), units.Rate(c.DropRate),
			dash(strings.Join(c.Producers, ",")), dash(strings.Join(subs, ",")))
	}
	_ = tw.Flush()
}

// modulesPane: every module with its handler rates and failures.
func (m *topModel) modulesPane(b *strings.Builder) {
	tw := table(b)
	row(tw, "KERNEL", "MODULE", "STATE", "OK", "RATE", "FAIL", "FAIL/S", "RETRY", "POISONED")
	for _, mod := range m.snap.Modules {
		if !m.keep(mod.Kernel) {
			continue
		}
		var poisoned []string
		for _, t := range mod.Poisoned {
			poisoned = append(poisoned, dash(t.Name))
		}
		row(tw, mod.Kernel, mod.Name, mod.State, units.Count(mod.OK), units.Rate(mod.Rate), units.Count(mod.Fail),
			units.Rate(mod.FailRate), units.Count(mod.Retry), dash(strings.Join(poisoned, ",")))
	}
	_ = tw.Flush()
}

// workerStates counts kernel's workers by state.
func workerStates(ws []admin.WorkerStats, kernel string) map[string]int {
	n := map[string]int{}
	for _, w := range ws {
		if w.Kernel == kernel {
			n[w.State]++
		}
	}
	return n
}

// memoryUse sums the bytes in use and in total over every tenant's
// allocators.
func memoryUse(ms []admin.Memory) (inUse, total uint64) {
	for _, m := range ms {
		inUse += m.Slab.InUse + m.Block.InUse + m.Bump.InUse
		total += m.Slab.Total + m.Block.Total + m.Bump.Total
	}
	return inUse, total
}

func allocUse(a admin.Alloc) string { return units.Bytes(a.InUse) + " / " + units.Bytes(a.Total) }
