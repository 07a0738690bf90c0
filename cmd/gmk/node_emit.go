package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/admin"
)

func init() { nodeCommands = append(nodeCommands, newEmitCmd, newKVCmd) }

// gmk emit TYPE [JSON]: one task, its payload shaped by the type registry.
func newEmitCmd() *cobra.Command {
	f := &nodeFlags{}
	var req admin.EmitRequest
	cmd := &cobra.Command{
		Use:   "emit TYPE [JSON]",
		Short: "Submit a task (or emit it on a channel) with a JSON payload",
		Long: `Emit makes one task of TYPE (a name from types.toml or the node's config, or an
id). Its payload is JSON shaped by the type's schema: an object of the
struct's fields for a struct payload ('{"id": 1, "delay": 1000}'), a string
for a bytes payload ('"hello"'), nothing for an inline type (use --meta0,
--meta1). Without --chan the task is submitted to the kernel; with it, it is
emitted on that channel.`,
		Args: usageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Type, req.Kernel = args[0], f.kernel
			if len(args) == 2 {
				if !json.Valid([]byte(args[1])) {
					return fmt.Errorf("%w: the payload is not JSON: %s", errUsage, args[1])
				}
				req.Payload = json.RawMessage(args[1])
			}
			res, err := f.client().Emit(cmd.Context(), req)
			if err != nil {
				return err
			}
			where := "submitted"
			if res.Chan != "" {
				where = "emitted on " + res.Chan
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %d %s to %s (%d payload bytes)\n", where, res.Type, dash(res.TypeName), res.Kernel, res.PayloadLen)
			return nil
		},
	}
	f.add(cmd, false)
	fl := cmd.Flags()
	fl.StringVar(&f.kernel, "kernel", "", "the kernel (default: the first)")
	fl.StringVar(&req.Chan, "chan", "", "emit on this channel instead of submitting")
	fl.Uint64Var(&req.Meta0, "meta0", 0, "the task's meta0")
	fl.Uint64Var(&req.Meta1, "meta1", 0, "the task's meta1")
	fl.IntVar(&req.Tenant, "tenant", 0, "the task's tenant")
	fl.IntVar(&req.Priority, "priority", 0, "the task's priority (0..3)")
	fl.BoolVar(&req.Trace, "trace", false, "flag the task EMIT_TRACE: traced whatever the trace level")
	return cmd
}

// gmk kv ls | get KEY | put KEY VALUE: a running kv module's store.
func newKVCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "kv", Short: "Read and write a running kv module's store", Args: usageArgs(cobra.NoArgs)}
	var store string
	ls, get, put := &nodeFlags{}, &nodeFlags{}, &nodeFlags{}
	lsCmd := &cobra.Command{Use: "ls", Short: "List the stores, or a store's keys (--store)", Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			tw := table(out)
			if store == "" {
				ss, err := ls.client().KVStores(cmd.Context())
				if err != nil || ls.json {
					return jsonOr(out, ss, err, ls.json)
				}
				row(tw, "KERNEL", "STORE", "KEYS")
				for _, s := range ss {
					row(tw, s.Kernel, s.Store, s.Keys)
				}
				return tw.Flush()
			}
			keys, err := ls.client().KVKeys(cmd.Context(), store)
			if err != nil || ls.json {
				return jsonOr(out, keys, err, ls.json)
			}
			row(tw, "STORE", "KEY")
			for _, k := range keys {
				row(tw, k.Store, k.Key)
			}
			return tw.Flush()
		}}
	getCmd := &cobra.Command{Use: "get KEY", Short: "Print a key's value", Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := get.client().KVGet(cmd.Context(), store, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), *e.Value)
			return nil
		}}
	putCmd := &cobra.Command{Use: "put KEY VALUE", Short: "Set a key", Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := put.client().KVPut(cmd.Context(), store, args[0], args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s = %s\n", e.Store, e.Key, *e.Value)
			return nil
		}}
	lsCmd.Flags().BoolVar(&ls.json, "json", false, "print the endpoint's JSON as it came")
	for _, c := range []struct {
		cmd *cobra.Command
		f   *nodeFlags
	}{{lsCmd, ls}, {getCmd, get}, {putCmd, put}} {
		c.f.add(c.cmd, false)
		c.cmd.Flags().StringVar(&store, "store", "", "the kv module (default: the only one)")
		cmd.AddCommand(c.cmd)
	}
	return cmd
}

// jsonOr returns err, or prints v as JSON when asJSON.
func jsonOr(w io.Writer, v any, err error, asJSON bool) error {
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(w, v)
	}
	return nil
}
