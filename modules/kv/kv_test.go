package kv_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/kv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture boots kv with a reply sink and returns the request port and the
// reply address for correlation id corr.
type fixture struct {
	k       *kernel.Kernel
	req     sdk.Port
	replies sdk.Port
	sink    *modtest.Sink
	errs    *modtest.Sink
	kv      *kv.KV
}

func newFixture(t *testing.T, cfg kv.Config, replySlots int) *fixture {
	t.Helper()
	f := &fixture{sink: &modtest.Sink{}, errs: &modtest.Sink{}}
	var err error
	if f.kv, err = kv.New(cfg); err != nil {
		t.Fatal(err)
	}
	cfg = cfg.WithDefaults()
	f.k = modtest.Boot(t, kernel.BootConfig{}, f.kv.Module(),
		f.sink.Module("client", "client.replies", cfg.RespType, kernel.ChanSpec{Guarantee: kernel.Lossless, Slots: replySlots}),
		f.errs.Module("errors", kernel.SysError, 1, modtest.LossyFan))
	if f.req, err = sdk.Dial(f.k, cfg.Req); err != nil {
		t.Fatal(err)
	}
	if f.replies, err = sdk.Dial(f.k, "client.replies"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) send(t *testing.T, corr uint32, op sdk.KVOp, key, val string) {
	t.Helper()
	r := sdk.NewReplyTo(f.replies.Chan, corr)
	if corr == 0 {
		r = 0
	}
	if err := sdk.EmitKV(context.Background(), f.k, f.req, 0, r, op, []byte(key), []byte(val)); err != nil {
		t.Fatal(err)
	}
}

// [U2] kv's contract, request by request: put, get, overwrite, del, the
// failure codes as reply results, replies matched by correlation id, and a
// request without a reply address failing to sys.error with its code.
func TestU2_KVContract(t *testing.T) {
	f := newFixture(t, kv.Config{MaxKey: 8, MaxValue: 16, Entries: 2, Buckets: 4}, 0)
	steps := []struct {
		op       sdk.KVOp
		key, val string
		want     int64
		payload  string
	}{
		{sdk.KVGet, "a", "", int64(sdk.CodeNotFound), ""},
		{sdk.KVPut, "a", "alpha", 0, ""},
		{sdk.KVGet, "a", "", 5, "alpha"},
		{sdk.KVPut, "a", "ALPHA!", 0, ""}, // overwrite
		{sdk.KVGet, "a", "", 6, "ALPHA!"},
		{sdk.KVPut, "b", "", 0, ""}, // empty value
		{sdk.KVGet, "b", "", 0, ""},
		{sdk.KVPut, "c", "x", int64(sdk.CodeFull), ""}, // 2 entries
		{sdk.KVPut, "toolongkey", "x", int64(sdk.CodeKeyTooLong), ""},
		{sdk.KVPut, "d", strings.Repeat("v", 17), int64(sdk.CodeValTooLong), ""},
		{sdk.KVDel, "a", "", 0, ""},
		{sdk.KVDel, "a", "", int64(sdk.CodeNotFound), ""},
		{sdk.KVGet, "a", "", int64(sdk.CodeNotFound), ""},
		{sdk.KVPut, "c", "gamma", 0, ""}, // the freed entry is reused
		{sdk.KVGet, "c", "x", int64(sdk.CodeBadRequest), ""},
		{9, "c", "", int64(sdk.CodeBadRequest), ""},
	}
	for i, s := range steps {
		f.send(t, uint32(i+1), s.op, s.key, s.val)
	}
	recs := f.sink.Wait(t, len(steps))
	for i, s := range steps {
		r := recs[i]
		if got := sdk.ReplyOf(&r.Task).Corr(); got != uint32(i+1) {
			t.Fatalf("reply %d has corr %d (replies out of order)", i, got)
		}
		if got := sdk.Signed(r.Task.Meta1); got != s.want || string(r.Payload) != s.payload {
			t.Errorf("step %d %v %q: result %d payload %q, want %d %q", i, s.op, s.key, got, r.Payload, s.want, s.payload)
		}
	}
	if keys := f.kv.Store().Keys(); fmt.Sprint(keys) != "[b c]" {
		t.Errorf("keys %v, want [b c]", keys)
	}
	f.send(t, 0, sdk.KVDel, "zz", "") // no reply address: the failure is an error task
	errs := f.errs.Wait(t, 1)
	if errs[0].Code != sdk.CodeNotFound || errs[0].Task.Type != f.req.Type {
		t.Fatalf("sys.error got %+v code %v, want the request with CodeNotFound", errs[0].Task, errs[0].Code)
	}
}

// [U2] A reply that finds its channel full does not repeat the operation:
// dels answered through a 2-slot reply channel, whose reader pauses while
// they are sent (kv and the reader are homed on different workers, so no
// reply bypasses the full queue), each report OK exactly once
// per key and "not found" never shows up for a key that existed. (Replies
// that waited for room may be overtaken: requesters match by correlation.)
func TestU2_KVReplyBackpressureAppliesOnce(t *testing.T) {
	const n = 300
	f := newFixture(t, kv.Config{}, 2)
	for i := range n {
		if st := f.kv.Store().Put(fmt.Appendf(nil, "k%d", i), []byte("v")); st != kernel.OK {
			t.Fatal(st)
		}
	}
	if err := f.k.ChanPause(f.replies.Chan, 0, true); err != nil { // the client stops reading replies
		t.Fatal(err)
	}
	for i := range n {
		f.send(t, uint32(i+1), sdk.KVDel, fmt.Sprintf("k%d", i), "")
	}
	modtest.WaitFor(t, "a reply to meet the full channel", func() bool {
		cs, _ := f.k.ChanStats(f.replies.Chan)
		return cs.Full > 0
	})
	if err := f.k.ChanPause(f.replies.Chan, 0, false); err != nil {
		t.Fatal(err)
	}
	recs := f.sink.Wait(t, n)
	seen := map[uint32]bool{}
	for _, r := range recs {
		corr := sdk.ReplyOf(&r.Task).Corr()
		if sdk.Signed(r.Task.Meta1) != 0 || seen[corr] || corr < 1 || corr > n {
			t.Fatalf("reply for corr %d: result %d (seen before: %v)", corr, sdk.Signed(r.Task.Meta1), seen[corr])
		}
		seen[corr] = true
	}
	if f.kv.Store().Len() != 0 {
		t.Fatalf("%d keys left", f.kv.Store().Len())
	}
}

// [U2] The store against a reference map under random operations, with a
// small table so that chains, reuse and a full table all happen.
func TestU2_KVStoreMatchesMap(t *testing.T) {
	s := kv.NewStore(8, 32, 4, 8)
	ref := map[string]string{}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		key := fmt.Sprintf("%d", rng.IntN(48))
		switch rng.IntN(3) {
		case 0:
			val := strings.Repeat("x", rng.IntN(9))
			st := s.Put([]byte(key), []byte(val))
			_, had := ref[key]
			switch {
			case st == kernel.OK:
				ref[key] = val
			case st != sdk.CodeFull || had || len(ref) < 32:
				t.Fatalf("put %q: %v with %d keys", key, st, len(ref))
			}
		case 1:
			got, ok := s.Get([]byte(key), nil)
			if want, had := ref[key]; ok != had || string(got) != want {
				t.Fatalf("get %q: %q %v, want %q %v", key, got, ok, want, had)
			}
		default:
			st := s.Del([]byte(key))
			if _, had := ref[key]; (st == kernel.OK) != had {
				t.Fatalf("del %q: %v, had %v", key, st, had)
			}
			delete(ref, key)
		}
		if s.Len() != len(ref) {
			t.Fatalf("len %d, want %d", s.Len(), len(ref))
		}
	}
}
