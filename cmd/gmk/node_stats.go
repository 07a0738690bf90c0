package main

import (
	"github.com/spf13/cobra"
)

func init() { nodeCommands = append(nodeCommands, newStatsCmd) }

// gmk stats: task accounting per kernel and handler results per type.
func newStatsCmd() *cobra.Command {
	f := &nodeFlags{}
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Show task counts and rates per kernel and per task type",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			snap, done, err := f.snapshot(cmd)
			if done || err != nil {
				return err
			}
			tw := table(out)
			row(tw, "KERNEL", "CREATED", "COMPLETED", "ERRORED", "DROPPED", "RETRIED", "IN-FLIGHT", "RATE", "QUEUED", "MEMORY")
			for _, k := range snap.Kernels {
				if !f.keep(k.Kernel) {
					continue
				}
				var inUse, total uint64
				for _, m := range k.Memory {
					inUse += m.Slab.InUse + m.Block.InUse + m.Bump.InUse
					total += m.Slab.Total + m.Block.Total + m.Bump.Total
				}
				t := k.Tasks
				row(tw, k.Kernel, units.Count(t.Created), units.Count(t.Completed), units.Count(t.Errored), units.Count(t.Dropped),
					units.Count(t.Retried), t.InFlight, units.Rate(k.Rates.Completed), k.SharedQueue+k.Pending, units.Bytes(inUse)+" / "+units.Bytes(total))
			}
			row(tw)
			row(tw, "KERNEL", "TYPE", "NAME", "MODULE", "OK", "FAIL", "RETRY", "RATE", "FAIL-RATE", "POISONED")
			for _, t := range snap.Types {
				if f.keep(t.Kernel) {
					row(tw, t.Kernel, t.ID, dash(t.Name), t.Module, units.Count(t.OK), units.Count(t.Fail), units.Count(t.Retry),
						units.Rate(t.Rate), units.Rate(t.FailRate), yesNo(t.Poisoned))
				}
			}
			return tw.Flush()
		},
	}
	f.add(cmd, true)
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
