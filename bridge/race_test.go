//go:build race

package bridge

// stressScale scales the stress tests' task counts; the race detector slows
// them about tenfold.
const stressScale = 1
