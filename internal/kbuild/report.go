package kbuild

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/gmkernel/gmk/internal/errw"
)

// WriteReport prints the build report ([G4], [U4]): one aligned table row
// per handler (its probe: registers, spills, stack frame, shared memory,
// instructions, the inline decision), one per function of the kernel image
// per architecture, the strip-trace comparison when there is one, and the
// warnings.
func (r *Result) WriteReport(w io.Writer) error {
	ew := errw.New(w)
	r.writeHandlers(ew)
	if len(r.Kernel) > 0 {
		ew.Printf("\nkernel image (%s)\n", r.Options.Kernel)
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ARCH\tFUNCTION\tKIND\tREGS\tSPILL ST\tSPILL LD\tSTACK\tSMEM\tINSTR")
		for _, s := range r.Kernel {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", s.Arch, baseName(s.Name), r.kind(s),
				num(s.Registers), s.SpillStores, s.SpillLoads, s.StackFrame, s.SharedMem, num(s.Instructions))
		}
		tw.Flush()
	}
	if r.Options.StripTrace && len(r.Traced) > 0 {
		r.writeStripTrace(ew)
	}
	for _, wn := range r.Warnings {
		ew.Printf("warning: %s\n", wn)
	}
	return ew.Err
}

func (r *Result) firstArch() string {
	if len(r.Options.Archs) > 0 {
		return r.Options.Archs[0]
	}
	return ""
}

func (r *Result) writeHandlers(ew *errw.Writer) {
	strip := r.Options.StripTrace
	ew.Printf("CUDA %s\n\nhandlers (each inlined into a probe entry of its own, %s; __noinline__ above %d registers)\n",
		r.Toolkit, r.firstArch(), r.Options.InlineRegLimit)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	head := "TYPE\tMODULE\tNAME\tFN\tGRANULARITY\tSHARED\tREGS\tSPILL ST\tSPILL LD\tSTACK\tSMEM\tINSTR\tATTR"
	if strip {
		head += "\tREGS TRACED\tINSTR TRACED"
	}
	fmt.Fprintln(tw, head)
	ninline := 0
	hs := make([]Handler, len(r.Handlers))
	for i, h := range r.Handlers {
		hs[i] = h.Handler
		if h.Inline {
			ninline++
		}
		p := h.Probe
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%s", h.Type, h.Module, h.Name, h.Fn,
			h.Granularity, h.Shared, num(p.Registers), p.SpillStores, p.SpillLoads, p.StackFrame, p.SharedMem,
			num(p.Instructions), h.Attr())
		switch {
		case strip && h.Traced != nil:
			fmt.Fprintf(tw, "\t%s\t%s", num(h.Traced.Registers), num(h.Traced.Instructions))
		case strip:
			fmt.Fprint(tw, "\t-\t-")
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	ew.Printf("%d handlers: %d inlined, %d __noinline__; worker shared memory GMK_MAX_SHARED = %d bytes\n",
		len(r.Handlers), ninline, len(r.Handlers)-ninline, MaxSharedOf(hs))
}

// writeStripTrace compares the entries built with and without tracing.
func (r *Result) writeStripTrace(ew *errw.Writer) {
	ew.Printf("\nstrip-trace (%s, entries): traced → stripped\n", r.firstArch())
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FUNCTION\tREGS\tINSTR")
	for _, t := range r.Traced {
		if !t.Entry {
			continue
		}
		for _, s := range r.Kernel {
			if s.Name == t.Name && s.Arch == t.Arch {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, delta(t.Registers, s.Registers), delta(t.Instructions, s.Instructions))
			}
		}
	}
	tw.Flush()
}

// kind tells an entry, a handler kept __noinline__, and another function.
func (r *Result) kind(s Stats) string {
	if s.Entry {
		return "entry"
	}
	name := baseName(s.Name)
	for _, h := range r.Handlers {
		if h.Fn == name {
			return "handler"
		}
	}
	return "function"
}

func num(n int) string {
	if n < 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func delta(from, to int) string {
	if from < 0 || to < 0 {
		return "-"
	}
	return fmt.Sprintf("%d → %d (%+d)", from, to, to-from)
}
