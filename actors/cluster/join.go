package cluster

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
)

// Join is the usual way in: it configures a protoactor cluster named name in
// sys — provider p, disthash identity lookup, remote rc, the member's kinds
// plus extra — starts the cluster member (remote included), then starts m.
// The kernel must be booted with m.Module() already.
//
// protoactor's StartMember sleeps one second; start the members of an
// in-process cluster in parallel. A taken remote port (protoactor panics)
// is returned as an error.
//
// To stop: m.Leave, then c.Shutdown, then halt the kernel.
func Join(sys *actor.ActorSystem, m *Member, name string, p cluster.ClusterProvider, rc *remote.Config,
	extra ...*cluster.Kind) (c *cluster.Cluster, err error) {
	if m.Kernel() == nil {
		return nil, ErrNotBooted
	}
	cfg := cluster.Configure(name, p, disthash.New(), rc, cluster.WithKinds(append(m.Kinds(), extra...)...))
	c = cluster.New(sys, cfg)
	if err := startMember(c); err != nil {
		return nil, err
	}
	if err := m.Start(c); err != nil {
		c.Shutdown(false)
		return nil, err
	}
	return c, nil
}

func startMember(c *cluster.Cluster) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gmk/cluster: starting the cluster member: %v", r)
		}
	}()
	c.StartMember()
	return nil
}
