package kernel

import (
	"slices"

	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/channel"
)

// The inspection calls below are the control plane's read-only view of a
// running kernel ([O1], [U5]: gmk ps, chan ls, mod ls, top). Each reads
// published state only — atomics, the channel registry under its lock, the
// copy-on-write subscription lists — so it never stalls a worker, may be
// called from any goroutine at any time (also after Halt), and allocates its
// result. Worker counters lag as Stats documents.

// SubInfo describes one subscription of a channel.
type SubInfo struct {
	Index    int    // subscriber index carried by deliveries (channel.ErrorSub for the error handler)
	Module   string // the subscribing module
	Home     int    // the worker that drains it
	Depth    int    // deliveries queued
	Paused   bool   // draining paused (ChanPause)
	Degraded bool   // a lossless subscriber degraded to lossy ([C7])
}

// ChanInfo describes an open channel: its spec (sizes after defaults), its
// counters, and its subscriptions.
type ChanInfo struct {
	Spec      ChanSpec
	Stats     ChanStats
	Closed    bool
	Suspended bool
	Subs      []SubInfo
}

// Channels returns every channel of the kernel, system channels included, in
// id order.
func (k *Kernel) Channels() []ChanInfo {
	all := k.chans.All()
	out := make([]ChanInfo, 0, len(all))
	for _, c := range all {
		st, err := k.ChanStats(c.ID())
		if err != nil {
			continue
		}
		ci := ChanInfo{Spec: c.Spec(), Stats: st, Closed: c.Closed(), Suspended: c.Suspended()}
		for _, s := range c.Subs() {
			ci.Subs = append(ci.Subs, k.subInfo(s))
		}
		if s := c.Sub(channel.ErrorSub); s != nil {
			ci.Subs = append(ci.Subs, k.subInfo(s))
		}
		out = append(out, ci)
	}
	return out
}

func (k *Kernel) subInfo(s *channel.Sub) SubInfo {
	mod := ""
	if int(s.Handler) >= 0 && int(s.Handler) < len(k.handlers) {
		mod = k.modName(k.handlers[s.Handler].mod)
	}
	return SubInfo{Index: s.Index(), Module: mod, Home: s.Home, Depth: s.Len(), Paused: s.Paused(), Degraded: s.Degraded()}
}

// ModuleInfo describes a registered module ([M1], [F3]).
type ModuleInfo struct {
	Name     string
	Version  string
	Types    []uint32   // the task types it handles directly, ascending
	CatchAll bool       // it registered a catch-all (AnyType) handler
	Poisoned []uint32   // those of Types that are poisoned now
	Held     bool       // its handlers are held (HoldModule, a restart in progress)
	Stats    TypeStats  // OK, Fail and Retry summed over Types
	Channels []ChanDecl // its channel declarations
}

// Modules returns the kernel's modules in boot order (the kernel itself,
// module 0, is left out).
func (k *Kernel) Modules() []ModuleInfo {
	out := make([]ModuleInfo, 0, len(k.modules)-1)
	for _, ms := range k.modules[1:] {
		mi := ModuleInfo{Name: ms.m.Name, Version: ms.m.Version, Held: ms.holds.Load() > 0,
			Channels: slices.Clone(ms.m.Channels)}
		for _, h := range k.handlers {
			switch {
			case h.mod != ms.idx:
			case h.typ == AnyType:
				mi.CatchAll = true
			default:
				mi.Types = append(mi.Types, h.typ)
			}
		}
		slices.Sort(mi.Types)
		mi.Types = slices.Compact(mi.Types)
		for _, t := range mi.Types {
			if k.Poisoned(t) {
				mi.Poisoned = append(mi.Poisoned, t)
			}
			s := k.TypeStats(t)
			mi.Stats.OK += s.OK
			mi.Stats.Fail += s.Fail
			mi.Stats.Retry += s.Retry
		}
		out = append(out, mi)
	}
	return out
}

// TypeModule returns the module that handles typ directly, and false when
// no module does.
func (k *Kernel) TypeModule(typ uint32) (string, bool) {
	if int(typ) >= len(k.types) || k.types[typ].slot < 0 {
		return "", false
	}
	return k.modName(k.handlers[k.types[typ].slot].mod), true
}

// TypeName returns the name BootConfig.Types gives typ, or "".
func (k *Kernel) TypeName(typ uint32) string {
	if int(typ) >= len(k.types) {
		return ""
	}
	return k.types[typ].info.Name
}

// TypeByName returns the id of the type BootConfig.Types names name.
func (k *Kernel) TypeByName(name string) (uint32, bool) {
	for _, ti := range k.cfg.Types {
		if ti.Name == name && name != "" {
			return ti.ID, true
		}
	}
	return 0, false
}

// WorkerInfo describes one worker ([S6]). LQ and EVQ are published when the
// worker parks (a busy worker's are older); Pending is what is waiting for
// the worker now: its homed subscriptions' queues and its held-module tasks.
type WorkerInfo struct {
	ID      int
	Subs    int    // subscriptions homed here
	Pending int    // deliveries queued on those subscriptions + tasks of held modules
	LQ      int64  // local queue depth at the last park
	LQHigh  int64  // highest local queue depth seen ([O1] high watermark)
	EVQ     int64  // retry and timer events queued, at the last park
	Wakes   uint64 // times the worker left a park
}

// Workers returns the workers' state, by worker id.
func (k *Kernel) Workers() []WorkerInfo {
	out := make([]WorkerInfo, len(k.workers))
	for i, w := range k.workers {
		subs := *w.subs.Load()
		wi := WorkerInfo{ID: w.id, Subs: len(subs), LQ: w.lqDepth.Load(), LQHigh: w.lqHigh.Load(),
			EVQ: w.evqDepth.Load(), Wakes: w.wakes.Load(), Pending: int(w.holdN.Load())}
		for _, s := range subs {
			wi.Pending += s.Len()
		}
		out[i] = wi
	}
	return out
}

// Parked returns how many workers are parked now.
func (k *Kernel) Parked() int { return k.core.Idle.Parked() }

// SharedDepth returns the tasks in the shared ready queues (RQ or GRQ and
// the yield overflow).
func (k *Kernel) SharedDepth() int { return k.core.SharedLen() }

// AllocStats returns tenant's allocator statistics ([A3], [O1]); a tenant
// out of range gives the zero value.
func (k *Kernel) AllocStats(tenant int) alloc.Stats {
	if tenant < 0 || tenant >= k.cfg.Tenants {
		return alloc.Stats{}
	}
	return k.arena.Stats(tenant)
}

// Tick returns the kernel's current wall-clock tick (BootConfig.Tick).
func (k *Kernel) Tick() uint64 { return uint64(k.clock() / int64(k.cfg.Tick)) }
