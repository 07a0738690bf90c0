package nvme_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/nvme"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fixture struct {
	k                  *kernel.Kernel
	read, write        sdk.Port
	reads, writes, err *modtest.Sink
}

func newFixture(t *testing.T, cfg nvme.Config) *fixture {
	t.Helper()
	f := &fixture{reads: &modtest.Sink{}, writes: &modtest.Sink{}, err: &modtest.Sink{}}
	cfg.WriteResp = "disk.write.resp"
	f.k = modtest.Boot(t, kernel.BootConfig{Retry: kernel.RetryPolicy{Max: 1000}}, nvme.Module(cfg),
		f.reads.Module("reads", "disk.read.resp", nvme.DefaultReadRespType, modtest.Lossless),
		f.writes.Module("writes", "disk.write.resp", nvme.DefaultWriteRespType, modtest.Lossless),
		f.err.Module("errs", kernel.SysError, 1, modtest.LossyFan))
	var err error
	if f.read, err = sdk.Dial(f.k, "disk.read"); err != nil {
		t.Fatal(err)
	}
	if f.write, err = sdk.Dial(f.k, "disk.write"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) doRead(t *testing.T, tag, file uint32, off uint64, n int) {
	t.Helper()
	if err := sdk.EmitInline(context.Background(), f.k, f.read, 0, nvme.ReqMeta(tag, file), nvme.ReadMeta(off, n)); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) doWrite(t *testing.T, tag, file uint32, off uint64, b string) {
	t.Helper()
	if err := sdk.EmitBytes(context.Background(), f.k, f.write, 0, nvme.ReqMeta(tag, file), off, []byte(b)); err != nil {
		t.Fatal(err)
	}
}

// byTag indexes completions by their tag (they complete in any order).
func byTag(recs []modtest.Record) map[uint32]modtest.Record {
	m := map[uint32]modtest.Record{}
	for _, r := range recs {
		tag, _ := nvme.SplitReq(r.Task.Meta0)
		m[tag] = r
	}
	return m
}

// [U2] nvme's contract on a real file: writes complete with their byte
// counts, reads return the bytes at their offsets (short at the end of the
// file, empty past it), completions echo the request's meta0, and the file
// on disk holds what was written.
func TestU2_NvmeReadWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "disk0")
	f := newFixture(t, nvme.Config{Files: []nvme.File{{Path: path}}})
	f.doWrite(t, 1, 0, 0, "hello, ")
	f.doWrite(t, 2, 0, 7, "world")
	w := byTag(f.writes.Wait(t, 2))
	if sdk.Signed(w[1].Task.Meta1) != 7 || sdk.Signed(w[2].Task.Meta1) != 5 {
		t.Fatalf("write results %d, %d", sdk.Signed(w[1].Task.Meta1), sdk.Signed(w[2].Task.Meta1))
	}
	f.doRead(t, 10, 0, 7, 5)
	f.doRead(t, 11, 0, 0, 100) // short: the file has 12 bytes
	f.doRead(t, 12, 0, 50, 10) // past the end
	r := byTag(f.reads.Wait(t, 3))
	for tag, want := range map[uint32]string{10: "world", 11: "hello, world", 12: ""} {
		got := r[tag]
		if sdk.Signed(got.Task.Meta1) != int64(len(want)) || string(got.Payload) != want || got.Task.Meta0 != nvme.ReqMeta(tag, 0) {
			t.Errorf("read %d: result %d payload %q meta0 %x, want %q", tag, sdk.Signed(got.Task.Meta1), got.Payload, got.Task.Meta0, want)
		}
	}
	modtest.Halt(t, f.k) // Fini closes the file
	if b, err := os.ReadFile(path); err != nil || string(b) != "hello, world" {
		t.Fatalf("file holds %q, %v", b, err)
	}
	if f.err.Len() != 0 {
		t.Fatalf("errors: %+v", f.err.Records())
	}
}

