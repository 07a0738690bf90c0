package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/admin"
)

func init() { nodeCommands = append(nodeCommands, newTraceCmd) }

type traceFlags struct {
	nodeFlags
	follow   bool
	typ      string
	level    string
	module   string
	sample   float64
	n        int
	export   string
	setLevel string
}

// gmk trace: the kernels' trace records ([O2], [O3]), filtered, or
// exported as a Perfetto/Chrome trace.
func newTraceCmd() *cobra.Command {
	f := &traceFlags{}
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "Show trace records (filter by type, level, module, sample) or export them (--export)",
		Long: `Trace prints the trace records the node's kernels drained: those the modules'
trace levels record ([O3]: WARN by default; EMIT_TRACE tasks always — gmk emit
--trace). --set-level changes a module's level on the node first (--module,
default the kernel's own events). --export FILE writes every kernel's
records as a Chrome/Perfetto JSON trace (ui.perfetto.dev opens it).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := followContext(cmd.Context(), f.follow)
			defer stop()
			if f.setLevel != "" {
				tl, err := f.client().SetTraceLevel(ctx, admin.TraceLevel{Kernel: f.kernel, Module: f.module, Level: f.setLevel})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "trace level of %s on %s: %s\n", dash(tl.Module), tl.Kernel, tl.Level)
			}
			if f.export != "" {
				return f.exportTo(ctx, cmd.OutOrStdout())
			}
			return f.stream(ctx, cmd.OutOrStdout())
		},
	}
	f.add(cmd, true)
	fl := cmd.Flags()
	fl.BoolVarP(&f.follow, "follow", "f", false, "keep printing new records until interrupted")
	fl.StringVar(&f.typ, "type", "", "only records of this task type (name or id)")
	fl.StringVar(&f.level, "level", "", "only events recorded at this level or a less verbose one: error, warn, info, all")
	fl.StringVar(&f.module, "module", "", "only records of this module's types (\"kernel\": park, wake)")
	fl.Float64Var(&f.sample, "sample", 1, "show this fraction of the records, spread evenly (0 < s <= 1)")
	fl.IntVarP(&f.n, "lines", "n", 0, "records shown from the past (0: all kept)")
	fl.StringVar(&f.export, "export", "", "write a Chrome/Perfetto JSON trace of all kernels to this file")
	fl.StringVar(&f.setLevel, "set-level", "", "first set --module's trace level on the node: off, error, warn, info, all")
	return cmd
}

func (f *traceFlags) exportTo(ctx context.Context, w io.Writer) error {
	file, err := os.Create(f.export)
	if err != nil {
		return err
	}
	if err := f.client().Export(ctx, file); err != nil {
		file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	var doc struct {
		TraceEvents []json.RawMessage `json:"traceEvents"`
	}
	b, err := os.ReadFile(f.export)
	if err == nil {
		err = json.Unmarshal(b, &doc)
	}
	if err != nil {
		return fmt.Errorf("the exported trace does not parse: %w", err)
	}
	fmt.Fprintf(w, "wrote %s: %d trace events (open it in ui.perfetto.dev)\n", f.export, len(doc.TraceEvents))
	return nil
}

func (f *traceFlags) stream(ctx context.Context, w io.Writer) error {
	q := url.Values{"n": {fmt.Sprint(f.n)}}
	for k, v := range map[string]string{"kernel": f.kernel, "type": f.typ, "level": f.level, "module": f.module} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.sample != 1 {
		q.Set("sample", fmt.Sprint(f.sample))
	}
	if f.follow {
		q.Set("follow", "1")
	}
	tw := table(w)
	if !f.json {
		row(tw, "KERNEL", "WORKER", "TS", "EVENT", "TYPE", "NAME", "MODULE", "TENANT", "ARG0", "ARG1", "FLAGS")
	}
	err := f.client().Trace(ctx, q, func(e admin.TraceEvent) error {
		if f.json {
			return printJSONCompact(w, e)
		}
		row(tw, e.Kernel, e.Worker, e.TS, e.Event, e.Type, dash(e.TypeName), dash(e.Module), e.Tenant, e.Arg0, e.Arg1, dash(e.Flags))
		if f.follow {
			return tw.Flush()
		}
		return nil
	})
	if ferr := tw.Flush(); err == nil {
		err = ferr
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func printJSONCompact(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
