package config

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/channel"
)

// Print writes the tree in a fixed, indented text form: kernels, types,
// channels, then the supervision tree with each supervisor's strategy,
// intensity (max_restarts/within) and backoff, and each child's restart type
// and channels. The output depends only on the tree.
func (t *Tree) Print(w io.Writer) {
	pr := &printer{w: w, t: t}
	for _, k := range t.Kernels {
		pr.line(0, "kernel %s role=%s workers=%s tenants=%s arena=%s max_types=%s policy=%s trace=%s poison=%s",
			k.ID, orDefault(k.Role), num(k.Workers), num(k.Tenants), size(k.ArenaSize), num(k.MaxTypes),
			policyNames[k.Policy], level(k), poison(k.Poison))
	}
	for _, ty := range t.Types {
		pr.line(0, "type %d %s max_yields=%s retry_limit=%s%s%s", ty.ID, ty.Name, num(ty.MaxYields),
			num(ty.RetryLimit), onFlag(ty.Lossless, " lossless"), onFlag(ty.Deterministic, " deterministic"))
	}
	for _, c := range t.Channels {
		pr.line(0, "channel %s type=%s %s %s slots=%s replay=%d", c.Name, pr.typeName(c.Type),
			modeNames[c.Mode], guaranteeNames[c.Guarantee], num(c.Slots), c.Replay)
	}
	if t.Root != nil {
		pr.supervisor(0, t.Root, "")
	}
}

type printer struct {
	w io.Writer
	t *Tree
}

func (pr *printer) line(depth int, format string, args ...any) {
	fmt.Fprintf(pr.w, "%s"+format+"\n", append([]any{strings.Repeat("  ", depth)}, args...)...)
}

func (pr *printer) supervisor(depth int, s *Supervisor, restart string) {
	pr.line(depth, "supervisor %s%s %s intensity=%d/%v backoff=%s", s.Name, restart, s.Strategy,
		s.MaxRestarts, s.Within, backoff(s.Backoff))
	for _, c := range s.Children {
		r := " (" + c.Restart.String() + ")"
		if c.Supervisor != nil {
			pr.supervisor(depth+1, c.Supervisor, r)
			continue
		}
		m := c.Module
		pr.line(depth+1, "module %s%s driver=%s%s", m.Name, r, m.Driver, params(m.Params))
		for _, ref := range m.Channels {
			pr.line(depth+2, "%s %s type=%s%s%s", dirNames[ref.Dir], ref.Channel, pr.typeName(ref.Type),
				onFlag(ref.Pin, " worker="+strconv.Itoa(ref.Worker)), onFlag(ref.OnError, " on_error"))
		}
	}
}

// typeName names a type by its declaration, else by id.
func (pr *printer) typeName(id uint32) string {
	if id == channel.AnyType {
		return "any"
	}
	for _, ty := range pr.t.Types {
		if ty.ID == id {
			return ty.Name
		}
	}
	return strconv.FormatUint(uint64(id), 10)
}

func backoff(b Backoff) string {
	if b == (Backoff{}) {
		return "none"
	}
	return fmt.Sprintf("%v..%v random_factor=%v reset_after=%v", b.Min, b.Max, b.RandomFactor, b.ResetAfter)
}

// params prints the parameter names, sorted (the values are the module's).
func params(p Params) string {
	if len(p) == 0 {
		return ""
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, p[k])
	}
	return b.String()
}

func num(x int) string {
	if x == 0 {
		return "default"
	}
	return strconv.Itoa(x)
}

func orDefault(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

func size(x int) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if x != 0 && x%(1<<u.shift) == 0 {
			return strconv.Itoa(x>>u.shift) + u.name
		}
	}
	return num(x)
}

func level(k Kernel) string {
	if k.TraceLevel == 0 {
		return "default"
	}
	return levelNames[k.TraceLevel]
}

func poison(p kernel.PoisonPolicy) string {
	return num(p.Failures) + "/" + num(int(p.Window))
}

func onFlag(on bool, s string) string {
	if on {
		return s
	}
	return ""
}
