// Command tree boots GMK's example pipeline from a YAML supervision tree
// ([X4]) and runs it under supervision ([X1], [X2]):
//
//	producer ──ingest.raw──▶ transform ──store.put──▶ store
//	                             │ bad records, after their retries
//	                             ▼
//	                         sys.error ──▶ errors
//
// It prints the configured tree, the live actor tree, then pushes records
// through the pipeline. transform rejects one record in reject_every (a FAIL
// code: the supervisor resumes, the record is retried until its type's
// retry limit and then reported on sys.error) and crashes once, on record
// crash_at (a panic: its supervisor, rest_for_one, restarts transform and
// store after it, and the record is retried). At the end it prints what
// happened and checks that no record was lost.
//
//	go run ./examples/tree [-config examples/configs/pipeline.yaml] [-n 100000]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gmkernel/gmk/actors"
)

func main() {
	path := flag.String("config", "examples/configs/pipeline.yaml", "the supervision tree to boot")
	n := flag.Int("n", 100_000, "records to push through the pipeline")
	flag.Parse()
	if err := run(os.Stdout, *path, *n); err != nil {
		fmt.Fprintln(os.Stderr, "tree:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, path string, n int) error {
	resetCounts() // a second run in one process (go test -count=2) counts afresh
	node, err := actors.BootFile(nil, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "configuration (%s):\n", path)
	node.Tree().Print(indent{out})
	fmt.Fprintln(out, "actors:")
	node.WriteTree(indent{out})
	k := node.Kernel()
	start := time.Now()
	if err := produce(k, n); err != nil {
		_ = node.Halt(context.Background())
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := node.Halt(ctx); err != nil {
		return err
	}
	return summary(out, k, n, time.Since(start))
}

// indent writes every line two spaces in.
type indent struct{ w io.Writer }

func (i indent) Write(p []byte) (int, error) {
	start := 0
	for j, b := range p {
		if b == '\n' {
			if _, err := fmt.Fprintf(i.w, "  %s\n", p[start:j]); err != nil {
				return 0, err
			}
			start = j + 1
		}
	}
	if start < len(p) {
		if _, err := fmt.Fprintf(i.w, "  %s", p[start:]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
