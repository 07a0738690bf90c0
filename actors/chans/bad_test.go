package chans

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gmkernel/gmk/actors/wire"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/task"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// TestX3_BadInput: bad input gets a clear error back to its sender — the
// kernel status code and a text naming the task and the reason —, is
// counted as rejected, emits nothing and leaks no payload (the fixture
// checks the arena and the accounting).
func TestX3_BadInput(t *testing.T) {
	f := start(t, Config{MaxPayload: 64})
	batch := func(ts ...kernel.Task) *wire.TaskBatch {
		var b wire.TaskBatch
		for _, x := range ts {
			b.Append(x, make([]byte, x.PayloadLen))
		}
		return &b
	}
	ok := kernel.Task{Type: typeIn}
	cases := []struct {
		name   string
		to     string // channel actor; "" = the directory
		msg    any
		n      uint64 // tasks refused
		target error
		text   string
	}{
		{"unknown channel", "", &wire.Emit{Channel: "no.such", Batch: batch(ok, ok)}, 2, kernel.ErrChanUnknown, `"no.such"`},
		{"wrong type", "demo.in", &wire.Emit{Batch: batch(ok, kernel.Task{Type: typeOut})}, 2, kernel.ErrChanTypeMismatch, "task 1 of 2"},
		{"type beyond the kernel", "demo.in", []kernel.Task{{Type: 5000}}, 1, kernel.ErrChanTypeMismatch, "type 5000"},
		{"oversized payload", "demo.in", &wire.Emit{Batch: batch(ok, kernel.Task{Type: typeIn, PayloadLen: 65})}, 2, kernel.ErrAllocFail, "payload too large: 65 bytes, at most 64"},
		{"bad tenant", "demo.in", &wire.Emit{Batch: batch(kernel.Task{Type: typeIn, Tenant: 3})}, 1, kernel.ErrBadTenant, "tenant 3"},
		{"malformed batch", "demo.in", &wire.Emit{Batch: &wire.TaskBatch{Tasks: make([]byte, 50)}}, 1, task.ErrFail, "malformed task batch: 50 record bytes is not a multiple of 48"},
		{"other channel's emit", "demo.in", &wire.Emit{Channel: "demo.out", Batch: batch(ok)}, 1, kernel.ErrChanUnknown, "demo.out"},
		{"message without codec", "demo.in", wrapperspb.String("hi"), 1, kernel.ErrUnknownType, "no codec for the message: demo.in got a google.protobuf.StringValue"},
		{"emit on sys.error", kernel.SysError, &wire.Emit{Batch: batch(ok)}, 1, kernel.ErrChanTypeMismatch, "system channels take no emits"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.cs.Stats().Rejected
			to := f.cs.Directory()
			if tc.to != "" {
				to = f.pid(t, tc.to)
			}
			r := ask[*wire.EmitResult](t, f.sys, to, tc.msg)
			err := r.Err()
			if r.Accepted != 0 || !errors.Is(err, tc.target) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("answer %v: want %v mentioning %q", r, tc.target, tc.text)
			}
			if got := f.cs.Stats().Rejected - before; got != tc.n {
				t.Fatalf("rejected %d, want %d", got, tc.n)
			}
		})
	}
	if f.cs.Stats().Emitted != 0 || len(f.in) != 0 {
		t.Fatal("bad input reached the kernel")
	}
	r := ask[*wire.Subscribed](t, f.sys, f.cs.Directory(), &wire.Subscribe{Channel: "no.such"})
	if !errors.Is(r.Err(), kernel.ErrChanUnknown) {
		t.Fatalf("subscribe to an unknown channel: %v", r)
	}
	u := ask[*wire.Unsubscribed](t, f.sys, f.pid(t, "demo.out"), &wire.Unsubscribe{Subscriber: wire.NewPID(f.cs.Directory())})
	if !errors.Is(u.Err(), task.ErrFail) || !strings.Contains(u.Err().Error(), "not subscribed") {
		t.Fatalf("unsubscribe of a stranger: %v", u)
	}
}

var errAlreadyBound = kernel.ErrChanAlreadyBound

// TestX3_StartErrors: Start needs the relay module, runs once per kernel,
// and checks its configuration.
func TestX3_StartErrors(t *testing.T) {
	f := start(t, Config{})
	if _, err := Start(f.sys, f.k, Config{}); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
	bare, err := kernel.Boot(kernel.BootConfig{Workers: 1, ArenaSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bare.Halt(context.Background()) }()
	if _, err := Start(f.sys, bare, Config{}); !errors.Is(err, ErrNoModule) {
		t.Fatalf("Start without the module: %v", err)
	}
	if _, err := Start(f.sys, f.k, Config{Window: -1}); err == nil || !strings.Contains(err.Error(), "window") {
		t.Fatalf("bad config: %v", err)
	}
	if _, err := f.cs.PID("no.such"); !errors.Is(err, kernel.ErrChanUnknown) {
		t.Fatalf("PID of an unknown channel: %v", err)
	}
}
