package bench

import (
	"sync"
	"testing"
	"time"

	"github.com/gmkernel/gmk/internal/bench/clusterbench"
)

// The cluster-channel case ([X5], acceptance 7 of the actor issue): GMK's
// batched cluster channel between two members of an in-process protoactor
// cluster against protoactor's own remote Send between the same two members
// (see package clusterbench for both). A task is one inline task from member
// A to a handler (or actor) on member B.
const (
	CaseCluster          = "cluster-channel"
	PeerProtoactorRemote = "protoactor-remote"
)

func init() {
	taskMeaning[CaseCluster] = "one inline task from cluster member A to a handler on member B (protoactor remote on 127.0.0.1)"
	// The two members live across the runs of a measurement (starting them
	// takes a second: protoactor's StartMember sleeps) and close after
	// clusterIdle without a run, which goleak's check at the end of a test
	// binary would not wait for. So the case is registered in programs, not
	// in test binaries; package clusterbench tests and benchmarks it.
	if testing.Testing() {
		return
	}
	Register(CaseCluster, Impl{Peer: PeerGMK, Run: clusterImpl((*clusterbench.Pair).Channel)})
	Register(CaseCluster, Impl{Peer: PeerProtoactorRemote, Run: clusterImpl((*clusterbench.Pair).Remote)})
}

// clusterIdle is how long the shared pair outlives its last run.
const clusterIdle = 2 * time.Second

// sharedPair is the two-member cluster of the case, started on first use.
var sharedPair struct {
	mu    sync.Mutex
	p     *clusterbench.Pair
	users int
	idle  *time.Timer
}

func clusterImpl(run func(*clusterbench.Pair, int, clusterbench.Timer) error) func(*testing.B) {
	return func(b *testing.B) {
		p, err := acquirePair()
		if err != nil {
			b.Fatal(err)
		}
		defer releasePair()
		if err := run(p, b.N, b); err != nil {
			b.Fatal(err)
		}
	}
}

func acquirePair() (*clusterbench.Pair, error) {
	s := &sharedPair
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idle != nil {
		s.idle.Stop()
		s.idle = nil
	}
	if s.p == nil {
		p, err := clusterbench.Start()
		if err != nil {
			return nil, err
		}
		s.p = p
	}
	s.users++
	return s.p, nil
}

func releasePair() {
	s := &sharedPair
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users--; s.users > 0 {
		return
	}
	s.idle = time.AfterFunc(clusterIdle, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.users == 0 && s.p != nil {
			_ = s.p.Close()
			s.p = nil
		}
	})
}
