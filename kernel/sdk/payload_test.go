package sdk_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"unsafe"

	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
)

type point struct {
	X, Y int32
	W    float64
	Tags [4]uint8
}

type withPointer struct {
	N int
	P *int
}

type withString struct{ S string }

// [U1] Typed payload access is checked against payload_len and the type's
// shape: the right type is a zero-copy view into the arena; another size,
// a type holding pointers, or an inline task is an error, never a bad read.
func TestU1_TypedPayloadChecked(t *testing.T) {
	const typ = 1
	type result struct {
		got              point
		viewErr, copyErr error
		wrongSize        error
		notPlain         error
		notPlainStr      error
		inline           error
		same             bool
	}
	out := make(chan result, 2)
	m := kernel.Module{Name: "typed", Handlers: []kernel.Handler{{Type: typ, Fn: func(c *kernel.Ctx) kernel.Status {
		var r result
		if c.Task().Meta0 == 1 { // inline
			_, r.inline = sdk.View[point](c)
			out <- r
			return kernel.OK
		}
		p, err := sdk.View[point](c)
		r.viewErr = err
		cp, err := sdk.Read[point](c)
		r.copyErr, r.got = err, cp
		if p != nil {
			r.same = unsafe.Pointer(p) == unsafe.Pointer(unsafe.SliceData(c.Payload()))
		}
		_, r.wrongSize = sdk.View[[4]uint64](c)
		_, r.notPlain = sdk.View[withPointer](c)
		_, r.notPlainStr = sdk.View[withString](c)
		out <- r
		return kernel.OK
	}}}, Channels: []kernel.ChanDecl{{Name: "typed.in", Dir: kernel.Consume, Type: typ, Guarantee: kernel.Lossless}}}
	k := boot(t, kernel.BootConfig{}, m)
	p, err := sdk.Dial(k, "typed.in")
	if err != nil {
		t.Fatal(err)
	}
	want := point{X: -3, Y: 7, W: 2.5, Tags: [4]uint8{1, 2, 3, 4}}
	if err := sdk.EmitValue(context.Background(), k, p, 0, 0, 0, &want); err != nil {
		t.Fatal(err)
	}
	if err := sdk.EmitInline(context.Background(), k, p, 0, 1, 0); err != nil {
		t.Fatal(err)
	}
	r := <-out
	if r.viewErr != nil || r.copyErr != nil || r.got != want || !r.same {
		t.Fatalf("view: %v, read: %v, got %+v (zero-copy %v), want %+v", r.viewErr, r.copyErr, r.got, r.same, want)
	}
	if !errors.Is(r.wrongSize, sdk.ErrPayloadSize) {
		t.Errorf("32-byte view of a %d-byte payload: %v, want ErrPayloadSize", unsafe.Sizeof(want), r.wrongSize)
	}
	if !errors.Is(r.notPlain, sdk.ErrNotPlain) || !errors.Is(r.notPlainStr, sdk.ErrNotPlain) {
		t.Errorf("pointer types: %v, %v, want ErrNotPlain", r.notPlain, r.notPlainStr)
	}
	if r = <-out; !errors.Is(r.inline, sdk.ErrNoPayload) {
		t.Errorf("inline task: %v, want ErrNoPayload", r.inline)
	}
}

// [U1] The shape rules in isolation: which types are plain, slices of
// values, and misaligned bytes.
func TestU1_PlainAndSlices(t *testing.T) {
	if !sdk.Plain[point]() || !sdk.Plain[[8]float32]() || !sdk.Plain[uint16]() {
		t.Error("plain types reported as not plain")
	}
	if sdk.Plain[withPointer]() || sdk.Plain[withString]() || sdk.Plain[[]int]() || sdk.Plain[struct{}]() ||
		sdk.Plain[map[int]int]() || sdk.Plain[any]() {
		t.Error("a type with pointers (or no size) reported as plain")
	}
	buf := make([]uint64, 5) // 8-byte aligned backing
	b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), 40)
	vs, err := sdk.SliceBytes[uint32](b)
	if err != nil || len(vs) != 10 {
		t.Fatalf("SliceBytes: %d values, %v", len(vs), err)
	}
	vs[9] = 0xDEADBEEF // a view: writes reach the bytes
	if buf[4]>>32 != 0xDEADBEEF {
		t.Fatalf("SliceBytes is not a view: %x", buf[4])
	}
	if _, err := sdk.SliceBytes[uint64](b[:12]); !errors.Is(err, sdk.ErrPayloadSize) {
		t.Errorf("12 bytes as uint64s: %v", err)
	}
	if _, err := sdk.ViewBytes[uint64](b[4:12]); !errors.Is(err, sdk.ErrAlign) {
		t.Errorf("misaligned view: %v", err)
	}
	var p point
	if err := sdk.Put(b[:24], &point{X: 9}); err != nil {
		t.Fatal(err)
	}
	if q, _ := sdk.ViewBytes[point](b[:24]); *q != (point{X: 9}) {
		t.Fatalf("Put/ViewBytes round trip: %+v", *q)
	}
	if err := sdk.Put(b[:16], &p); !errors.Is(err, sdk.ErrPayloadSize) {
		t.Errorf("Put into 16 bytes: %v", err)
	}
	// The timer request's payload is shared with the GPU module's C struct:
	// its size and field offsets are the ABI.
	var ts sdk.TimerSpec
	if unsafe.Sizeof(ts) != 32 || unsafe.Offsetof(ts.Delay) != 8 || unsafe.Offsetof(ts.Period) != 16 ||
		unsafe.Offsetof(ts.Chan) != 24 || unsafe.Offsetof(ts.Type) != 28 || !sdk.Plain[sdk.TimerSpec]() {
		t.Errorf("TimerSpec layout changed: size %d", unsafe.Sizeof(ts))
	}
}

