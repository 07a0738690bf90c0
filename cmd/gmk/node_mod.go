package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/admin"
)

func init() { nodeCommands = append(nodeCommands, newModCmd) }

// gmk mod ls | info NAME | reset NAME.
func newModCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "mod", Short: "List, describe and reset modules", Args: usageArgs(cobra.NoArgs)}
	ls, info, reset := &nodeFlags{}, &nodeFlags{}, &nodeFlags{}
	lsCmd := &cobra.Command{Use: "ls", Short: "List the modules: state, types, rates, failures", Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if done, err := ls.raw(cmd.Context(), out, "modules"+ls.query()); done {
				return err
			}
			ms, err := ls.client().Modules(cmd.Context())
			if err != nil {
				return err
			}
			tw := table(out)
			row(tw, "KERNEL", "MODULE", "STATE", "TYPES", "OK", "FAIL", "RETRY", "RATE", "FAIL-RATE", "POISONED")
			for _, m := range ms {
				row(tw, m.Kernel, m.Name, m.State, typeList(m.Types, m.CatchAll), units.Count(m.OK), units.Count(m.Fail),
					units.Count(m.Retry), units.Rate(m.Rate), units.Rate(m.FailRate), dash(typeList(m.Poisoned, false)))
			}
			return tw.Flush()
		}}
	infoCmd := &cobra.Command{Use: "info NAME", Short: "Describe a module", Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ms, err := info.client().Modules(cmd.Context())
			if err != nil {
				return err
			}
			var found []admin.Module
			for _, m := range ms {
				if m.Name == args[0] && info.keep(m.Kernel) {
					found = append(found, m)
				}
			}
			if len(found) == 0 {
				return fmt.Errorf("no module %q", args[0])
			}
			if info.json {
				return printJSON(cmd.OutOrStdout(), found)
			}
			for _, m := range found {
				printModule(cmd.OutOrStdout(), m)
			}
			return nil
		}}
	resetCmd := &cobra.Command{Use: "reset NAME", Short: "Clear the poison of a module (or a task type) ([F3])", Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := reset.client().Reset(cmd.Context(), admin.ResetRequest{Kernel: reset.kernel, Name: args[0]})
			if err != nil {
				return err
			}
			cleared := typeList(res.Cleared, false)
			if cleared == "" {
				cleared = "nothing was poisoned"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "reset %s on %s: cleared %s\n", res.Name, res.Kernel, cleared)
			return nil
		}}
	ls.add(lsCmd, true)
	info.add(infoCmd, true)
	reset.add(resetCmd, false)
	resetCmd.Flags().StringVar(&reset.kernel, "kernel", "", "the kernel (default: the first)")
	cmd.AddCommand(lsCmd, infoCmd, resetCmd)
	return cmd
}

// typeList formats types as "960 echo.in, 961".
func typeList(ts []admin.TypeRef, catchAll bool) string {
	var parts []string
	for _, t := range ts {
		if t.Name != "" {
			parts = append(parts, fmt.Sprintf("%d %s", t.ID, t.Name))
		} else {
			parts = append(parts, fmt.Sprint(t.ID))
		}
	}
	if catchAll {
		parts = append(parts, "any")
	}
	return strings.Join(parts, ", ")
}

func printModule(w io.Writer, m admin.Module) {
	tw := table(w)
	row(tw, "module", fmt.Sprintf("%s %s on kernel %s", m.Name, m.Version, m.Kernel))
	row(tw, "state", m.State)
	row(tw, "supervised", yesNo(m.Actor))
	row(tw, "types", dash(typeList(m.Types, m.CatchAll)))
	row(tw, "poisoned", dash(typeList(m.Poisoned, false)))
	row(tw, "results", fmt.Sprintf("ok %d (%s), fail %d (%s), retry %d", m.OK, units.Rate(m.Rate), m.Fail, units.Rate(m.FailRate), m.Retry))
	for _, c := range m.Channels {
		row(tw, c.Dir, c.Name)
	}
	_ = tw.Flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
