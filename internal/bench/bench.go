package bench

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// Case names, in the order the report prints them.
const (
	CaseP2P       = "p2p"
	CasePipeline3 = "pipeline3"
	CasePipeEmit  = "pipeline3-emit"
	CaseFanout3   = "fanout3"
	CaseMPMC2x2   = "mpmc2x2"
)

// Peer names. PeerGMK is the implementation the ratios are computed for.
const (
	PeerGMK        = "gmk"
	PeerChan       = "chan"
	PeerProtoactor = "protoactor"
)

// caseOrder fixes the print order of the known cases; others follow by name.
var caseOrder = []string{CaseP2P, CasePipeline3, CasePipeEmit, CaseFanout3, CaseMPMC2x2}

// peerOrder fixes the print order of the known peers; others follow by name.
var peerOrder = []string{PeerGMK, PeerChan, PeerProtoactor}

// taskMeaning says what one task (one b.N) is in each known case; the report
// prints it above the table.
var taskMeaning = map[string]string{
	CaseP2P:       "one item handed by the producer to the one consumer",
	CasePipeline3: "one item through producer → stage1 → stage2 → stage3 (each stage Meta0++; stage3 counts)",
	CasePipeEmit:  "the same pipeline; GMK's stages are handlers chaining follow-on tasks (Emit), no per-stage order",
	CaseFanout3:   "one message emitted; it reaches all 3 subscribers (3 deliveries per task)",
	CaseMPMC2x2:   "one item from one of 2 producers, consumed once by one of 2 consumers",
}

// Impl is one peer's implementation of a case. Run is a benchmark function in
// which b.N is the number of tasks (see the package documentation for what a task
// is per case); it excludes its own setup and teardown with b.ResetTimer and
// b.StopTimer, reports failures with b.Fatal, and leaves no goroutine behind.
type Impl struct {
	Peer string
	Run  func(b *testing.B)
}

// Case is a named workload and its implementations, GMK first, then the peers.
type Case struct {
	Name  string
	Impls []Impl
}

// registry maps case names to implementations. mu guards cases; Register writes
// it (normally from init functions), Cases reads a sorted copy.
type registry struct {
	mu    sync.Mutex
	cases map[string][]Impl
}

// defaultRegistry is the registry that Register fills and Run reads.
var defaultRegistry = &registry{}

// Register adds impl to the case caseName. It is meant to be called from init
// functions, one file per peer. It panics, like http.Handle, on an empty case or
// peer name, a nil Run, or a second implementation of the same peer for a case:
// those are programming errors in the harness itself.
func Register(caseName string, impl Impl) {
	defaultRegistry.register(caseName, impl)
}

// Cases returns the registered cases in print order, each with its
// implementations in print order. The result is a copy.
func Cases() []Case {
	return defaultRegistry.list()
}

func (r *registry) register(caseName string, impl Impl) {
	if caseName == "" || impl.Peer == "" || impl.Run == nil {
		panic(fmt.Sprintf("bench: Register(%q, peer %q): empty name or nil Run", caseName, impl.Peer))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cases == nil {
		r.cases = make(map[string][]Impl)
	}
	for _, have := range r.cases[caseName] {
		if have.Peer == impl.Peer {
			panic(fmt.Sprintf("bench: Register(%q, peer %q): registered twice", caseName, impl.Peer))
		}
	}
	r.cases[caseName] = append(r.cases[caseName], impl)
}

func (r *registry) list() []Case {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Case, 0, len(r.cases))
	for name, impls := range r.cases {
		impls = slices.Clone(impls)
		slices.SortFunc(impls, func(a, b Impl) int { return compareOrdered(peerOrder, a.Peer, b.Peer) })
		out = append(out, Case{Name: name, Impls: impls})
	}
	slices.SortFunc(out, func(a, b Case) int { return compareOrdered(caseOrder, a.Name, b.Name) })
	return out
}

// compareOrdered orders a and b by their index in known, unknown names after all
// known ones, and unknown names among themselves alphabetically.
func compareOrdered(known []string, a, b string) int {
	ia, ib := rank(known, a), rank(known, b)
	if ia != ib {
		return ia - ib
	}
	return cmp.Compare(a, b)
}

func rank(known []string, name string) int {
	if i := slices.Index(known, name); i >= 0 {
		return i
	}
	return len(known)
}