// [U1] New allocates a zeroed typed payload even when the arena block was
// used before, and SendValue/Forward carry it on: a relay forwards the same
// arena block (zero-copy) and every payload is freed exactly once.
func TestU1_NewZeroedAndForwardZeroCopy(t *testing.T) {
	const tGen, tMid, tEnd = 1, 2, 3
	var mu sync.Mutex
	var got []point
	handles := map[uint64]bool{}
	var mid, end sdk.Port
	gen := kernel.Module{Name: "gen", Handlers: []kernel.Handler{{Type: tGen, Fn: func(c *kernel.Ctx) kernel.Status {
		h, b, err := c.Alloc(int(unsafe.Sizeof(point{}))) // dirty a block, then free it
		if err != nil {
			return kernel.Fail
		}
		for i := range b {
			b[i] = 0xFF
		}
		_ = c.Free(h)
		x, p, err := sdk.New[point](c, mid.Type)
		if err != nil {
			return kernel.Fail
		}
		p.X = int32(c.Task().Meta0)
		return sdk.Send(c, mid.Chan, x)
	}}}, Channels: []kernel.ChanDecl{{Name: "fw.mid", Dir: kernel.Produce, Type: tMid, Guarantee: kernel.Lossless}},
		Init: func(c *kernel.Ctx) (err error) { mid, err = sdk.Dial(c.Kernel(), "fw.mid"); return err }}
	relay := kernel.Module{Name: "relay", Handlers: []kernel.Handler{{Type: tMid, Fn: func(c *kernel.Ctx) kernel.Status {
		mu.Lock()
		handles[c.Task().Payload] = true
		mu.Unlock()
		return sdk.Forward(c, end)
	}}}, Channels: []kernel.ChanDecl{
		{Name: "fw.mid", Dir: kernel.Consume, Type: tMid, Guarantee: kernel.Lossless},
		{Name: "fw.end", Dir: kernel.Produce, Type: tEnd, Guarantee: kernel.Lossless}},
		Init: func(c *kernel.Ctx) (err error) { end, err = sdk.Dial(c.Kernel(), "fw.end"); return err }}
	sink := kernel.Module{Name: "sink", Handlers: []kernel.Handler{{Type: tEnd, Fn: func(c *kernel.Ctx) kernel.Status {
		p, err := sdk.View[point](c)
		if err != nil {
			return kernel.Fail
		}
		mu.Lock()
		defer mu.Unlock()
		if !handles[c.Task().Payload] {
			return kernel.FailCode(-2) // not the block the relay saw
		}
		got = append(got, *p)
		return kernel.OK
	}}}, Channels: []kernel.ChanDecl{{Name: "fw.end", Dir: kernel.Consume, Type: tEnd, Guarantee: kernel.Lossless}}}
	k := boot(t, kernel.BootConfig{}, gen, relay, sink)
	const n = 200
	for i := range n {
		submit(t, k, kernel.Task{Type: tGen, Meta0: uint64(i)})
	}
	r := halt(t, k)
	if r.Stats.Errored != 0 || len(got) != n {
		t.Fatalf("%d of %d arrived, %d errors", len(got), n, r.Stats.Errored)
	}
	seen := map[int32]bool{}
	for _, p := range got {
		if p.Y != 0 || p.W != 0 || p.Tags != [4]uint8{} || seen[p.X] {
			t.Fatalf("payload %+v not zeroed or duplicated", p)
		}
		seen[p.X] = true
	}
}
