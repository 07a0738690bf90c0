package bench

import (
	"errors"
	"fmt"
	"testing"
)

// baselines are the scenarios of this package's peers, by case and peer.
var baselines = map[string]map[string]scenario{
	CaseP2P:       {PeerChan: chanP2P, PeerProtoactor: paP2P},
	CasePipeline3: {PeerChan: chanPipeline3, PeerProtoactor: paPipeline3},
	CaseFanout3:   {PeerChan: chanFanout3, PeerProtoactor: paFanout3},
	CaseMPMC2x2:   {PeerChan: chanMPMC2x2, PeerProtoactor: paMPMC2x2},
}

// TestBaselines_DeliverEveryItemOnce runs every Go-channel and protoactor
// scenario at sizes around the channel buffer and odd splits between the 2x2
// producers; each checks count, sums and transform of what its consumers saw,
// and goleak (TestMain) checks they leave no goroutine (or actor) behind.
// The cases mirror [C4] (p2p) and [C5] (fan-out: all 3 subscribers receive
// all, GMK.md test 6); DESIGN.md "Performance rules" asks for the comparison.
func TestBaselines_DeliverEveryItemOnce(t *testing.T) {
	for caseName, peers := range baselines {
		for peer, s := range peers {
			for _, n := range []int{1, 2, 1023, chanSize + 1, 5001} {
				t.Run(fmt.Sprintf("%s/%s/%d", caseName, peer, n), func(t *testing.T) {
					if err := s(n, nopTimer{}); err != nil {
						t.Fatal(err)
					}
				})
			}
		}
	}
}

// TestBaselines_Registered checks that init registered all four cases for both
// baseline peers, so `make bench` runs them even before GMK's file exists.
func TestBaselines_Registered(t *testing.T) {
	have := map[string]bool{}
	for _, c := range Cases() {
		for _, impl := range c.Impls {
			have[c.Name+"/"+impl.Peer] = true
		}
	}
	for caseName, peers := range baselines {
		for peer := range peers {
			if !have[caseName+"/"+peer] {
				t.Errorf("%s/%s is not registered", caseName, peer)
			}
		}
	}
}

func TestTally_DetectsLossDuplicateAndCorruption(t *testing.T) {
	const n = 10
	full := func(skip, dup int, corrupt bool) tally {
		var got tally
		for i := range n {
			v := item(i)
			if corrupt && i == 3 {
				v.Meta0++
			}
			if i != skip {
				got.add(v, 0)
			}
			if i == dup {
				got.add(v, 0)
			}
		}
		return got
	}
	if err := full(-1, -1, false).check("ok", n); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]tally{
		"lost":                full(4, -1, false),
		"duplicated":          full(-1, 4, false),
		"lost and duplicated": full(2, 3, false), // count and sum cannot tell; squares can
		"corrupted":           full(-1, -1, true),
	} {
		if err := got.check(name, n); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: err = %v, want ErrMismatch", name, err)
		}
	}
}
