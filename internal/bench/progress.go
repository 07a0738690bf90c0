package bench

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"
)

// progress reports Run's measurements as they finish: a line each
// (Options.Progress), or a bar of implementations done out of the total
// (Options.Bar), or nothing. A nil *progress reports nothing.
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func newProgress(opts Options, cases []Case) *progress {
	if opts.Progress == nil {
		return nil
	}
	p := &progress{w: opts.Progress}
	if opts.Bar {
		total := 0
		for _, c := range cases {
			total += len(c.Impls)
		}
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(20), progressbar.OptionClearOnFinish(), progressbar.OptionSetDescription("bench"))
	}
	return p
}

// start names the implementation being measured on the bar.
func (p *progress) start(caseName, peer string) {
	if p != nil && p.bar != nil {
		p.bar.Describe(fmt.Sprintf("bench %s/%s", caseName, peer))
	}
}

// done reports a finished implementation: the bar advances, or a line.
func (p *progress) done(r Result, count int) {
	switch {
	case p == nil:
	case p.bar != nil:
		_ = p.bar.Add(1)
	default:
		fmt.Fprintf(p.w, "bench: %s/%s: %.1f ns/task (median of %d)\n", r.Case, r.Peer, r.NsPerTask, count)
	}
}

// finish clears the bar.
func (p *progress) finish() {
	if p != nil && p.bar != nil {
		_ = p.bar.Finish()
	}
}
