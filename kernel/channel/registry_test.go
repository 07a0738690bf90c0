package channel

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gmkernel/gmk/kernel/task"
)

// [C1] Names are "namespace.verb": two or more dot-separated, non-empty parts
// of lower-case letters, digits, '_' and '-'.
func TestC1_ValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"orders.new", true},
		{"sys.error", true},
		{"a.b.c", true},
		{"ns_1.verb-2", true},
		{"0.9", true},
		{"", false},
		{"orders", false},
		{".new", false},
		{"orders.", false},
		{"a..b", false},
		{"Orders.new", false},
		{"orders.new!", false},
		{"orders new.x", false},
		{"orders/new.x", false},
		{"ordérs.new", false},
	} {
		err := ValidName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadSpec) {
			t.Errorf("ValidName(%q) = %v, want it to wrap ErrBadSpec", tc.name, err)
		}
	}
}

// [C1] Spec.Validate checks the name, the slot and replay ranges, and that a
// replay buffer is only asked of a lossless channel.
func TestC1_SpecValidate(t *testing.T) {
	ok := Spec{Name: "a.b", Type: 1, Slots: 2}
	for _, tc := range []struct {
		desc string
		edit func(s *Spec)
		ok   bool
	}{
		{"minimal", func(*Spec) {}, true},
		{"bad name", func(s *Spec) { s.Name = "ab" }, false},
		{"one slot", func(s *Spec) { s.Slots = 1 }, false},
		{"zero slots", func(s *Spec) { s.Slots = 0 }, false},
		{"16M slots", func(s *Spec) { s.Slots = 1 << 24 }, true},
		{"16M+1 slots", func(s *Spec) { s.Slots = 1<<24 + 1 }, false},
		{"negative replay", func(s *Spec) { s.Guarantee = Lossless; s.Replay = -1 }, false},
		{"lossless replay", func(s *Spec) { s.Guarantee = Lossless; s.Replay = 16 }, true},
		{"huge replay", func(s *Spec) { s.Guarantee = Lossless; s.Replay = 1<<24 + 1 }, false},
		{"lossy replay", func(s *Spec) { s.Replay = 16 }, false},
		{"fan-out lossy", func(s *Spec) { s.Mode = FanOut }, true},
	} {
		s := ok
		tc.edit(&s)
		err := s.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate(%+v) = %v, want ok=%v", tc.desc, s, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadSpec) {
			t.Errorf("%s: %v does not wrap ErrBadSpec", tc.desc, err)
		}
	}
}

// [C1] Zero slots default to DefaultSlots; other fields keep their values; the
// enum names are stable.
func TestC1_Defaults(t *testing.T) {
	s := Spec{Name: "a.b", Type: 3, Mode: FanOut, Guarantee: Lossless, Replay: 4}.WithDefaults()
	want := Spec{Name: "a.b", Type: 3, Mode: FanOut, Guarantee: Lossless, Slots: DefaultSlots, Replay: 4}
	if s != want {
		t.Errorf("WithDefaults = %+v, want %+v", s, want)
	}
	if s := (Spec{Slots: 5}).WithDefaults(); s.Slots != 5 {
		t.Errorf("WithDefaults changed Slots 5 to %d", s.Slots)
	}
	if NewRegistry(0).Max() != DefaultMax || NewRegistry(-1).Max() != DefaultMax || NewRegistry(3).Max() != 3 {
		t.Error("NewRegistry does not default max to DefaultMax")
	}
	for v, want := range map[fmt.Stringer]string{P2P: "p2p", FanOut: "fanout", Lossy: "lossy", Lossless: "lossless"} {
		if v.String() != want {
			t.Errorf("String() = %q, want %q", v.String(), want)
		}
	}
}

// [C1] Each subscriber queue holds Slots rounded up to a power of two: a
// lossless P2P channel takes exactly that many priority-0 tasks before
// CHAN_FULL.
func TestC1_CapacityIsPow2(t *testing.T) {
	for _, tc := range []struct{ slots, cap int }{{2, 2}, {3, 4}, {5, 8}, {8, 8}, {100, 128}, {1024, 1024}} {
		f := newFixture()
		c := f.open(t, Spec{Name: "cap.test", Type: msgType, Guarantee: Lossless, Slots: tc.slots})
		sub(t, c, 0)
		n := 0
		for ; n <= tc.cap; n++ {
			if st, _ := f.emit(c, 0, uint64(n)); st != task.OK {
				break
			}
		}
		if n != tc.cap {
			t.Errorf("slots %d: accepted %d tasks, want %d", tc.slots, n, tc.cap)
		}
		if c.Depth() != tc.cap {
			t.Errorf("slots %d: Depth = %d, want %d", tc.slots, c.Depth(), tc.cap)
		}
	}
}

