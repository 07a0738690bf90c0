package trace

// Sampling at level All ([O3]). Each worker owns a xorshift64* generator
// (Vigna, "An experimental exploration of Marsaglia's xorshift generators"),
// seeded from the kernel's seed and the worker id, so a run with the same seed
// takes the same sampling decisions on the same worker and the decision costs a
// few shifts and one multiply: no allocation, no shared state, no time source.

const (
	xorshiftMul = 0x2545F4914F6CDD1D // xorshift64* output multiplier
	goldenGamma = 0x9E3779B97F4A7C15 // splitmix64 increment (2^64 / golden ratio)
	fallbackRNG = 0x853C49E6748FEA9B // any non-zero state, used if mixing yields 0
)

// Sample takes the per-task sampling decision of level All: true with
// probability 1/sampleEvery (always when sampleEvery <= 1). Tasks it selects are
// traced with the Sampled flag. Only the owning worker may call Sample.
func (w *Writer) Sample() bool {
	x := w.rng
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	w.rng = x
	// The top 32 bits of the scrambled output are uniform on [0, 2^32); they fall
	// below threshold = floor(2^32/n) with probability 1/n (exact when n is a
	// power of two, off by less than 2^-32 otherwise).
	return (x*xorshiftMul)>>32 < w.threshold
}

// sampleThreshold returns the bound Sample compares against: 2^32 (always) for a
// period of 0 or 1, floor(2^32/n) otherwise.
func sampleThreshold(n uint32) uint64 {
	if n <= 1 {
		return 1 << 32
	}
	return (1 << 32) / uint64(n)
}

// seedState derives a non-zero xorshift state from the kernel seed and the
// worker id with one splitmix64 step, so neighbouring workers get unrelated
// streams even from seed 0.
func seedState(seed uint64, worker int) uint64 {
	z := seed + uint64(worker+1)*goldenGamma
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	z ^= z >> 31
	if z == 0 {
		return fallbackRNG
	}
	return z
}
