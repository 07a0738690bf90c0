package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/admin"
)

// nodeFlags are the flags of every command that talks to a node.
type nodeFlags struct {
	addr   string
	json   bool
	kernel string
}

// add adds --node (and, for listings, --json and --kernel) to cmd.
func (f *nodeFlags) add(cmd *cobra.Command, listing bool) {
	cmd.Flags().StringVar(&f.addr, "node", "", "admin address of the node (default: $GMK_NODE, the address gmk boot recorded, or "+DefaultNode+")")
	if listing {
		cmd.Flags().BoolVar(&f.json, "json", false, "print the endpoint's JSON as it came")
		cmd.Flags().StringVar(&f.kernel, "kernel", "", "only this kernel's rows (an id such as cpu.0)")
	}
}

// nodeAddr resolves the node's address: --node, $GMK_NODE, the address
// file gmk boot wrote, the default.
func (f *nodeFlags) nodeAddr() string {
	if f.addr != "" {
		return f.addr
	}
	if v := os.Getenv("GMK_NODE"); v != "" {
		return v
	}
	if p := defaultAddrFile(); p != "" {
		if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) != "" {
			return strings.TrimSpace(string(b))
		}
	}
	return DefaultNode
}

func (f *nodeFlags) client() *admin.Client { return admin.NewClient(f.nodeAddr()) }

// query returns the kernel filter as a query string ("" or "?kernel=…").
func (f *nodeFlags) query() string {
	if f.kernel == "" {
		return ""
	}
	return "?kernel=" + f.kernel
}

// raw prints the JSON of a GET of path when --json is set, and reports
// whether it did.
func (f *nodeFlags) raw(ctx context.Context, w io.Writer, path string) (bool, error) {
	if !f.json {
		return false, nil
	}
	b, err := f.client().Raw(ctx, path)
	if err != nil {
		return true, err
	}
	_, err = w.Write(b)
	return true, err
}

// snapshot fetches the node's snapshot; with --json it prints the raw JSON
// instead and reports done.
func (f *nodeFlags) snapshot(cmd *cobra.Command) (snap admin.Snapshot, done bool, err error) {
	if done, err = f.raw(cmd.Context(), cmd.OutOrStdout(), "snapshot"+f.query()); done {
		return snap, true, err
	}
	snap, err = f.client().Snapshot(cmd.Context())
	return snap, false, err
}

// keep reports whether a row of kernel id passes --kernel.
func (f *nodeFlags) keep(id string) bool { return f.kernel == "" || f.kernel == id }

// table returns the aligned-columns writer every listing uses.
func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// row writes one tab-separated row.
func row(w io.Writer, cols ...any) {
	for i, c := range cols {
		if i > 0 {
			fmt.Fprint(w, "\t")
		}
		fmt.Fprint(w, c)
	}
	fmt.Fprintln(w)
}
