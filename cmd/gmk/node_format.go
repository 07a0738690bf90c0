package main

import (
	"fmt"
	"math"
)

// human formats numbers for people ([U5]: "8.4K/s, 847M, 12 MiB"): counts
// with K, M, G, T (powers of 1000), byte sizes with KiB, MiB, GiB (powers
// of 1024), rates as counts per second. A scaled value below 10 keeps one
// decimal (8.4K), a larger one none (12M); values below the first unit are
// printed as they are.
type human struct{}

var units human

var (
	countUnits = []string{"", "K", "M", "G", "T", "P"}
	byteUnits  = []string{" B", " KiB", " MiB", " GiB", " TiB", " PiB"}
)

// Count formats a count: 847, 8.4K, 12M.
func (human) Count(v uint64) string { return scaled(float64(v), 1000, countUnits) }

// Rate formats a per-second rate: 0/s, 3.5/s, 8.4K/s.
func (human) Rate(v float64) string {
	if v < 10 {
		return trimZero(fmt.Sprintf("%.1f", math.Max(v, 0))) + "/s"
	}
	return scaled(v, 1000, countUnits) + "/s"
}

// Bytes formats a byte size: 512 B, 1.5 KiB, 12 MiB.
func (human) Bytes(v uint64) string { return scaled(float64(v), 1024, byteUnits) }

func scaled(v, base float64, suffix []string) string {
	i := 0
	for v >= base && i < len(suffix)-1 {
		v /= base
		i++
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%.0f%s", v, suffix[0])
	case v < 10:
		return trimZero(fmt.Sprintf("%.1f", v)) + suffix[i]
	}
	return fmt.Sprintf("%.0f%s", v, suffix[i])
}

// trimZero turns "3.0" into "3".
func trimZero(s string) string {
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}
