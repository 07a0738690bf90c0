package errw

import (
	"bytes"
	"errors"
	"testing"
)

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

// TestKeepsFirstError: writes pass through until one fails; that error is
// kept and every later write is dropped.
func TestKeepsFirstError(t *testing.T) {
	var b bytes.Buffer
	w := New(&b)
	w.Printf("a=%d\n", 1)
	if w.Err != nil || b.String() != "a=1\n" {
		t.Fatalf("got %q, %v", b.String(), w.Err)
	}
	f := New(&failAfter{n: 1})
	f.Printf("one")
	f.Printf("two")
	if n, err := f.Write([]byte("three")); n != 0 || err == nil || err.Error() != "disk full" {
		t.Fatalf("after a failure: %d, %v", n, err)
	}
}
