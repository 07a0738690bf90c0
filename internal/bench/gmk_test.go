package bench

import (
	"fmt"
	"testing"

	"github.com/gmkernel/gmk/kernel"
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

// BenchmarkPipeline3Layouts runs GMK's pipeline3 with its stages pinned
// (ChanDecl.Pin) to each split over the 2 workers, Boot's layout first, so
// that the layout's choice can be checked against the others; ns/op is
// per item.
func BenchmarkPipeline3Layouts(b *testing.B) {
	for _, l := range []struct {
		name string
		home [3]int
	}{{"1|23", [3]int{0, 1, 1}}, {"13|2", [3]int{0, 1, 0}}, {"12|3", [3]int{0, 0, 1}}, {"123", [3]int{0, 0, 0}}} {
		b.Run(l.name, func(b *testing.B) {
			var got tally
			mods := []kernel.Module{gmkStage("stage1", "b.in", "b.s2", gmkIn), gmkStage("stage2", "b.s2", "b.s3", gmkS2),
				gmkSink("stage3", "b.s3", gmkS3, kernel.ChanSpec{Mode: kernel.P2P}, &got, 3, true)}
			for i := range mods {
				for j := range mods[i].Channels {
					if d := &mods[i].Channels[j]; d.Dir == kernel.Consume {
						d.Pin, d.Worker = true, l.home[i]
					}
				}
			}
			k, err := gmkBoot(mods...)
			if err != nil {
				b.Fatal(err)
			}
			in, _ := k.Chan("b.in")
			b.ResetTimer()
			if err := gmkEmitAll(k, in, 0, b.N); err != nil {
				b.Fatal(err)
			}
			if err := gmkFinish(k, b); err != nil {
				b.Fatal(err)
			}
			if err := got.check("gmk pipeline3 "+l.name, b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}
