package kbuild

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// finish writes the outputs, or with Check compares them.
func (b *builder) finish() error {
	res, opt := b.res, b.opt
	if opt.ReportOnly {
		return nil
	}
	if opt.Check {
		for _, o := range res.Outputs {
			have, err := os.ReadFile(o.Path)
			if err != nil || !bytes.Equal(have, o.Data) {
				res.Stale = append(res.Stale, o.Path+staleWhy(have, err, res.Toolkit))
			}
		}
		if len(res.Stale) > 0 {
			return fmt.Errorf("kbuild: %w (run make kernels and commit): %s", ErrStale, strings.Join(res.Stale, "; "))
		}
		return nil
	}
	for _, o := range res.Outputs {
		if err := os.MkdirAll(filepath.Dir(o.Path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.Path, o.Data, 0o644); err != nil {
			return err
		}
		res.Written = append(res.Written, o.Path)
	}
	return nil
}

var rePTXRelease = regexp.MustCompile(`Cuda compilation tools, release ([0-9.]+, V[0-9.]+)`)

// staleWhy explains a difference that is not the sources' doing.
func staleWhy(have []byte, err error, toolkit string) string {
	if err != nil {
		return " (missing)"
	}
	if m := rePTXRelease.FindSubmatch(have); m != nil && string(m[1]) != toolkit {
		return fmt.Sprintf(" (built with CUDA %s, this machine has %s)", m[1], toolkit)
	}
	return ""
}

// copyTree copies the regular files under src to dst, leaving out gen/ (the
// build writes it) and hidden entries.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel != "." && (strings.HasPrefix(d.Name(), ".") || rel == "gen") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			return err // a link to a directory or a device: nothing to copy
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}
