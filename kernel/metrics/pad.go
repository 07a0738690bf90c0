package metrics

import "unsafe"

// cacheLinePad separates data written by different goroutines. 128 bytes covers
// the adjacent-line prefetcher of current x86 parts and the 128-byte lines of
// Apple silicon, as in kernel/ring.
const cacheLinePad = 128

// carve returns parts slices of n elements each, cut from one allocation so that
// no two parts, and nothing allocated next to the block, share a cache line: a
// pad of cacheLinePad bytes precedes every part and follows the last one, and
// every part's stride is rounded up to whole pads. It is used for per-shard
// arrays that different goroutines write.
func carve[T any](parts, n int) [][]T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	padElems := (cacheLinePad + size - 1) / size
	stride := (n*size+cacheLinePad-1)/cacheLinePad*cacheLinePad/size + padElems
	block := make([]T, padElems+parts*stride)
	out := make([][]T, parts)
	for i := range out {
		start := padElems + i*stride
		out[i] = block[start : start+n : start+n]
	}
	return out
}

// noCopy makes go vet's copylocks check reject copies of a Shard, which would
// alias the original's arrays while tracking its dirty list separately.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
