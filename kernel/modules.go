package kernel

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.uber.org/zap"

	"github.com/gmkernel/gmk/kernel/channel"
)

// register fills the dispatch table and validates declarations ([M1], [M2],
// [C11]). Module index 0 is the kernel itself; modules are 1..n in boot order.
func (k *Kernel) register(mods []Module) error {
	cfg := k.cfg
	k.types = make([]typeEntry, cfg.MaxTypes)
	infos := map[uint32]TypeInfo{}
	for _, ti := range cfg.Types {
		infos[ti.ID] = ti
	}
	for i := range k.types {
		te := &k.types[i]
		te.slot, te.maxYields, te.budget = -1, uint16(cfg.MaxYields), int64(cfg.Budget)
		if ti, ok := infos[uint32(i)]; ok {
			te.info = ti
			if ti.MaxYields > 0 {
				te.maxYields = uint16(min(ti.MaxYields, 1<<15))
			}
			if ti.BudgetNS > 0 {
				te.budget = ti.BudgetNS
			}
		}
	}
	k.modules = []*modState{{m: Module{Name: "kernel"}, idx: 0}}
	names := map[string]bool{}
	for i, m := range mods {
		if m.Name == "" || names[m.Name] {
			return fmt.Errorf("%w: module %d: empty or duplicate name %q", ErrConfig, i, m.Name)
		}
		names[m.Name] = true
		idx := int32(len(k.modules))
		k.modules = append(k.modules, &modState{m: m, idx: idx})
		if err := k.registerHandlers(m, idx); err != nil {
			return err
		}
	}
	return k.checkDecls()
}

func (k *Kernel) registerHandlers(m Module, idx int32) error {
	seen := map[uint32]bool{}
	for _, h := range m.Handlers {
		switch {
		case h.Fn == nil:
			return fmt.Errorf("%w: module %s: handler for type %d has no function", ErrConfig, m.Name, h.Type)
		case h.Type == AnyType:
			if seen[h.Type] {
				return fmt.Errorf("%w: module %s registers two catch-all handlers", ErrConfig, m.Name)
			}
			seen[h.Type] = true
			k.handlers = append(k.handlers, handlerEntry{fn: h.Fn, mod: idx, typ: h.Type, det: h.Flags&DetHandler != 0})
			continue
		case int(h.Type) >= k.cfg.MaxTypes:
			return fmt.Errorf("%w: module %s: handler type %d not below max types %d", ErrConfig, m.Name, h.Type, k.cfg.MaxTypes)
		case seen[h.Type]:
			return fmt.Errorf("%w: module %s registers type %d twice", ErrConfig, m.Name, h.Type)
		case k.types[h.Type].info.Deterministic && h.Flags&DetHandler == 0:
			return fmt.Errorf("%w: module %s: type %d is deterministic, its handler must be registered DETERMINISTIC ([D1]): %w",
				ErrConfig, m.Name, h.Type, ErrNotDeterministic)
		}
		seen[h.Type] = true
		slot := int32(len(k.handlers))
		k.handlers = append(k.handlers, handlerEntry{fn: h.Fn, mod: idx, typ: h.Type, det: h.Flags&DetHandler != 0})
		if k.types[h.Type].slot < 0 {
			k.types[h.Type].slot = slot // the first module in boot order takes direct dispatch
		}
	}
	return nil
}

// ErrDecl reports an inconsistent channel declaration at boot ([C11]).
var ErrDecl = errors.New("gmk: channel declaration")

type declRef struct {
	mod string
	d   ChanDecl
}

// checkDecls validates every channel's declarations together ([C11]).
func (k *Kernel) checkDecls() error {
	by := map[string][]declRef{}
	var names []string
	for _, ms := range k.modules[1:] {
		for _, d := range ms.m.Channels {
			if err := channel.ValidName(d.Name); err != nil {
				return fmt.Errorf("%w: module %s: %w", ErrDecl, ms.m.Name, err)
			}
			if by[d.Name] == nil {
				names = append(names, d.Name)
			}
			by[d.Name] = append(by[d.Name], declRef{ms.m.Name, d})
		}
	}
	sort.Strings(names)
	k.declSize = map[string][2]int{}
	for _, n := range names {
		if err := k.checkChannel(n, by[n]); err != nil {
			return err
		}
		for _, r := range by[n] { // the sizes some declaration gave (they agree)
			sz := k.declSize[n]
			sz[0], sz[1] = max(sz[0], r.d.Slots), max(sz[1], r.d.Replay)
			k.declSize[n] = sz
		}
	}
	return nil
}

