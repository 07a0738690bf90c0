package admin

import (
	"strconv"
	"time"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/alloc"
	"github.com/gmkernel/gmk/kernel/channel"
	"github.com/gmkernel/gmk/modules/cli"
)

// The views turn the kernels' inspection calls into the API's rows. Each
// reads published state only (kernel/inspect.go), so building a snapshot
// never stalls a kernel.

// typeName names typ: the kernel's BootConfig.Types, else the registry.
func (s *Server) typeName(k *kernel.Kernel, typ uint32) string {
	if typ == kernel.AnyType {
		return ""
	}
	if n := k.TypeName(typ); n != "" {
		return n
	}
	if t, ok := s.cfg.Types.Lookup(typ); ok {
		return t.Name
	}
	return ""
}

func (s *Server) typeRefs(k *kernel.Kernel, ids []uint32) []TypeRef {
	out := make([]TypeRef, 0, len(ids))
	for _, id := range ids {
		out = append(out, TypeRef{ID: id, Name: s.typeName(k, id)})
	}
	return out
}

func (s *Server) kernelStats(k Kernel) KernelStats {
	id, st := k.K.ID(), k.K.Stats()
	ks := KernelStats{Kernel: id, Tick: k.K.Tick(),
		Tasks: Tasks{Submitted: st.Submitted, Emitted: st.Emitted, Created: st.Created(), Completed: st.Completed,
			Errored: st.Errored, Dropped: st.Dropped, Retried: st.Retried, Yielded: st.Yielded, Panics: st.Panics,
			InFlight: st.InFlight()},
		Rates: TaskRates{Created: s.samples.rate(keyTask(id, "created")), Completed: s.samples.rate(keyTask(id, "completed")),
			Errored: s.samples.rate(keyTask(id, "errored")), Dropped: s.samples.rate(keyTask(id, "dropped")),
			Retried: s.samples.rate(keyTask(id, "retried"))},
		SharedQueue: k.K.SharedDepth(), Workers: k.K.Config().Workers, Parked: k.K.Parked(),
		LivePayloads: k.K.LivePayloads(), TraceLost: k.K.TraceLost()}
	for _, w := range s.workers(k) {
		ks.LocalQueues += w.LQ
		ks.Events += w.EVQ
		ks.Pending += w.Pending
		if w.State == WorkerStalled {
			ks.Stalled++
		}
	}
	for t := range k.K.Config().Tenants {
		a := k.K.AllocStats(t)
		ks.Memory = append(ks.Memory, Memory{Tenant: t, Slab: allocView(a.Slab), Block: allocView(a.Block), Bump: allocView(a.Bump)})
	}
	return ks
}

func allocView(a alloc.KindStats) Alloc {
	return Alloc{Total: a.Total, Free: a.Free, InUse: a.Total - min(a.Free, a.Total), HighWater: a.HighWater,
		Allocs: a.Allocs, Frees: a.Frees, Fails: a.Fails, Misuse: a.Misuse}
}

func (s *Server) workers(k Kernel) []WorkerStats {
	id := k.K.ID()
	var out []WorkerStats
	for _, w := range k.K.Workers() {
		ws := WorkerStats{Kernel: id, ID: w.ID, State: WorkerIdle, Subs: w.Subs, Pending: w.Pending,
			LQ: w.LQ, LQHigh: w.LQHigh, EVQ: w.EVQ, Wakes: w.Wakes}
		switch {
		case s.samples.isStalled(id, w.ID) && w.Pending > 0:
			ws.State = WorkerStalled
		case w.Pending > 0:
			ws.State = WorkerActive
		}
		out = append(out, ws)
	}
	return out
}

func (s *Server) types(k Kernel) []TypeStats {
	id := k.K.ID()
	var out []TypeStats
	for _, m := range k.K.Modules() {
		for _, t := range m.Types {
			st := k.K.TypeStats(t)
			out = append(out, TypeStats{Kernel: id, ID: t, Name: s.typeName(k.K, t), Module: m.Name,
				OK: st.OK, Fail: st.Fail, Retry: st.Retry, Poisoned: k.K.Poisoned(t),
				Rate: s.samples.rate(keyType(id, t, "ok")), FailRate: s.samples.rate(keyType(id, t, "fail"))})
		}
	}
	return out
}

