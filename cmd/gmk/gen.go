package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/internal/types"
)

// newGen is `gmk gen types`: generate the Go and C type definitions from
// types.toml ([U3]).
func newGen() *cobra.Command {
	var root string
	var check bool
	gen := &cobra.Command{
		Use:   "gen",
		Short: "Generate code from the repository's declarations",
	}
	typ := &cobra.Command{
		Use:   "types",
		Short: "Generate types/types_gen.go and kernels/include/gmk_types.h from types.toml",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			paths, err := types.Generate(root, check)
			if err != nil {
				return err
			}
			for _, p := range paths {
				if check {
					fmt.Fprintf(cmd.OutOrStdout(), "up to date %s\n", p)
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", p)
				}
			}
			return nil
		},
	}
	typ.Flags().StringVar(&root, "root", ".", "the repository root (holds types.toml)")
	typ.Flags().BoolVar(&check, "check", false, "fail if the generated files are out of date; write nothing")
	gen.AddCommand(typ)
	return gen
}
