package supervise

import (
	"errors"
	"testing"
	"testing/quick"
	"time"
)

// TestX2_BackoffExponentialWithinBounds: without jitter the delays are
// Min·2ⁿ up to Max; with any jitter draw they stay within [Min, Max].
func TestX2_BackoffExponentialWithinBounds(t *testing.T) {
	b := Backoff{Min: 10 * time.Millisecond, Max: time.Second, Factor: 0.5}
	want := []time.Duration{10, 20, 40, 80, 160, 320, 640, 1000, 1000}
	for n, w := range want {
		if got := b.Delay(n, 0); got != w*time.Millisecond {
			t.Errorf("Delay(%d, 0) = %v, want %v", n, got, w*time.Millisecond)
		}
	}
	// Akka would give min(max, ...)·(1+u·f) = 1.5 s here; GMK caps at Max.
	if got := b.Delay(20, 0.999); got != b.Max {
		t.Errorf("jitter above the cap: %v, want %v", got, b.Max)
	}
	if got := b.Delay(1, 0.5); got != 25*time.Millisecond {
		t.Errorf("Delay(1, 0.5) = %v, want 25ms", got)
	}
	within := func(n uint8, u16 uint16) bool {
		d := b.Delay(int(n), float64(u16)/65536)
		return d >= b.Min && d <= b.Max
	}
	if err := quick.Check(within, nil); err != nil {
		t.Error(err)
	}
	huge := Backoff{Min: 1, Max: 1<<63 - 1, Factor: 10}
	if d := huge.Delay(200, 0.99); d < huge.Min || d > huge.Max {
		t.Errorf("overflow: %v", d)
	}
}

// TestX2_BackoffResetAfterQuiet: the count of restarts in a row grows while
// failures come quickly and resets once the child ran the quiet period
// (default Min) after its restart. Time is injected.
func TestX2_BackoffResetAfterQuiet(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	var s BackoffState
	now := t0
	for n, want := range []time.Duration{100, 200, 400, 800} {
		d, ok := s.Next(b, now, 0)
		if !ok || d != want*time.Millisecond {
			t.Fatalf("failure %d: %v %v, want %v", n, d, ok, want*time.Millisecond)
		}
		now = now.Add(d + b.Min - 1) // restarted after d, failed just inside the quiet period
	}
	if s.InARow() != 4 {
		t.Fatalf("in a row = %d", s.InARow())
	}
	now = now.Add(1) // now exactly Min after the last restart
	if d, _ := s.Next(b, now, 0); d != b.Min || s.InARow() != 1 {
		t.Fatalf("after the quiet period: %v, row %d", d, s.InARow())
	}
	b.Reset = time.Minute // an explicit quiet period
	now = now.Add(b.Min + 30*time.Second)
	if d, _ := s.Next(b, now, 0); d != 2*b.Min {
		t.Fatalf("within explicit reset: %v", d)
	}
}

// TestX2_BackoffMaxRestarts: MaxRestarts in a row, then the child stops.
func TestX2_BackoffMaxRestarts(t *testing.T) {
	b := Backoff{Min: time.Millisecond, Max: time.Second, MaxRestarts: 3}
	var s BackoffState
	for i := 0; i < 3; i++ {
		if _, ok := s.Next(b, t0, 0); !ok {
			t.Fatalf("restart %d refused", i+1)
		}
	}
	if _, ok := s.Next(b, t0, 0); ok {
		t.Fatal("restart 4 in a row allowed with MaxRestarts 3")
	}
	if _, ok := s.Next(b, t0.Add(time.Hour), 0); !ok {
		t.Fatal("a new row after the quiet period was refused")
	}
}

func TestBackoffValidate(t *testing.T) {
	bad := []Backoff{{}, {Min: 2, Max: 1}, {Min: 1, Max: 1, Factor: -1}, {Min: 1, Max: 1, Reset: -1}, {Min: 1, Max: 1, MaxRestarts: -1}}
	for _, b := range bad {
		if err := b.Validate(); !errors.Is(err, ErrBadBackoff) {
			t.Errorf("%+v: %v", b, err)
		}
	}
	if err := (Backoff{Min: 1, Max: 1}).Validate(); err != nil {
		t.Error(err)
	}
}
