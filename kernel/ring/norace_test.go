//go:build !race

package ring

// stressScale multiplies the stress tests' value counts: the race detector
// slows them about tenfold.
const stressScale = 10
