package kernel

// Boot lays each pipeline that the modules' channel declarations form over
// the workers (declHome). A stage's consumer goes to the worker of the module
// producing its channel, so that the stages of a segment hand each item on
// without crossing cores (the handoff slot). A long enough pipeline is cut
// into segments, one per worker, so that the workers share its work:
//
//   - A pipeline of L stages is cut into S = min(workers, (L+1)/2) segments.
//     The feed from outside the kernel counts as one more stage, of the first
//     segment, so every segment has at least two stages' work. A worker with
//     a single cheap stage would park after every batch and make its feeder
//     pay a wake per batch, which costs more than the stage.
//   - Stage d (0 for the first) goes to segment (d+1)·S/(L+1), counted on from
//     the worker of its producer: 3 stages on 2 workers run as stage 1 on one
//     worker and stages 2 and 3 on the other.
//
// In a graph that is not a chain, L is the longest pipeline through the
// module and d its longest chain of in-kernel producers. Only a producer
// listed before its consumer (in Boot's module order) counts, as for
// co-location: a channel fed back upstream adds nothing, so the graph has no
// cycles. A module whose channel has no earlier in-kernel producer starts a
// pipeline, homed round-robin. ChanDecl.Pin overrides all of this.

// stage is a module's place in its pipeline.
type stage struct {
	depth  int // the longest chain of in-kernel producers above it
	length int // stages of the longest pipeline through it
}

// segment returns the index of s's segment in a kernel of w workers.
func (s stage) segment(w int) int {
	n := min(w, (s.length+1)/2)
	return (s.depth + 1) * n / (s.length + 1)
}

// layoutStages computes the stage of every module that consumes or produces
// a declared channel (error handlers are not stages).
func (k *Kernel) layoutStages() map[int32]stage {
	up, down := map[int32][]int32{}, map[int32][]int32{}
	for _, p := range k.modules[1:] {
		for _, pd := range p.m.Channels {
			if pd.Dir != Produce {
				continue
			}
			for _, c := range k.modules[p.idx+1:] {
				for _, cd := range c.m.Channels {
					if cd.Dir == Consume && !cd.OnError && cd.Name == pd.Name {
						down[p.idx] = append(down[p.idx], c.idx)
						up[c.idx] = append(up[c.idx], p.idx)
					}
				}
			}
		}
	}
	depth, height := longest(up), longest(down)
	st := make(map[int32]stage, len(k.modules))
	for _, ms := range k.modules[1:] {
		d, h := depth(ms.idx), height(ms.idx)
		st[ms.idx] = stage{depth: d, length: d + h + 1}
	}
	return st
}

// longest returns a function giving the longest path from a module along
// edges (acyclic), memoised.
func longest(edges map[int32][]int32) func(int32) int {
	memo := map[int32]int{}
	var f func(int32) int
	f = func(m int32) int {
		if v, ok := memo[m]; ok {
			return v
		}
		best := 0
		for _, n := range edges[m] {
			best = max(best, f(n)+1)
		}
		memo[m] = best
		return best
	}
	return f
}