// [U2] Errors are tasks: a write to a read-only file and to a full device
// (/dev/full), a read of a missing file, a request for an unknown file id
// and a bad length each end as an error task with its code, and the kernel
// keeps serving the good file.
func TestU2_NvmeErrorsAreTasks(t *testing.T) {
	dir := t.TempDir()
	good, ro := filepath.Join(dir, "good"), filepath.Join(dir, "ro")
	if err := os.WriteFile(ro, []byte("read only"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []nvme.File{{Path: good}, {Path: ro, ReadOnly: true}, {Path: filepath.Join(dir, "missing"), ReadOnly: true}}
	full := false
	if fi, err := os.Stat("/dev/full"); err == nil && fi.Mode()&os.ModeDevice != 0 {
		files, full = append(files, nvme.File{Path: "/dev/full"}), true
	} else {
		t.Log("no /dev/full: the full-target case is skipped")
	}
	f := newFixture(t, nvme.Config{Files: files})
	f.doWrite(t, 1, 1, 0, "nope") // read-only
	f.doRead(t, 2, 2, 0, 4)       // missing file
	f.doRead(t, 3, 9, 0, 4)       // unknown file id: the request itself fails
	f.doRead(t, 4, 0, 0, 0)       // bad length: the request itself fails
	f.doRead(t, 5, 1, 0, 9)       // the read-only file reads fine
	nerr, nwrites := 4, 1
	if full {
		f.doWrite(t, 6, 3, 0, "too much")
		nerr, nwrites = 5, 2
	}
	errs := f.err.Wait(t, nerr)
	got := map[uint32]kernel.Status{}
	for _, e := range errs {
		tag, _ := nvme.SplitReq(e.Task.Meta0)
		got[tag] = e.Code
		if e.Task.Type == nvme.DefaultErrType {
			if _, st := nvme.SplitErr(e.Task.Meta1); st != e.Code {
				t.Errorf("error task %d: meta1 code %v, report code %v", tag, st, e.Code)
			}
		}
	}
	want := map[uint32]kernel.Status{1: sdk.CodeReadOnly, 2: sdk.CodeNoFile, 3: sdk.CodeNoFile, 4: sdk.CodeBadRequest}
	if full {
		want[6] = sdk.CodeNoSpace
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("error codes by tag %v, want %v", got, want)
	}
	w := byTag(f.writes.Wait(t, nwrites))
	if sdk.Signed(w[1].Task.Meta1) != int64(sdk.CodeReadOnly) || full && sdk.Signed(w[6].Task.Meta1) != int64(sdk.CodeNoSpace) {
		t.Fatalf("write completions carry %d, %d", sdk.Signed(w[1].Task.Meta1), sdk.Signed(w[6].Task.Meta1))
	}
	r := byTag(f.reads.Wait(t, 2))
	if sdk.Signed(r[2].Task.Meta1) != int64(sdk.CodeNoFile) || string(r[5].Payload) != "read only" {
		t.Fatalf("reads: missing %d, read-only %q", sdk.Signed(r[2].Task.Meta1), r[5].Payload)
	}
	f.doWrite(t, 7, 0, 0, "still fine") // the kernel and the module still serve
	f.writes.Wait(t, nwrites+1)         // requests complete in any order: read after the write completed
	f.doRead(t, 8, 0, 0, 10)
	if r := byTag(f.reads.Wait(t, 3)); string(r[8].Payload) != "still fine" {
		t.Fatalf("read after errors: %q", r[8].Payload)
	}
}

// [U2] Asynchronous I/O under load: many writes of distinct blocks through
// a 4-request queue and 2 I/O goroutines (requests retry while the queue is
// full), then reads of every block, all byte-exact; no payload is left live.
func TestU2_NvmeManyRequests(t *testing.T) {
	const n, size = 200, 512
	path := filepath.Join(t.TempDir(), "disk")
	f := newFixture(t, nvme.Config{Files: []nvme.File{{Path: path}}, Queue: 4, Workers: 2})
	block := func(i int) string { return string(bytes.Repeat([]byte{byte('A' + i%26)}, size)) }
	for i := range n {
		f.doWrite(t, uint32(i), 0, uint64(i*size), block(i))
	}
	for tag, w := range byTag(f.writes.Wait(t, n)) {
		if sdk.Signed(w.Task.Meta1) != size {
			t.Fatalf("write %d: %d", tag, sdk.Signed(w.Task.Meta1))
		}
	}
	for i := range n {
		f.doRead(t, uint32(i), 0, uint64(i*size), size)
	}
	for tag, r := range byTag(f.reads.Wait(t, n)) {
		if string(r.Payload) != block(int(tag)) {
			t.Fatalf("block %d: %q…", tag, r.Payload[:8])
		}
	}
	if s := f.k.Stats(); s.Retried == 0 {
		t.Log("the queue never filled: no request retried") // scheduling-dependent; the counts above are the test
	}
}
