package bench

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fakeNs is the ns/task the fake measurement gives each peer, so every ratio
// is known in advance: GMK is 2.5× chan and 20× protoactor.
var fakeNs = map[string]float64{PeerGMK: 10, PeerChan: 25, PeerProtoactor: 200}

// fakeMeasure is a deterministic measureFunc: no timing, no goroutines.
func fakeMeasure(caseName string, impl Impl, count int) (Result, error) {
	return Result{Case: caseName, Peer: impl.Peer, N: 1000, NsPerTask: fakeNs[impl.Peer], AllocsPerTask: 0.5}, nil
}

// fakeCases builds registry contents with fake impls; withGMK adds a "gmk"
// impl to the first case only.
func fakeCases(t *testing.T, withGMK bool) []Case {
	t.Helper()
	noop := func(*testing.B) {}
	reg := &registry{}
	for _, c := range []string{CaseFanout3, CaseP2P} { // registered out of print order
		reg.register(c, Impl{Peer: PeerProtoactor, Run: noop})
		reg.register(c, Impl{Peer: PeerChan, Run: noop})
	}
	if withGMK {
		reg.register(CaseP2P, Impl{Peer: PeerGMK, Run: noop})
	}
	return reg.list()
}

func TestRun_RatioLinesAndTable(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, fakeCases(t, true), nil, Options{Count: 3}, fakeMeasure); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	ratios := regexp.MustCompile(`(?m)^ratio .*$`).FindAllString(got, -1)
	want := []string{"ratio p2p vs=chan 2.5", "ratio p2p vs=protoactor 20"}
	if fmt.Sprint(ratios) != fmt.Sprint(want) {
		t.Errorf("ratio lines = %q, want %q\n%s", ratios, want, got)
	}
	for _, row := range []string{
		`(?m)^case\s+peer\s+ns/task\s+tasks/s\s+allocs/task\s+gmk/peer$`,
		`(?m)^p2p\s+gmk\s+10\.0\s+100000000\s+0\.50\s+1$`,
		`(?m)^p2p\s+chan\s+25\.0\s+40000000\s+0\.50\s+2\.5$`,
		`(?m)^p2p\s+protoactor\s+200\.0\s+5000000\s+0\.50\s+20$`,
		`(?m)^fanout3\s+chan\s+25\.0\s+40000000\s+0\.50\s+-$`, // no GMK impl: no ratio
		`(?m)^#\s+fanout3\s+one message emitted`,
	} {
		if !regexp.MustCompile(row).MatchString(got) {
			t.Errorf("report lacks a line matching %s:\n%s", row, got)
		}
	}
	// Print order: known cases in canonical order, GMK first within a case.
	if i, j := strings.Index(got, "\np2p "), strings.Index(got, "\nfanout3 "); i < 0 || j < i {
		t.Errorf("p2p rows should come before fanout3 rows:\n%s", got)
	}
}

func TestRun_NoGMKPrintsPeersWithoutRatios(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, fakeCases(t, false), nil, Options{Count: 1}, fakeMeasure); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "ratio ") {
		t.Errorf("ratio lines without a GMK impl:\n%s", out.String())
	}
	if n := strings.Count(out.String(), "\np2p "); n != 2 {
		t.Errorf("%d p2p rows, want 2 (chan, protoactor):\n%s", n, out.String())
	}
}

func TestRun_SelectsCasesInGivenOrder(t *testing.T) {
	var out bytes.Buffer
	err := run(&out, fakeCases(t, true), []string{CaseFanout3}, Options{Count: 1}, fakeMeasure)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "\np2p ") || !strings.Contains(out.String(), "\nfanout3 ") {
		t.Errorf("selected fanout3 only, got:\n%s", out.String())
	}
	err = run(&out, fakeCases(t, true), []string{"nope"}, Options{Count: 1}, fakeMeasure)
	if !errors.Is(err, ErrUnknownCase) {
		t.Errorf("unknown case: err = %v, want ErrUnknownCase", err)
	}
}

