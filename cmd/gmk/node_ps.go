package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/admin"
)

func init() { nodeCommands = append(nodeCommands, newPsCmd, newHaltCmd) }

// gmk ps: the kernels and their workers.
func newPsCmd() *cobra.Command {
	f := &nodeFlags{}
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List the node's kernels and their workers",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			snap, done, err := f.snapshot(cmd)
			if done || err != nil {
				return err
			}
			tw := table(out)
			row(tw, "KERNEL", "ROLE", "WORKERS", "ACTIVE", "PARKED", "STALLED", "UPTIME", "TICK", "TASKS", "RATE", "QUEUED")
			for i, k := range snap.Node.Kernels {
				st := snap.Kernels[i]
				if !f.keep(k.ID) {
					continue
				}
				active := 0
				for _, w := range snap.Workers {
					if w.Kernel == k.ID && w.State != admin.WorkerIdle {
						active++
					}
				}
				row(tw, k.ID, k.Role, k.Workers, active, st.Parked, st.Stalled, uptime(k.Uptime), k.Tick,
					units.Count(st.Tasks.Completed), units.Rate(st.Rates.Completed), st.SharedQueue+st.Pending)
			}
			row(tw)
			row(tw, "KERNEL", "WORKER", "STATE", "SUBS", "PENDING", "LQ", "LQ-HIGH", "EVQ", "WAKES")
			for _, w := range snap.Workers {
				if f.keep(w.Kernel) {
					row(tw, w.Kernel, w.ID, w.State, w.Subs, w.Pending, w.LQ, w.LQHigh, w.EVQ, units.Count(w.Wakes))
				}
			}
			return tw.Flush()
		},
	}
	f.add(cmd, true)
	return cmd
}

func uptime(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// gmk halt: ask the node to halt.
func newHaltCmd() *cobra.Command {
	f := &nodeFlags{}
	cmd := &cobra.Command{
		Use:   "halt",
		Short: "Halt the node (its gmk boot then exits)",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.client().Halt(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "halting the node at %s\n", f.nodeAddr())
			return nil
		},
	}
	f.add(cmd, false)
	return cmd
}
