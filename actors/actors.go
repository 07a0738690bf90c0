package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/gmkernel/gmk/kernel"
)

// moduleActor owns a module's lifecycle ([X1]): Init on start, Fini on stop,
// Fini then Init on restart. It receives its handlers' failures and fails
// with each, so that its supervisor's strategy decides ([X2]). No task goes
// through its mailbox.
type moduleActor struct {
	n *Node
	e *entry
}

func (a *moduleActor) Receive(ctx actor.Context) {
	n, e := a.n, a.e
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if err := n.k.InitModule(e.name); err != nil {
			e.mu.Lock()
			first := e.starts == 0
			if first {
				e.bootErr = err
			}
			e.mu.Unlock()
			if !first {
				e.startFailed()
				panic(err) // a failed re-Init is a failure of the restart
			}
		}
		waiting, wasStopped := e.started(ctx.Self())
		if wasStopped {
			_ = n.k.ResetModule(e.name) // a fresh start clears the Stop poison
		}
		e.unhold(n.k)
		for _, r := range waiting {
			n.resolve(r, kernel.ActRetry)
		}
	case *actor.Restarting, *actor.Stopping:
		e.hold(n.k) // no handler runs until the module started again or stopped
		if err := n.k.FiniModule(e.name); err != nil {
			n.log.Warn("module fini failed", zap.String("module", e.name), zap.Error(err))
		}
	case *actor.Stopped:
		_ = n.k.PoisonModule(e.name)
		e.unhold(n.k) // the held tasks go to sys.error as POISONED
		for _, r := range e.stoppedNow() {
			n.resolve(r, kernel.ActPoison)
		}
	case *Failure:
		panic(m) // the supervisor decides; the tap maps the directive
	}
}

// supervisorActor is a node of the supervision tree: it spawns its children
// in start order, tells GMK's strategy that order, and stops them in reverse
// start order (OTP) when it stops or restarts. Its strategy is the config's,
// or the one given with WithStrategy, behind a tap.
type supervisorActor struct {
	n *Node
	e *entry
}

// respawn asks a supervisor to start a child that is not running (Reset).
type respawn struct{ child *entry }

func (a *supervisorActor) Receive(ctx actor.Context) {
	e := a.e
	switch m := ctx.Message().(type) {
	case *actor.Started:
		for _, c := range e.children {
			a.spawn(ctx, c)
		}
		e.started(ctx.Self())
	case *respawn:
		if !m.child.isAlive() {
			a.spawn(ctx, m.child)
		}
	case *actor.Restarting, *actor.Stopping:
		for i := len(e.children) - 1; i >= 0; i-- {
			if p := e.children[i].PID(); p != nil && e.children[i].isAlive() {
				_ = ctx.StopFuture(p).Wait()
			}
		}
	case *actor.Terminated:
		if e.gmk != nil {
			e.gmk.Remove(ctx.Self(), m.Who)
		}
	case *actor.Stopped:
		e.stoppedNow()
	}
}

// spawn starts child c and waits until its start ended (OTP starts children
// one at a time, so Inits run in start order). A start whose Init failed
// ends it too: that failure is a message to this supervisor.
func (a *supervisorActor) spawn(ctx actor.Context, c *entry) {
	up := c.nextTry()
	pid, err := ctx.SpawnNamed(a.n.props(c), c.name)
	if err != nil {
		a.n.log.Error("spawn failed", zap.String("child", c.name), zap.Error(err))
		return
	}
	if a.e.gmk != nil {
		_ = a.e.gmk.Add(ctx.Self(), pid, c.restart)
	}
	select {
	case <-up:
	case <-time.After(a.n.startWait):
		a.n.log.Warn("child did not start in time", zap.String("child", c.name))
	}
}

func (n *Node) props(e *entry) *actor.Props {
	if e.module {
		return actor.PropsFromProducer(func() actor.Actor { return &moduleActor{n: n, e: e} })
	}
	return actor.PropsFromProducer(func() actor.Actor { return &supervisorActor{n: n, e: e} },
		actor.WithSupervisor(tap{inner: e.strategy, n: n}))
}

// stopAtTop is the strategy above the top supervisor: an escalation that
// reaches it stops the tree (OTP: the application terminates); Reset brings
// parts of it back.
var stopAtTop = actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.StopDirective })

const defaultStartWait = 10 * time.Second // Boot waits this long for the modules to start
