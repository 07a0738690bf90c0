package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/admin"
)

func init() { nodeCommands = append(nodeCommands, newKernCmd) }

// gmk kern ls | info ID.
func newKernCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "kern", Short: "List and describe the node's kernels", Args: usageArgs(cobra.NoArgs)}
	ls, info := &nodeFlags{}, &nodeFlags{}
	lsCmd := &cobra.Command{Use: "ls", Short: "List the kernels", Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if done, err := ls.raw(cmd.Context(), out, "node"); done {
				return err
			}
			ni, err := ls.client().Node(cmd.Context())
			if err != nil {
				return err
			}
			tw := table(out)
			row(tw, "KERNEL", "ROLE", "WORKERS", "TENANTS", "POLICY", "UPTIME", "TICK", "MODULES", "CHANNELS", "ACTORS")
			for _, k := range ni.Kernels {
				if ls.keep(k.ID) {
					row(tw, k.ID, k.Role, k.Workers, k.Tenants, k.Policy, uptime(k.Uptime), k.Tick, k.Modules, k.Channels, yesNo(k.Actors))
				}
			}
			return tw.Flush()
		}}
	infoCmd := &cobra.Command{Use: "info ID", Short: "Describe a kernel: tasks, queues, memory", Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			info.kernel = args[0]
			out := cmd.OutOrStdout()
			if done, err := info.raw(cmd.Context(), out, "stats"+info.query()); done {
				return err
			}
			st, err := info.client().Stats(cmd.Context())
			if err != nil {
				return err
			}
			for _, k := range st {
				if k.Kernel == args[0] {
					return printKernel(out, k)
				}
			}
			return fmt.Errorf("no kernel %q", args[0])
		}}
	ls.add(lsCmd, true)
	info.add(infoCmd, false)
	infoCmd.Flags().BoolVar(&info.json, "json", false, "print the endpoint's JSON as it came")
	cmd.AddCommand(lsCmd, infoCmd)
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// printKernel prints a kernel's statistics as a key/value list and its
// memory as a table.
func printKernel(w io.Writer, k admin.KernelStats) error {
	t := k.Tasks
	tw := table(w)
	row(tw, "kernel", k.Kernel)
	row(tw, "tick", k.Tick)
	row(tw, "tasks", fmt.Sprintf("created %d = completed %d + errored %d + dropped %d + in flight %d", t.Created, t.Completed, t.Errored, t.Dropped, t.InFlight))
	row(tw, "", fmt.Sprintf("submitted %d, emitted %d, retried %d, yielded %d, panics %d", t.Submitted, t.Emitted, t.Retried, t.Yielded, t.Panics))
	row(tw, "rates", fmt.Sprintf("created %s, completed %s, errored %s, dropped %s", units.Rate(k.Rates.Created), units.Rate(k.Rates.Completed), units.Rate(k.Rates.Errored), units.Rate(k.Rates.Dropped)))
	row(tw, "queues", fmt.Sprintf("shared %d, local %d, events %d, subscriptions %d", k.SharedQueue, k.LocalQueues, k.Events, k.Pending))
	row(tw, "workers", fmt.Sprintf("%d (%d parked, %d stalled)", k.Workers, k.Parked, k.Stalled))
	row(tw, "payloads", fmt.Sprintf("%d live, trace records lost %d", k.LivePayloads, k.TraceLost))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = table(w)
	row(tw, "TENANT", "ALLOCATOR", "TOTAL", "IN-USE", "HIGH", "ALLOCS", "FREES", "FAILS")
	for _, m := range k.Memory {
		for _, a := range []struct {
			n string
			s admin.Alloc
		}{{"slab", m.Slab}, {"block", m.Block}, {"bump", m.Bump}} {
			row(tw, m.Tenant, a.n, units.Bytes(a.s.Total), units.Bytes(a.s.InUse), units.Bytes(a.s.HighWater),
				units.Count(a.s.Allocs), units.Count(a.s.Frees), units.Count(a.s.Fails))
		}
	}
	return tw.Flush()
}