func (k *Kernel) checkChannel(name string, ds []declRef) error {
	first := ds[0]
	consumers := 0
	var consumerMods []string
	for _, r := range ds {
		d := r.d
		if d.Type != first.d.Type {
			return fmt.Errorf("%w: channel %s: type mismatch: module %s declares type %d, module %s declares type %d (CHAN_TYPE_MISMATCH)",
				ErrDecl, name, first.mod, first.d.Type, r.mod, d.Type)
		}
		if d.Slots != 0 && first.d.Slots != 0 && d.Slots != first.d.Slots || d.Replay != first.d.Replay && d.Replay != 0 && first.d.Replay != 0 {
			return fmt.Errorf("%w: channel %s: module %s declares slots=%d replay=%d, module %s slots=%d replay=%d",
				ErrDecl, name, first.mod, first.d.Slots, first.d.Replay, r.mod, d.Slots, d.Replay)
		}
		if d.Mode != first.d.Mode || d.Guarantee != first.d.Guarantee {
			return fmt.Errorf("%w: channel %s: module %s declares %s/%s, module %s declares %s/%s",
				ErrDecl, name, first.mod, first.d.Mode, first.d.Guarantee, r.mod, d.Mode, d.Guarantee)
		}
		if d.Dir == Consume && !d.OnError {
			consumers++
			consumerMods = append(consumerMods, r.mod)
			if k.handlerSlot(k.modIndex(r.mod), d.Type) < 0 {
				return fmt.Errorf("%w: channel %s: module %s consumes type %d but has no handler for it", ErrDecl, name, r.mod, d.Type)
			}
		}
		if int(d.Type) < len(k.types) && k.types[d.Type].info.Lossless && d.Guarantee == Lossy {
			return fmt.Errorf("%w: channel %s: module %s declares it lossy, but type %d is lossless", ErrDecl, name, r.mod, d.Type)
		}
	}
	if first.d.Mode == P2P && consumers > 1 {
		return fmt.Errorf("%w: P2P channel %s has %d consumers, modules %s (CHAN_ALREADY_BOUND)", ErrDecl, name, consumers, strings.Join(consumerMods, ", "))
	}
	if consumers > channel.MaxSubscribers {
		return fmt.Errorf("%w: channel %s has %d consumers, max %d", ErrDecl, name, consumers, channel.MaxSubscribers)
	}
	return nil
}

// wire opens the system channels and every declared channel, and subscribes
// the consumers.
func (k *Kernel) wire() error {
	var err error
	for _, n := range []string{SysError, SysDropped, SysTick} {
		g := channel.Lossy
		if n == SysTick {
			g = channel.Lossless
		}
		c, _, e := k.chans.Open(channel.Spec{Name: n, Type: channel.AnyType, Mode: channel.FanOut, Guarantee: g})
		if e != nil {
			return e
		}
		switch n {
		case SysError:
			k.sysError = c
		case SysDropped:
			k.sysDropped = c
		default:
			k.sysTick = c
		}
	}
	homes := map[int32]int{} // module → home worker of its first subscription
	stages := k.layoutStages()
	for _, ms := range k.modules[1:] {
		for _, d := range ms.m.Channels {
			sz := k.declSize[d.Name]
			spec := channel.Spec{Name: d.Name, Type: d.Type, Mode: d.Mode, Guarantee: d.Guarantee, Slots: sz[0], Replay: sz[1]}
			var id ChanID
			if c := k.chans.Lookup(d.Name); c != nil && c.Spec().Type == channel.AnyType {
				id = c.ID() // sys.error / sys.dropped: untyped, the decl's type picks the handler
			} else if id, err = k.ChanOpen(spec); err != nil {
				return fmt.Errorf("%w: module %s: %w", ErrDecl, ms.m.Name, err)
			}
			if d.Dir == Produce {
				if d.Guarantee == Lossless {
					ms.outs = append(ms.outs, k.chans.Get(id))
				}
				continue
			}
			home, err := k.declHome(ms, d, homes, stages)
			if err != nil {
				return err
			}
			s, err := k.subscribeSub(id, ms.idx, d.Type, home, d.OnError)
			if err != nil {
				return fmt.Errorf("%w: module %s: %w", ErrDecl, ms.m.Name, err)
			}
			if _, ok := homes[ms.idx]; !ok {
				homes[ms.idx] = s.Home
			}
		}
	}
	return nil
}