// [C1] Open creates a channel with the next id (never 0); Get, Lookup and All
// find it; re-opening with the same spec returns the same channel.
func TestC1_RegistryOpenGetLookupAll(t *testing.T) {
	r := NewRegistry(testMax)
	names := []string{"b.one", "a.two", "c.three"}
	var chans []*Channel
	for i, name := range names {
		c, created, err := r.Open(Spec{Name: name, Type: uint32(i)})
		if err != nil || !created {
			t.Fatalf("Open(%s) = %v, created=%v", name, err, created)
		}
		if c.ID() != uint32(i+1) || c.Name() != name || c.Spec().Slots != DefaultSlots {
			t.Errorf("Open(%s) = %v, want id %d with default slots", name, c, i+1)
		}
		chans = append(chans, c)
	}
	for i, c := range chans {
		if r.Get(c.ID()) != c || r.Lookup(names[i]) != c {
			t.Errorf("Get/Lookup(%s) do not return the opened channel", names[i])
		}
	}
	if r.Get(0) != nil || r.Get(4) != nil || r.Get(1<<20) != nil || r.Lookup("x.y") != nil {
		t.Error("Get/Lookup of an unknown channel is not nil")
	}
	all := r.All()
	if len(all) != 3 || all[0] != chans[0] || all[1] != chans[1] || all[2] != chans[2] {
		t.Errorf("All = %v, want the channels in id order", all)
	}
	again, created, err := r.Open(Spec{Name: "a.two", Type: 1, Slots: 64})
	if err != nil || created || again != chans[1] {
		t.Errorf("re-Open = %v, %v, %v; want the existing channel", again, created, err)
	}
}

// [C1] Re-opening a name with another type, mode or guarantee fails with
// CHAN_TYPE_MISMATCH; an invalid spec fails with ErrBadSpec.
func TestC1_RegistryReopenMismatch(t *testing.T) {
	r := NewRegistry(testMax)
	base := Spec{Name: "orders.new", Type: 1, Mode: FanOut, Guarantee: Lossless}
	if _, _, err := r.Open(base); err != nil {
		t.Fatal(err)
	}
	for desc, edit := range map[string]func(s *Spec){
		"type":      func(s *Spec) { s.Type = 2 },
		"mode":      func(s *Spec) { s.Mode = P2P },
		"guarantee": func(s *Spec) { s.Guarantee = Lossy },
	} {
		s := base
		edit(&s)
		c, created, err := r.Open(s)
		if !errors.Is(err, task.ErrChanTypeMismatch) || c != nil || created {
			t.Errorf("re-Open with another %s = %v, %v, %v; want ErrChanTypeMismatch", desc, c, created, err)
		}
	}
	if _, _, err := r.Open(Spec{Name: "Bad"}); !errors.Is(err, ErrBadSpec) {
		t.Errorf("Open(bad name) = %v, want ErrBadSpec", err)
	}
	if len(r.All()) != 1 {
		t.Errorf("failed opens created channels: %v", r.All())
	}
}

// [C1] A registry holds at most max channels.
func TestC1_RegistryLimit(t *testing.T) {
	r := NewRegistry(2)
	for i := range 2 {
		if _, _, err := r.Open(Spec{Name: fmt.Sprintf("n.c%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := r.Open(Spec{Name: "n.c2"}); !errors.Is(err, ErrBadSpec) {
		t.Errorf("third Open = %v, want ErrBadSpec (limit)", err)
	}
	if _, created, err := r.Open(Spec{Name: "n.c0"}); err != nil || created {
		t.Errorf("re-Open at the limit = %v, %v; want the existing channel", created, err)
	}
}

// [C1] Concurrent Opens of one name agree on one channel, exactly one of them
// creates it, and the lock-free Get sees it (run with -race).
func TestC1_RegistryConcurrentOpen(t *testing.T) {
	r := NewRegistry(testMax)
	const n = 8
	var wg sync.WaitGroup
	got := make([]*Channel, n)
	created := make([]bool, n)
	for i := range n {
		wg.Go(func() {
			c, cr, err := r.Open(Spec{Name: "race.open", Type: 1})
			if err != nil {
				t.Error(err)
				return
			}
			got[i], created[i] = c, cr
			if r.Get(c.ID()) != c {
				t.Error("Get does not see an opened channel")
			}
		})
	}
	wg.Wait()
	nc := 0
	for i := range n {
		if got[i] != got[0] {
			t.Fatalf("Open %d returned another channel", i)
		}
		if created[i] {
			nc++
		}
	}
	if nc != 1 {
		t.Errorf("%d Opens report created, want 1", nc)
	}
}
