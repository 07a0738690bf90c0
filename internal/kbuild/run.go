package kbuild

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
)

// Run builds with opt as the commands do (cmd/gmk-kbuild, `gmk build
// --kernel`): progress on stderr unless quiet, then the report, the files
// written and, for a check, the verdict on stdout. It returns Build's error.
func Run(ctx context.Context, opt Options, quiet bool, stdout, stderr io.Writer) error {
	var p *progress
	if !quiet {
		p = &progress{w: stderr}
		opt.Progress = p.step
	}
	res, err := Build(ctx, opt)
	p.done()
	if res != nil {
		if werr := res.WriteReport(stdout); werr != nil && err == nil {
			err = werr
		}
		for _, w := range res.Written {
			fmt.Fprintf(stdout, "wrote %s\n", w)
		}
		if opt.Check && err == nil {
			fmt.Fprintln(stdout, "check: the dispatch header and the PTX are up to date")
		}
	}
	return err
}

// progress shows the build's steps: a bar on a terminal, one line per step
// elsewhere (CI logs).
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *progress) step(step, total int, what string) {
	if p.bar == nil && isTerminal(p.w) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(20), progressbar.OptionClearOnFinish())
	}
	if p.bar == nil {
		fmt.Fprintf(p.w, "[%d/%d] %s\n", step, total, what)
		return
	}
	p.bar.Describe(what)
	p.bar.Set(step - 1)
}

func (p *progress) done() {
	if p != nil && p.bar != nil {
		p.bar.Finish()
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
