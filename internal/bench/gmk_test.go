package bench

import (
	"fmt"
	"testing"
)

// gmkImpls are GMK's scenarios by case; every one must deliver each item
// exactly once, transformed, at any size ([C4], [C5], [S1]).
var gmkImpls = map[string]scenario{
	CaseP2P:       gmkP2P,
	CasePipeline3: gmkPipeline3,
	CasePipeEmit:  gmkPipelineEmit,
	CaseFanout3:   gmkFanout3,
	CaseMPMC2x2:   gmkMPMC2x2,
}

func TestGMK_DeliverEveryItemOnce(t *testing.T) {
	for caseName, s := range gmkImpls {
		for _, n := range []int{1, 2, 63, 64, 65, 1025, 5001} {
			t.Run(fmt.Sprintf("%s/%d", caseName, n), func(t *testing.T) {
				if err := s(n, nopTimer{}); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}
