package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/admin"
)

func init() { nodeCommands = append(nodeCommands, newChanCmd) }

// gmk chan ls | inspect NAME.
func newChanCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "chan", Short: "List and inspect channels", Args: usageArgs(cobra.NoArgs)}
	ls, in := &nodeFlags{}, &nodeFlags{}
	lsCmd := &cobra.Command{Use: "ls", Short: "List the channels with depth, counters and rates", Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if done, err := ls.raw(cmd.Context(), out, "channels"+ls.query()); done {
				return err
			}
			cs, err := ls.client().Channels(cmd.Context())
			if err != nil {
				return err
			}
			tw := table(out)
			row(tw, "KERNEL", "CHANNEL", "ID", "TYPE", "MODE", "GUARANTEE", "SUBS", "DEPTH", "EMITS", "RATE", "FULL", "DROPS")
			for _, c := range cs {
				row(tw, c.Kernel, c.Name, c.ID, chanType(c), c.Mode, c.Guarantee, c.Subscribers, c.Depth,
					units.Count(c.Emits), units.Rate(c.EmitRate), units.Count(c.Full), units.Count(c.Drops))
			}
			return tw.Flush()
		}}
	inCmd := &cobra.Command{Use: "inspect NAME", Short: "Describe a channel and its subscribers", Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, err := in.client().Channels(cmd.Context())
			if err != nil {
				return err
			}
			var found []admin.Channel
			for _, c := range cs {
				if c.Name == args[0] && in.keep(c.Kernel) {
					found = append(found, c)
				}
			}
			if len(found) == 0 {
				return fmt.Errorf("no channel %q", args[0])
			}
			if in.json {
				return printJSON(cmd.OutOrStdout(), found)
			}
			for _, c := range found {
				if err := printChannel(cmd, c); err != nil {
					return err
				}
			}
			return nil
		}}
	ls.add(lsCmd, true)
	in.add(inCmd, true)
	cmd.AddCommand(lsCmd, inCmd)
	return cmd
}

func chanType(c admin.Channel) string {
	if c.Type == ^uint32(0) {
		return "any"
	}
	if c.TypeName != "" {
		return fmt.Sprintf("%d (%s)", c.Type, c.TypeName)
	}
	return fmt.Sprint(c.Type)
}

func printChannel(cmd *cobra.Command, c admin.Channel) error {
	out := cmd.OutOrStdout()
	tw := table(out)
	row(tw, "channel", fmt.Sprintf("%s (id %d) on kernel %s", c.Name, c.ID, c.Kernel))
	row(tw, "type", chanType(c))
	row(tw, "shape", fmt.Sprintf("%s, %s, %d slots, replay %d", c.Mode, c.Guarantee, c.Slots, c.Replay))
	row(tw, "producers", dash(strings.Join(c.Producers, ", ")))
	row(tw, "depth", c.Depth)
	row(tw, "emits", fmt.Sprintf("%s (%s)", units.Count(c.Emits), units.Rate(c.EmitRate)))
	row(tw, "full", fmt.Sprintf("%s (%s)", units.Count(c.Full), units.Rate(c.FullRate)))
	row(tw, "drops", fmt.Sprintf("%s (%s)", units.Count(c.Drops), units.Rate(c.DropRate)))
	row(tw, "state", chanState(c))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	tw = table(out)
	row(tw, "SUB", "MODULE", "HOME", "DEPTH", "STATE")
	for _, s := range c.Subs {
		idx := fmt.Sprint(s.Index)
		if s.OnError {
			idx = "error"
		}
		state := "ok"
		switch {
		case s.Paused:
			state = "paused"
		case s.Degraded:
			state = "degraded"
		}
		row(tw, idx, s.Module, s.Home, s.Depth, state)
	}
	return tw.Flush()
}

func chanState(c admin.Channel) string {
	switch {
	case c.Closed:
		return "closed"
	case c.Suspended:
		return "suspended"
	}
	return "open"
}
