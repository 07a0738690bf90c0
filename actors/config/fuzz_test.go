package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// FuzzParse feeds the loader arbitrary input ([X4]): it never panics, every
// failure is an *Error naming the file, and a config that parses prints the
// same way twice and builds its modules without panicking. Seeded with the
// shipped example configs; `go test` runs the seeds, `go test -fuzz
// FuzzParse` explores.
func FuzzParse(f *testing.F) {
	for _, file := range exampleConfigs(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(valid))
	f.Add([]byte("supervisor: {name: r, strategy: one_for_all, backoff: {min: 1ms, max: 1ms}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := Parse("f.yaml", data)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "f.yaml" || ce.Line < 0 {
				t.Fatalf("error %v (%T) is not an *Error naming f.yaml", err, err)
			}
			return
		}
		var a, b bytes.Buffer
		tr.Print(&a)
		tr2, err := Parse("f.yaml", data)
		if err != nil {
			t.Fatalf("second parse failed: %v", err)
		}
		tr2.Print(&b)
		if a.String() != b.String() {
			t.Fatalf("Print differs between parses:\n%s\n%s", a.String(), b.String())
		}
		_, _ = tr.Modules()
		tr.Print(io.Discard)
	})
}