// declHome picks the home worker of a Consume declaration: the pinned worker;
// else the home of a module producing the channel, moved on by the segments
// between the two (layout.go), so that a pipeline's stages within a segment
// run on one worker and hand tasks over without crossing cores (DESIGN.md,
// performance rules); else -1 (round-robin), which spreads independent
// pipelines over the workers.
func (k *Kernel) declHome(ms *modState, d ChanDecl, homes map[int32]int, stages map[int32]stage) (int, error) {
	if d.Pin {
		if d.Worker < 0 || d.Worker >= len(k.workers) {
			return 0, fmt.Errorf("%w: module %s: channel %s: worker %d does not exist", ErrDecl, ms.m.Name, d.Name, d.Worker)
		}
		return d.Worker, nil
	}
	for _, p := range k.modules[1:] {
		for _, pd := range p.m.Channels {
			if pd.Name == d.Name && pd.Dir == Produce {
				if h, ok := homes[p.idx]; ok {
					if d.OnError {
						return h, nil
					}
					w := len(k.workers)
					return (h + max(0, stages[ms.idx].segment(w)-stages[p.idx].segment(w))) % w, nil
				}
			}
		}
	}
	return -1, nil
}

func (k *Kernel) initModules() error {
	for i, ms := range k.modules[1:] {
		if ms.m.Init == nil {
			continue
		}
		ctx := &Ctx{k: k, mod: ms.idx}
		if err := ms.m.Init(ctx); err != nil {
			k.finiFrom(i - 1)
			return fmt.Errorf("gmk: module %s: init: %w", ms.m.Name, err)
		}
	}
	return nil
}

func (k *Kernel) finiModules() { k.finiFrom(len(k.modules) - 2) }

// finiFrom runs Fini of modules[1+i] down to modules[1], best effort.
func (k *Kernel) finiFrom(i int) {
	for ; i >= 0; i-- {
		ms := k.modules[1+i]
		if ms.m.Fini == nil {
			continue
		}
		if err := ms.m.Fini(&Ctx{k: k, mod: ms.idx}); err != nil {
			k.log.Warn("module fini failed", zap.String("module", ms.m.Name), zap.Error(err))
		}
	}
}

func (k *Kernel) modName(mod int32) string {
	if int(mod) < len(k.modules) {
		return k.modules[mod].m.Name
	}
	return "?"
}

func (k *Kernel) modIndex(name string) int32 {
	for _, ms := range k.modules {
		if ms.m.Name == name {
			return ms.idx
		}
	}
	return -1
}

// restartModule re-runs a module's Fini and Init (the Restart directive of
// [X2]) on worker self; handlers of the module may still be running on
// other workers, and other workers may be restarting it too: each restart
// runs Fini and Init once, one after another.
func (k *Kernel) restartModule(mod int32, self int) {
	if mod <= 0 || int(mod) >= len(k.modules) {
		return
	}
	w := k.workers[self]
	w.aside.Store(true) // other holds need not wait for this worker
	defer w.aside.Store(false)
	k.hold(mod, self) // no handler of mod runs during Fini and Init
	defer k.release(mod)
	ms := k.modules[mod]
	ms.life.Lock()
	defer ms.life.Unlock()
	k.stats.AddShared(cRestarts, 1)
	ctx := &Ctx{k: k, mod: mod}
	if ms.m.Fini != nil {
		_ = ms.m.Fini(ctx)
	}
	if ms.m.Init != nil {
		if err := ms.m.Init(ctx); err != nil {
			k.log.Warn("module re-init failed", zap.String("module", ms.m.Name), zap.Error(err))
		}
	}
}

