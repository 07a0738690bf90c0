// Package errw is a writer that keeps the first write error, so code that
// prints a report line by line stays linear and checks once at the end.
// A Writer is used by one goroutine.
package errw

import (
	"fmt"
	"io"
)

// Writer wraps W; after the first failed write it drops every later write.
type Writer struct {
	W   io.Writer
	Err error // the first write error
}

// New returns a Writer over w.
func New(w io.Writer) *Writer { return &Writer{W: w} }

func (e *Writer) Write(p []byte) (int, error) {
	if e.Err != nil {
		return 0, e.Err
	}
	n, err := e.W.Write(p)
	e.Err = err
	return n, err
}

// Printf formats to the writer.
func (e *Writer) Printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