func TestRatioAndFormat(t *testing.T) {
	for _, tc := range []struct {
		gmkNs, peerNs float64
		want          string
	}{
		{10, 24, "2.4"}, {30, 10, "0.333"}, {1, 12.34, "12.3"}, {1, 1234.4, "1234"}, {7, 7, "1"},
	} {
		x, ok := Ratio(Result{NsPerTask: tc.gmkNs}, Result{NsPerTask: tc.peerNs})
		if !ok || FormatRatio(x) != tc.want {
			t.Errorf("Ratio(%v, %v) = %s (ok %v), want %s", tc.gmkNs, tc.peerNs, FormatRatio(x), ok, tc.want)
		}
	}
	if _, ok := Ratio(Result{}, Result{NsPerTask: 1}); ok {
		t.Error("Ratio with a zero GMK time should not be ok")
	}
}

func TestMedian(t *testing.T) {
	runs := []Result{{NsPerTask: 30}, {NsPerTask: 10}, {NsPerTask: 20}, {NsPerTask: 40}}
	if got := median(runs[:3]).NsPerTask; got != 20 {
		t.Errorf("median of 3 = %v, want 20", got)
	}
	if got := median(runs).NsPerTask; got != 20 {
		t.Errorf("lower median of 4 = %v, want 20", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{}, {Count: 5, Benchtime: "1s"}, {Benchtime: "1000x"}} {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	for _, o := range []Options{{Count: -1}, {Benchtime: "0x"}, {Benchtime: "fast"}, {Benchtime: "-1s"}} {
		if err := o.Validate(); !errors.Is(err, ErrBadOptions) {
			t.Errorf("%+v: err = %v, want ErrBadOptions", o, err)
		}
	}
}

func TestRegister_PanicsOnMisuse(t *testing.T) {
	noop := func(*testing.B) {}
	for name, f := range map[string]func(r *registry){
		"empty case": func(r *registry) { r.register("", Impl{Peer: "x", Run: noop}) },
		"nil run":    func(r *registry) { r.register("c", Impl{Peer: "x"}) },
		"twice": func(r *registry) {
			r.register("c", Impl{Peer: "x", Run: noop})
			r.register("c", Impl{Peer: "x", Run: noop})
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f(&registry{})
		}()
	}
}

// errAfter fails every write after the first n bytes.
type errAfter struct{ n int }

var errWrite = errors.New("write failed")

func (e *errAfter) Write(p []byte) (int, error) {
	if e.n -= len(p); e.n < 0 {
		return 0, errWrite
	}
	return len(p), nil
}

func TestWriteReport_ReturnsWriteError(t *testing.T) {
	results := []Result{{Case: CaseP2P, Peer: PeerGMK, NsPerTask: 1}, {Case: CaseP2P, Peer: PeerChan, NsPerTask: 2}}
	if err := WriteReport(&errAfter{n: 10}, results); !errors.Is(err, errWrite) {
		t.Errorf("err = %v, want the write error", err)
	}
}

// TestRun_RepetitionsInRounds: run measures a case's implementations in
// rounds of one repetition each (so a drifting machine moves every peer
// alike), then reports each one's median of its count repetitions.
func TestRun_RepetitionsInRounds(t *testing.T) {
	var order []string
	ns := map[string][]float64{PeerChan: {30, 10, 20}, PeerProtoactor: {300, 100, 200}}
	m := func(caseName string, impl Impl, count int) (Result, error) {
		if count != 1 {
			t.Fatalf("measure asked for %d repetitions at once", count)
		}
		order = append(order, impl.Peer)
		v := ns[impl.Peer][0]
		ns[impl.Peer] = ns[impl.Peer][1:]
		return Result{Case: caseName, Peer: impl.Peer, N: 1000, NsPerTask: v}, nil
	}
	var out bytes.Buffer
	if err := run(&out, fakeCases(t, false), []string{CaseP2P}, Options{Count: 3}, m); err != nil {
		t.Fatal(err)
	}
	want := []string{PeerChan, PeerProtoactor, PeerChan, PeerProtoactor, PeerChan, PeerProtoactor}
	if !slices.Equal(order, want) {
		t.Fatalf("measured in order %v, want %v", order, want)
	}
	medians := map[string]string{PeerChan: "20.0", PeerProtoactor: "200.0"}
	seen := 0
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == CaseP2P {
			seen++
			if f[2] != medians[f[1]] {
				t.Errorf("%s: ns/task %s, want the median %s", f[1], f[2], medians[f[1]])
			}
		}
	}
	if seen != len(medians) {
		t.Fatalf("report has %d p2p lines, want %d:\n%s", seen, len(medians), out.String())
	}
}
