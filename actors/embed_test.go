package actors

import (
	"context"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/gmkernel/gmk/actors/chans"
	"github.com/gmkernel/gmk/actors/config"
	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel"
)

// [X5][X3] Embedding: a node boots inside the caller's own ActorSystem,
// next to the caller's actors; with channel actors, a plain actor of the
// caller emits onto a channel of the tree by Send, and the supervised
// module consumes every task.
func TestX5_EmbeddedInCallersSystem(t *testing.T) {
	key := t.Name() + "/a"
	p := &probe{key: "a", typ: 1, rec: &recorderLog{}}
	probes.Store(key, p)
	defer probes.Delete(key)
	tree, err := config.Parse("embed.yaml", []byte(`
kernel: {workers: 2}
types: [{id: 1, name: job}]
channels: [{name: test.jobs, type: job, mode: p2p, guarantee: lossless}]
modules:
  - name: a
    module: probe
    params: {key: "`+key+`", type: 1}
    channels: [{channel: test.jobs, dir: consume}]
supervisor: {name: root, strategy: one_for_one, children: [{module: a}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	sys := actor.NewActorSystem() // the caller's
	defer sys.Shutdown()
	n, err := Boot(sys, tree, WithChannelActors(chans.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	if n.System() != sys || n.PID("a") == nil || n.PID("a").Address != sys.Address() {
		t.Fatal("the tree is not in the caller's system")
	}
	jobs, err := n.Channels().PID("test.jobs")
	if err != nil {
		t.Fatal(err)
	}
	const total = 1000
	producer := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*actor.Started); ok {
			for i := range total {
				c.Send(jobs, kernel.Task{Type: 1, Meta0: uint64(i)})
			}
		}
	}))
	waitFor(t, "the tasks", func() bool { return p.ok.Load() == total })
	_ = sys.Root.StopFuture(producer).Wait()
	r := ask(t, sys, jobs, &wire.Emit{Channel: "test.jobs", Batch: &wire.TaskBatch{}})
	if r.Accepted != 0 || r.Status != 0 {
		t.Fatalf("an empty emit: %+v", r)
	}
	if err := n.Halt(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p.inits.Load() != 1 || p.finis.Load() != 1 {
		t.Fatalf("inits %d finis %d", p.inits.Load(), p.finis.Load())
	}
}

func ask(t *testing.T, sys *actor.ActorSystem, pid *actor.PID, m any) *wire.EmitResult {
	t.Helper()
	res, err := sys.Root.RequestFuture(pid, m, defaultStartWait).Result()
	if err != nil {
		t.Fatal(err)
	}
	r, ok := res.(*wire.EmitResult)
	if !ok {
		t.Fatalf("answer %T", res)
	}
	return r
}