func (s *Server) channels(k Kernel) []Channel {
	id := k.K.ID()
	producers := map[string][]string{}
	for _, m := range k.K.Modules() {
		for _, d := range m.Channels {
			if d.Dir == kernel.Produce {
				producers[d.Name] = append(producers[d.Name], m.Name)
			}
		}
	}
	var out []Channel
	for _, c := range k.K.Channels() {
		sp, st := c.Spec, c.Stats
		ch := Channel{Kernel: id, Name: sp.Name, ID: st.ID, Type: sp.Type, TypeName: s.typeName(k.K, sp.Type),
			Mode: sp.Mode.String(), Guarantee: sp.Guarantee.String(), Slots: sp.Slots, Replay: sp.Replay,
			Subscribers: st.Subscribers, Depth: st.Depth, Emits: st.Emits, Full: st.Full, Drops: st.Drops,
			ReplayOvfs: st.ReplayOvfs, Closed: c.Closed, Suspended: c.Suspended, Producers: producers[sp.Name],
			EmitRate: s.samples.rate(keyChan(id, sp.Name, "emits")), FullRate: s.samples.rate(keyChan(id, sp.Name, "full")),
			DropRate: s.samples.rate(keyChan(id, sp.Name, "drops"))}
		for _, sub := range c.Subs {
			ch.Subs = append(ch.Subs, Sub{Index: sub.Index, Module: sub.Module, Home: sub.Home, Depth: sub.Depth,
				Paused: sub.Paused, Degraded: sub.Degraded, OnError: sub.Index == channel.ErrorSub})
		}
		out = append(out, ch)
	}
	return out
}

var dirNames = [...]string{kernel.Produce: "produce", kernel.Consume: "consume"}

func (s *Server) modules(k Kernel) []Module {
	id := k.K.ID()
	var out []Module
	for _, m := range k.K.Modules() {
		mod := Module{Kernel: id, Name: m.Name, Version: m.Version, State: ModuleRunning, Types: s.typeRefs(k.K, m.Types),
			CatchAll: m.CatchAll, Poisoned: s.typeRefs(k.K, m.Poisoned), OK: m.Stats.OK, Fail: m.Stats.Fail, Retry: m.Stats.Retry}
		for _, t := range m.Types {
			mod.Rate += s.samples.rate(keyType(id, t, "ok"))
			mod.FailRate += s.samples.rate(keyType(id, t, "fail"))
		}
		for _, d := range m.Channels {
			mod.Channels = append(mod.Channels, ModuleChan{Name: d.Name, Dir: dirNames[d.Dir]})
		}
		mod.Actor = k.Node != nil && isTreeModule(k, m.Name)
		switch {
		case mod.Actor && !k.Node.Running(m.Name):
			mod.State = ModuleStopped
		case len(m.Poisoned) > 0:
			mod.State = ModulePoisoned
		case m.Held:
			mod.State = ModuleHeld
		}
		out = append(out, mod)
	}
	return out
}

// isTreeModule reports whether name is a module of the node's supervision
// tree (not one booted beside it).
func isTreeModule(k Kernel, name string) bool {
	for _, ms := range k.Node.Tree().Specs {
		if ms.Name == name {
			return true
		}
	}
	return false
}

func (s *Server) failures(k Kernel, after uint64, kinds []cli.Kind) []Failure {
	if k.CLI == nil {
		return nil
	}
	var out []Failure
	for _, e := range k.CLI.Recent(after, kinds...) {
		out = append(out, Failure{Kernel: k.K.ID(), Seq: e.Seq, Kind: e.Kind.String(), Channel: e.Channel, Type: e.Type,
			TypeName: s.typeName(k.K, e.Type), Code: int32(e.Code), CodeName: codeName(e), Tenant: e.Tenant,
			Meta0: e.Meta0, Meta1: e.Meta1, PayloadLen: e.PayloadLen, Preview: e.Preview(), Tick: e.Tick, TimeNS: e.Time})
	}
	return out
}

func codeName(e cli.Entry) string {
	if e.Kind == cli.KindTap {
		return ""
	}
	return e.Code.String()
}

// snapshot is the whole node.
func (s *Server) snapshot() Snapshot {
	snap := Snapshot{Time: time.Now().UTC(), Node: s.nodeInfo()}
	for _, k := range s.cfg.Kernels {
		snap.Kernels = append(snap.Kernels, s.kernelStats(k))
		snap.Workers = append(snap.Workers, s.workers(k)...)
		snap.Channels = append(snap.Channels, s.channels(k)...)
		snap.Modules = append(snap.Modules, s.modules(k)...)
		snap.Types = append(snap.Types, s.types(k)...)
	}
	snap.Cluster = s.clusterInfo(snap.Channels)
	return snap
}

// parseKinds reads kind=error,dropped,tap.
func parseKinds(vals []string) ([]cli.Kind, error) {
	var ks []cli.Kind
	for _, v := range vals {
		switch v {
		case "error", "errors":
			ks = append(ks, cli.KindError)
		case "dropped", "drops":
			ks = append(ks, cli.KindDropped)
		case "tap", "taps", "tasks":
			ks = append(ks, cli.KindTap)
		case "":
		default:
			return nil, badRequest("unknown kind %q (error, dropped, tap)", v)
		}
	}
	return ks, nil
}

func parseUint(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, badRequest("bad number %q", s)
	}
	return v, nil
}
