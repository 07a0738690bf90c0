package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gmkernel/gmk/internal/types"
)

// register appends the scaffold's input type to ROOT/types.toml — checked
// by parsing the result before it is written — and regenerates the type
// files when ROOT is the gmk repository (it has types/types_gen.go).
func (f *newFlags) register(cmd *cobra.Command, s *scaffold) error {
	path := filepath.Join(f.root, types.SpecFile)
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.Write(old)
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, `
# ---- %s (gmk new --target %s) ----

[[type]]
id = %d
name = %q
const = "%sIn"
module = %q
doc = "the %s module's input"
payload = "inline"
meta0 = "a value to add to the sum"
`, s.Name, f.target, s.Type, s.TypeName, s.Go, s.Name, s.Name)
	if _, err := types.Parse(b.Bytes(), path); err != nil {
		return fmt.Errorf("new: the type would not fit %s: %w", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "added type %d (%s) to %s\n", s.Type, s.TypeName, path)
	if _, err := os.Stat(filepath.Join(f.root, filepath.FromSlash(types.GoFile))); err != nil {
		return nil // not the gmk repository: the caller generates its own definitions
	}
	paths, err := types.Generate(f.root, false)
	for _, p := range paths {
		fmt.Fprintf(out, "wrote %s\n", filepath.Join(f.root, filepath.FromSlash(p)))
	}
	return err
}

// importPath returns the import path of the package directory dir: given,
// or its path below the enclosing go.mod's module path.
func importPath(dir, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		if mod, ok := modulePath(filepath.Join(d, "go.mod")); ok {
			rel, err := filepath.Rel(d, abs)
			if err != nil {
				return "", err
			}
			return mod + "/" + filepath.ToSlash(rel), nil
		}
		if d == filepath.Dir(d) {
			return "", fmt.Errorf("new: %s is in no Go module: create a go.mod or give --import", dir)
		}
	}
}

// modulePath reads the module line of a go.mod.
func modulePath(gomod string) (string, bool) {
	fh, err := os.Open(gomod)
	if err != nil {
		return "", false
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), true
		}
	}
	return "", false
}
