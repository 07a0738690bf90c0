package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/admin"
)

func init() { nodeCommands = append(nodeCommands, newLogCmd) }

type logFlags struct {
	nodeFlags
	follow bool
	level  string
	n      int
	errors bool
	tasks  bool
}

// gmk log: the node's log, or (--errors, --tasks) the tasks the cli module
// recorded.
func newLogCmd() *cobra.Command {
	f := &logFlags{}
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the node's log, or its failed and dropped tasks (--errors)",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := followContext(cmd.Context(), f.follow)
			defer stop()
			if f.errors || f.tasks {
				return f.failures(ctx, cmd.OutOrStdout())
			}
			return f.logs(ctx, cmd.OutOrStdout())
		},
	}
	f.add(cmd, true)
	fl := cmd.Flags()
	fl.BoolVarP(&f.follow, "follow", "f", false, "keep printing new entries until interrupted")
	fl.StringVar(&f.level, "level", "", "lowest log level shown: debug, info, warn, error")
	fl.IntVarP(&f.n, "lines", "n", 100, "entries shown from the past")
	fl.BoolVar(&f.errors, "errors", false, "show the tasks that ended in sys.error or sys.dropped")
	fl.BoolVar(&f.tasks, "tasks", false, "show the tasks of the channels the cli module taps (echo.out on the default node)")
	return cmd
}

// followContext ends at SIGINT or SIGTERM when following.
func followContext(ctx context.Context, follow bool) (context.Context, context.CancelFunc) {
	if !follow {
		return context.WithCancel(ctx)
	}
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

func (f *logFlags) logs(ctx context.Context, w io.Writer) error {
	q := url.Values{"n": {fmt.Sprint(f.n)}}
	if f.level != "" {
		q.Set("level", f.level)
	}
	if f.follow {
		q.Set("follow", "1")
	}
	err := f.client().Logs(ctx, q, func(e admin.LogEntry) error {
		if f.json {
			return printJSONCompact(w, e)
		}
		_, err := fmt.Fprintf(w, "%s  %-5s  %s%s\n", e.Time.Local().Format("15:04:05.000"), strings.ToUpper(e.Level), e.Message, fields(e.Fields))
		return err
	})
	if ctx.Err() != nil {
		return nil // interrupted while following
	}
	return err
}

func fields(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s=%v", k, m[k])
	}
	return b.String()
}

// failures prints the recorded tasks; with --follow it polls for new ones.
func (f *logFlags) failures(ctx context.Context, w io.Writer) error {
	kinds := []string{"error", "dropped"}
	if f.tasks {
		kinds = []string{"tap"}
	}
	fs, err := f.client().Failures(ctx, 0, kinds...)
	if err != nil {
		return err
	}
	if len(fs) > f.n {
		fs = fs[len(fs)-f.n:]
	}
	after := f.printFailures(w, fs, true)
	for f.follow {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(250 * time.Millisecond):
		}
		more, err := f.client().Failures(ctx, after, kinds...)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		after = max(after, f.printFailures(w, more, false))
	}
	return nil
}

// printFailures prints rows (with a header first) and returns the last seq.
func (f *logFlags) printFailures(w io.Writer, fs []admin.Failure, header bool) uint64 {
	var last uint64
	if f.json {
		for _, e := range fs {
			_ = printJSONCompact(w, e)
			last = e.Seq
		}
		return last
	}
	tw := table(w)
	if header {
		row(tw, "KERNEL", "SEQ", "KIND", "CHANNEL", "TYPE", "NAME", "CODE", "META0", "META1", "PAYLOAD", "TICK")
	}
	for _, e := range fs {
		if f.keep(e.Kernel) {
			row(tw, e.Kernel, e.Seq, e.Kind, e.Channel, e.Type, dash(e.TypeName), dash(e.CodeName), e.Meta0, e.Meta1, preview(e), e.Tick)
		}
		last = e.Seq
	}
	_ = tw.Flush()
	return last
}

func preview(e admin.Failure) string {
	if e.PayloadLen == 0 {
		return "-"
	}
	s := fmt.Sprintf("%q", e.Preview)
	if int(e.PayloadLen) > len(e.Preview) {
		s += fmt.Sprintf("… (%d bytes)", e.PayloadLen)
	}
	return s
}
