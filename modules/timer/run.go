package timer

import (
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

// How a timer runs. Setting a timer stores it under a new generation and
// parks a fire task (FireType, meta0 = id, meta1 = generation) on the
// worker's EVQ. The fire task is parked for at most Step: when it runs
// before the timer is due it parks itself again, so a cancelled or replaced
// timer (whose parked task is stale: another generation) leaves the EVQ
// within Step, and so does every timer once the kernel halts — Halt waits
// for queued work, and a timer service must not keep it waiting for ever.
// When due, the firing is sent; a repeating timer is parked again for its
// next period (whole periods after the one that fired, skipping periods the
// kernel was too late for, so firings never bunch up).

// set handles timer.set.
func (m *Timer) set(c *kernel.Ctx) kernel.Status {
	s, err := sdk.Read[sdk.TimerSpec](c)
	if err != nil || s.ID == 0 || s.Delay < 0 || s.Period < 0 {
		return sdk.CodeBadRequest
	}
	if s.Chan == 0 {
		s.Chan, s.Type = m.fire.Chan, m.fire.Type
	}
	now := c.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.byID[s.ID]
	if !ok {
		if len(m.free) == 0 {
			return sdk.CodeFull
		}
		i = m.free[len(m.free)-1]
		m.free = m.free[:len(m.free)-1]
		m.byID[s.ID] = i
	}
	m.gen++
	m.slots[i] = slot{spec: s, tenant: c.Task().Tenant, gen: m.gen, due: now + s.Delay}
	if st := m.park(c, i, now); st != kernel.OK {
		m.remove(s.ID, i)
		return st
	}
	return kernel.OK
}

// cancel handles timer.cancel: meta0 = id; an unknown id is not an error.
func (m *Timer) cancel(c *kernel.Ctx) kernel.Status {
	id := c.Task().Meta0
	m.mu.Lock()
	defer m.mu.Unlock()
	if i, ok := m.byID[id]; ok {
		m.remove(id, i)
	}
	return kernel.OK
}

// fired handles a parked fire task coming off the EVQ.
func (m *Timer) fired(c *kernel.Ctx) kernel.Status {
	t := c.Task()
	id, gen := t.Meta0, t.Meta1
	now := c.Now()
	halting := c.Kernel().Halting()
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.byID[id]
	if !ok || m.slots[i].gen != gen {
		return kernel.OK // cancelled or replaced while parked
	}
	sl := &m.slots[i]
	if now < sl.due {
		if halting {
			m.remove(id, i) // not due before the kernel stops
			return kernel.OK
		}
		return m.parkOrRemove(c, id, i, now)
	}
	x := kernel.Task{Type: sl.spec.Type, Tenant: sl.tenant, Meta0: id, Meta1: sl.fires + 1}
	switch st := sdk.Send(c, sl.spec.Chan, x); st {
	case kernel.OK:
	case kernel.Retry:
		return st // held until the fire channel has room, then fires (same generation)
	default:
		m.remove(id, i) // the fire channel is gone: the timer ends with its error
		return st
	}
	sl.fires++
	if sl.spec.Period == 0 || halting {
		m.remove(id, i)
		return kernel.OK
	}
	sl.due += sl.spec.Period * ((now-sl.due)/sl.spec.Period + 1)
	return m.parkOrRemove(c, id, i, now)
}

func (m *Timer) parkOrRemove(c *kernel.Ctx, id uint64, i int32, now int64) kernel.Status {
	if st := m.park(c, i, now); st != kernel.OK {
		m.remove(id, i)
		return st
	}
	return kernel.OK
}

// park parks slot i's fire task until its due time or Step, whichever is
// first. Caller holds mu.
func (m *Timer) park(c *kernel.Ctx, i int32, now int64) kernel.Status {
	sl := &m.slots[i]
	at := min(sl.due, now+int64(m.cfg.Step))
	x := kernel.Task{Type: m.cfg.FireType, Tenant: sl.tenant, Meta0: sl.spec.ID, Meta1: sl.gen}
	return sdk.Code(c.EmitAt(x, at))
}

// remove frees slot i of timer id. Caller holds mu.
func (m *Timer) remove(id uint64, i int32) {
	delete(m.byID, id)
	m.slots[i] = slot{}
	m.free = append(m.free, i) // within capacity: no allocation
}
