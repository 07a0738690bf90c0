package main

import "testing"

// [U5] Human units: the examples of the issue, and the edges.
func TestU5_HumanUnits(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{units.Rate(8400), "8.4K/s"}, {units.Count(847_000_000), "847M"}, {units.Bytes(12 << 20), "12 MiB"},
		{units.Count(0), "0"}, {units.Count(999), "999"}, {units.Count(1000), "1K"}, {units.Count(12_345), "12K"},
		{units.Rate(0), "0/s"}, {units.Rate(3.5), "3.5/s"}, {units.Rate(-1), "0/s"}, {units.Rate(250), "250/s"},
		{units.Bytes(512), "512 B"}, {units.Bytes(1536), "1.5 KiB"}, {units.Bytes(63 << 20), "63 MiB"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