// InitModule runs the named module's Init — the start, or with a module
// that was initialised before the restart, of its owner ([X1]). Handlers of
// the module may be running on workers meanwhile; a restart is counted in
// Stats.Restarts.
func (k *Kernel) InitModule(name string) error {
	mod := k.modIndex(name)
	if mod <= 0 {
		return errUnknownModule(name)
	}
	ms := k.modules[mod]
	if ms.inits.Add(1) > 1 {
		k.stats.AddShared(cRestarts, 1)
	}
	if ms.m.Init == nil {
		return nil
	}
	k.hold(mod, -1) // no handler of the module runs during its Init
	defer k.release(mod)
	ms.life.Lock()
	defer ms.life.Unlock()
	if err := ms.m.Init(&Ctx{k: k, mod: mod}); err != nil {
		return fmt.Errorf("gmk: module %s: init: %w", name, err)
	}
	return nil
}

// FiniModule runs the named module's Fini (its owner stops or restarts it).
func (k *Kernel) FiniModule(name string) error {
	mod := k.modIndex(name)
	if mod <= 0 {
		return errUnknownModule(name)
	}
	if fini := k.modules[mod].m.Fini; fini != nil {
		k.hold(mod, -1)
		defer k.release(mod)
		k.modules[mod].life.Lock()
		defer k.modules[mod].life.Unlock()
		if err := fini(&Ctx{k: k, mod: mod}); err != nil {
			return fmt.Errorf("gmk: module %s: fini: %w", name, err)
		}
	}
	return nil
}

// PoisonModule poisons every type the named module handles: their tasks go
// to sys.error until ResetModule (the Stop directive of [X2]).
func (k *Kernel) PoisonModule(name string) error {
	mod := k.modIndex(name)
	if mod <= 0 {
		return errUnknownModule(name)
	}
	k.poisonModule(mod)
	return nil
}

// countFailure records a failure of typ at tick for the poison rule ([F3]).
func (k *Kernel) countFailure(typ uint32, tick uint64) {
	if int(typ) >= len(k.types) {
		return
	}
	te := &k.types[typ]
	if te.poisoned.Load() {
		return
	}
	if te.fails.record(tick, k.cfg.Poison.Failures, k.cfg.Poison.Window) {
		k.setPoisoned(te, true)
		k.log.Warn("type poisoned", zap.Uint32("type", typ), zap.Int("failures", k.cfg.Poison.Failures),
			zap.Uint64("window_ticks", k.cfg.Poison.Window))
	}
}

// poisonModule poisons every type the module handles (the Stop directive).
func (k *Kernel) poisonModule(mod int32) {
	for _, h := range k.handlers {
		if h.mod == mod && h.typ != AnyType {
			k.setPoisoned(&k.types[h.typ], true)
		}
	}
}

// setPoisoned sets te's poison flag and keeps the count of poisoned types,
// which lets a dispatch skip the per-type check while it is 0 (runTask).
func (k *Kernel) setPoisoned(te *typeEntry, on bool) {
	if te.poisoned.CompareAndSwap(!on, on) {
		if on {
			k.npoisoned.Add(1)
		} else {
			k.npoisoned.Add(-1)
		}
		k.chans.Gen().Add(1) // after the change: runTask's short path re-checks (plainNow)
	}
}

// Poisoned reports whether typ is poisoned ([F3]).
func (k *Kernel) Poisoned(typ uint32) bool {
	return int(typ) < len(k.types) && k.types[typ].poisoned.Load()
}

// ResetType clears typ's poison flag and failure history (`gmk mod reset`).
func (k *Kernel) ResetType(typ uint32) error {
	if int(typ) >= len(k.types) {
		return fmt.Errorf("%w: %d", ErrUnknownType, typ)
	}
	te := &k.types[typ]
	te.fails.reset()
	k.setPoisoned(te, false)
	return nil
}

// ResetModule clears the poison of every type of the named module.
func (k *Kernel) ResetModule(name string) error {
	mod := k.modIndex(name)
	if mod <= 0 {
		return errUnknownModule(name)
	}
	for _, h := range k.handlers {
		if h.mod == mod && h.typ != AnyType {
			_ = k.ResetType(h.typ)
		}
	}
	return nil
}

// RetryLimit returns the retries a task of typ may have: its TypeInfo's
// RetryLimit, else BootConfig.Retry.Max.
func (k *Kernel) RetryLimit(typ uint32) int {
	if int(typ) < len(k.types) && k.types[typ].info.RetryLimit > 0 {
		return k.types[typ].info.RetryLimit
	}
	return k.cfg.Retry.Max
}

func errUnknownModule(name string) error { return fmt.Errorf("%w: no module %q", ErrConfig, name) }
