package link

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gmkernel/gmk/kernel"
)

// Side is what one kernel declares: its identity and its modules' channel
// declarations ([C11]) — what two kernels exchange at boot ([K1]).
type Side struct {
	Kernel  string
	Modules []Decls
}

// Decls are one module's channel declarations.
type Decls struct {
	Module   string
	Channels []kernel.ChanDecl
}

// Route finds the bridge channels of two kernels by locality ([B1], [K1]):
// a channel produced on one kernel and consumed on the other is a bridge
// channel from the first to the second; a channel declared on one kernel
// only, or produced and consumed on the same one, stays local. Each kernel
// checks its own declarations at Boot; Route checks them across the two and
// fails, naming both sides, when they disagree on type, mode, guarantee or
// sizes (CHAN_TYPE_MISMATCH for types), when a P2P channel has a consumer on
// each, or when a channel is produced and consumed on both (a loop). System
// channels (sys.*) are each kernel's own and never routed. The result is
// sorted by channel name.
func Route(a, b Side) ([]Chan, error) {
	ua, ub := usesOf(a), usesOf(b)
	var out []Chan
	for name, x := range ua {
		y, ok := ub[name]
		if !ok || strings.HasPrefix(name, "sys.") {
			continue
		}
		if err := agree(name, x, y); err != nil {
			return nil, err
		}
		spec := x.spec(name, y)
		switch {
		case x.prod != "" && y.cons != "" && y.prod != "" && x.cons != "":
			return nil, fmt.Errorf("%w: channel %s is produced and consumed on both %s (modules %s, %s) and %s (modules %s, %s): a bridge channel goes one way",
				kernel.ErrDecl, name, a.Kernel, x.prod, x.cons, b.Kernel, y.prod, y.cons)
		case spec.Mode == kernel.P2P && x.cons != "" && y.cons != "":
			return nil, fmt.Errorf("%w: P2P channel %s has a consumer on %s (module %s) and on %s (module %s) (CHAN_ALREADY_BOUND)",
				kernel.ErrDecl, name, a.Kernel, x.cons, b.Kernel, y.cons)
		case x.prod != "" && y.cons != "":
			out = append(out, Chan{Spec: spec, From: a.Kernel, To: b.Kernel})
		case y.prod != "" && x.cons != "":
			out = append(out, Chan{Spec: spec, From: b.Kernel, To: a.Kernel})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Name < out[j].Spec.Name })
	return out, nil
}

// use is how one kernel declares one channel: the first declaration (the
// kernel itself checked that the others agree with it), the largest sizes,
// and the first producing and consuming modules.
type use struct {
	kern          string
	mod           string // module of first
	first         kernel.ChanDecl
	slots, replay int
	prod, cons    string
}

func usesOf(s Side) map[string]*use {
	m := map[string]*use{}
	for _, md := range s.Modules {
		for _, d := range md.Channels {
			u := m[d.Name]
			if u == nil {
				u = &use{kern: s.Kernel, mod: md.Module, first: d}
				m[d.Name] = u
			}
			u.slots, u.replay = max(u.slots, d.Slots), max(u.replay, d.Replay)
			switch {
			case d.Dir == kernel.Produce && u.prod == "":
				u.prod = md.Module
			case d.Dir == kernel.Consume && !d.OnError && u.cons == "":
				u.cons = md.Module
			}
		}
	}
	return m
}

// agree reports where two kernels' declarations of channel name differ.
func agree(name string, x, y *use) error {
	dx, dy := x.first, y.first
	side := func(u *use) string { return fmt.Sprintf("%s module %s", u.kern, u.mod) }
	switch {
	case dx.Type != dy.Type:
		return fmt.Errorf("%w: bridge channel %s: type mismatch: %s declares type %d, %s declares type %d (CHAN_TYPE_MISMATCH)",
			kernel.ErrDecl, name, side(x), dx.Type, side(y), dy.Type)
	case dx.Mode != dy.Mode || dx.Guarantee != dy.Guarantee:
		return fmt.Errorf("%w: bridge channel %s: %s declares %s/%s, %s declares %s/%s",
			kernel.ErrDecl, name, side(x), dx.Mode, dx.Guarantee, side(y), dy.Mode, dy.Guarantee)
	case x.slots != 0 && y.slots != 0 && x.slots != y.slots, x.replay != 0 && y.replay != 0 && x.replay != y.replay:
		return fmt.Errorf("%w: bridge channel %s: %s declares slots=%d replay=%d, %s declares slots=%d replay=%d",
			kernel.ErrDecl, name, side(x), x.slots, x.replay, side(y), y.slots, y.replay)
	}
	return nil
}

// spec is the channel spec both kernels open.
func (x *use) spec(name string, y *use) kernel.ChanSpec {
	d := x.first
	return kernel.ChanSpec{Name: name, Type: d.Type, Mode: d.Mode, Guarantee: d.Guarantee,
		Slots: max(x.slots, y.slots), Replay: max(x.replay, y.replay)}
}
