package types_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gmkernel/gmk/gpu/gpumod"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/modules/echo"
	"github.com/gmkernel/gmk/modules/gate"
	"github.com/gmkernel/gmk/modules/kv"
	"github.com/gmkernel/gmk/modules/log"
	"github.com/gmkernel/gmk/modules/nic"
	"github.com/gmkernel/gmk/modules/nvme"
	"github.com/gmkernel/gmk/modules/reduce"
	"github.com/gmkernel/gmk/modules/stats"
	"github.com/gmkernel/gmk/modules/timer"
	"github.com/gmkernel/gmk/types"
)

// [U3] types.toml is the single source: every type constant the Go
// packages define today equals the generated constant of the same type.
// (cmd/gmk-gpu-bench's spin constants live in package main and the CUDA
// modules' defines in .cuh files: internal/types checks those.)
func TestU3_PackageConstantsMatchTypesToml(t *testing.T) {
	for _, c := range []struct {
		what      string
		got, want uint32
	}{
		{"echo.DefaultInType", echo.DefaultInType, types.EchoIn},
		{"echo.DefaultOutType", echo.DefaultOutType, types.EchoOut},
		{"kv.DefaultReqType", kv.DefaultReqType, types.KVReq},
		{"kv.DefaultRespType", kv.DefaultRespType, types.KVResp},
		{"log.DefaultRecType", log.DefaultRecType, types.LogRec},
		{"timer.DefaultSetType", timer.DefaultSetType, types.TimerSet},
		{"timer.DefaultCancelType", timer.DefaultCancelType, types.TimerCancel},
		{"timer.DefaultFireType", timer.DefaultFireType, types.TimerFire},
		{"timer.DefaultTickType", timer.DefaultTickType, types.TimerTick},
		{"gate.DefaultArriveType", gate.DefaultArriveType, types.GateArrive},
		{"gate.DefaultOpenType", gate.DefaultOpenType, types.GateOpen},
		{"reduce.DefaultInType", reduce.DefaultInType, types.ReduceIn},
		{"reduce.DefaultOutType", reduce.DefaultOutType, types.ReduceOut},
		{"stats.DefaultInType", stats.DefaultInType, types.StatsIn},
		{"nic.DefaultRxType", nic.DefaultRxType, types.NetRx},
		{"nic.DefaultTxType", nic.DefaultTxType, types.NetTx},
		{"nvme.DefaultReadType", nvme.DefaultReadType, types.DiskRead},
		{"nvme.DefaultWriteType", nvme.DefaultWriteType, types.DiskWrite},
		{"nvme.DefaultReadRespType", nvme.DefaultReadRespType, types.DiskReadResp},
		{"nvme.DefaultWriteRespType", nvme.DefaultWriteRespType, types.DiskWriteResp},
		{"nvme.DefaultErrType", nvme.DefaultErrType, types.DiskErr},
		{"gpumod.XformInType", gpumod.XformInType, types.XformIn},
		{"gpumod.XformOutType", gpumod.XformOutType, types.XformOut},
		{"gpumod.ChecksumInType", gpumod.ChecksumInType, types.ChecksumIn},
		{"gpumod.ChecksumOutType", gpumod.ChecksumOutType, types.ChecksumOut},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, types.toml says %d", c.what, c.got, c.want)
		}
	}
	if got, want := uint32(nvme.MaxIO), mustLookup(t, types.DiskReadResp).MaxPayload; got > want {
		t.Errorf("nvme.MaxIO %d above disk.read.resp's max_payload %d", got, want)
	}
	if got, want := uint32(kv.DefaultMaxKey+kv.DefaultMaxValue), mustLookup(t, types.KVReq).MaxPayload; got != want {
		t.Errorf("kv's default key+value %d, kv.req's max_payload %d", got, want)
	}
}

func mustLookup(t *testing.T, id uint32) types.Type {
	t.Helper()
	ty, ok := types.Default.Lookup(id)
	if !ok {
		t.Fatalf("type %d not in Default", id)
	}
	return ty
}

// [U3] The generated payload struct has the layout of the struct the SDK
// sends (sdk.TimerSpec), and the registry's field offsets are the Go ones.
func TestU3_TimerSpecLayout(t *testing.T) {
	gen, sdkT := reflect.TypeFor[types.TimerSpec](), reflect.TypeFor[sdk.TimerSpec]()
	if gen.Size() != sdkT.Size() || gen.NumField() != sdkT.NumField() {
		t.Fatalf("types.TimerSpec %d bytes, %d fields; sdk.TimerSpec %d, %d", gen.Size(), gen.NumField(), sdkT.Size(), sdkT.NumField())
	}
	ty := mustLookup(t, types.TimerSet)
	if ty.Payload != types.Struct || int(ty.MaxPayload) != int(gen.Size()) || len(ty.Fields) != gen.NumField() {
		t.Fatalf("timer.set: %+v", ty)
	}
	for i := range gen.NumField() {
		g, s := gen.Field(i), sdkT.Field(i)
		if g.Name != s.Name || g.Type != s.Type || g.Offset != s.Offset || int(g.Offset) != ty.Fields[i].Offset {
			t.Errorf("field %d: types %s %s @%d, sdk %s %s @%d, registry %+v", i, g.Name, g.Type, g.Offset, s.Name, s.Type, s.Offset, ty.Fields[i])
		}
	}
}

// [U3] The standard modules, as their defaults configure them, satisfy the
// policies of types.toml: no unknown type, no lossless type on a lossy
// channel.
func TestU3_StandardModulesPassCheck(t *testing.T) {
	mods := []kernel.Module{
		echo.Module(echo.Config{}), kv.Module(kv.Config{}), log.Module(log.Config{}),
		timer.Module(timer.Config{}), gate.Module(gate.Config{}), reduce.Module(reduce.Config{}),
		stats.Module(stats.Config{}), nic.Module(nic.Config{}), nvme.Module(nvme.Config{}),
	}
	if err := types.Check(mods...); err != nil {
		t.Fatal(err)
	}
}

func nop(*kernel.Ctx) kernel.Status { return kernel.OK }

// [U3] Check reports every violation, each with a sentinel and a message
// naming the module, the handler or channel and the type.
func TestU3_CheckViolations(t *testing.T) {
	reg, err := types.NewRegistry(
		types.Type{ID: 10, Name: "det.in", Module: "m", Deterministic: true, Lossless: true},
		types.Type{ID: 11, Name: "loose", Module: "m"},
	)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		mod  kernel.Module
		want []error
		msg  string
	}{
		{"ok", kernel.Module{Name: "a",
			Handlers: []kernel.Handler{{Type: 10, Name: "h", Fn: nop, Flags: kernel.DetHandler}, {Type: kernel.AnyType, Name: "all", Fn: nop}},
			Channels: []kernel.ChanDecl{{Name: "a.in", Dir: kernel.Consume, Type: 10, Guarantee: kernel.Lossless}, {Name: "a.any", Type: kernel.AnyType}}},
			nil, ""},
		{"unknown handler type", kernel.Module{Name: "b", Handlers: []kernel.Handler{{Type: 12, Name: "h", Fn: nop}}},
			[]error{types.ErrUnknownType}, "module b: handler h: type 12"},
		{"unknown channel type", kernel.Module{Name: "c", Channels: []kernel.ChanDecl{{Name: "c.out", Type: 13}}},
			[]error{types.ErrUnknownType}, "module c: channel c.out: type 13"},
		{"deterministic type, plain handler", kernel.Module{Name: "d", Handlers: []kernel.Handler{{Type: 10, Name: "h", Fn: nop}}},
			[]error{types.ErrPolicy, kernel.ErrNotDeterministic}, "type 10 (det.in) is deterministic"},
		{"lossless type, lossy channel", kernel.Module{Name: "e", Channels: []kernel.ChanDecl{{Name: "e.out", Type: 10, Guarantee: kernel.Lossy}}},
			[]error{types.ErrPolicy}, "channel e.out is declared lossy, but type 10 (det.in) is lossless"},
		{"lossy type, lossy channel", kernel.Module{Name: "f", Channels: []kernel.ChanDecl{{Name: "f.out", Type: 11, Guarantee: kernel.Lossy}}},
			nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := reg.Check(c.mod)
			if (err == nil) != (c.want == nil) {
				t.Fatalf("Check = %v", err)
			}
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("Check = %v, want it to wrap %v", err, w)
				}
			}
			if err != nil && !strings.Contains(err.Error(), c.msg) {
				t.Errorf("Check = %q, want it to say %q", err, c.msg)
			}
		})
	}
	// Every violation of every module, not the first one only.
	err = reg.Check(cases[1].mod, cases[3].mod, cases[4].mod)
	if n := len(strings.Split(err.Error(), "\n")); n != 3 {
		t.Errorf("Check of three bad modules reported %d errors: %v", n, err)
	}
}

// [U3] A policy violation fails boot with a clear message: the registry's
// TypeInfos handed to kernel.Boot make the kernel itself refuse a
// deterministic type's plain handler, as Check does beforehand.
func TestU3_PolicyViolationFailsBoot(t *testing.T) {
	reg, err := types.NewRegistry(types.Type{ID: 10, Name: "det.in", Module: "m", Deterministic: true, Lossless: true})
	if err != nil {
		t.Fatal(err)
	}
	m := kernel.Module{Name: "m", Handlers: []kernel.Handler{{Type: 10, Name: "h", Fn: nop}}}
	if err := reg.Check(m); !errors.Is(err, kernel.ErrNotDeterministic) {
		t.Fatalf("Check = %v", err)
	}
	k, err := kernel.Boot(kernel.BootConfig{Workers: 1, ArenaSize: 1 << 20, Types: reg.TypeInfos(1024)}, m)
	if err == nil {
		k.Halt(t.Context())
		t.Fatal("boot accepted a deterministic type with a plain handler")
	}
	if !errors.Is(err, kernel.ErrNotDeterministic) || !strings.Contains(err.Error(), "type 10 is deterministic") {
		t.Fatalf("boot: %v", err)
	}
}

// [U3] CheckPayload holds payloads to their type's schema.
func TestU3_CheckPayload(t *testing.T) {
	for _, c := range []struct {
		id   uint32
		n    int
		want error
	}{
		{types.EchoIn, 0, nil},
		{types.EchoIn, 128 << 10, nil},
		{types.EchoIn, 128<<10 + 1, types.ErrPayload},
		{types.KVReq, 321, types.ErrPayload},
		{types.TimerSet, 32, nil},
		{types.TimerSet, 31, types.ErrPayload},
		{types.TimerCancel, 0, nil},
		{types.TimerCancel, 8, types.ErrPayload},
		{5, 0, types.ErrUnknownType},
	} {
		if err := types.Default.CheckPayload(c.id, c.n); !errors.Is(err, c.want) || (err == nil) != (c.want == nil) {
			t.Errorf("CheckPayload(%d, %d) = %v, want %v", c.id, c.n, err, c.want)
		}
	}
}

// NewRegistry refuses duplicate ids and names and inline types with a
// payload.
func TestU3_NewRegistryErrors(t *testing.T) {
	for _, ts := range [][]types.Type{
		{{ID: 1, Name: "a"}, {ID: 1, Name: "b"}},
		{{ID: 1, Name: "a"}, {ID: 2, Name: "a"}},
		{{ID: 1, Name: "a", Payload: types.Inline, MaxPayload: 8}},
		{{ID: 1, Name: "a", Payload: types.Bytes, MaxPayload: 1 << 20}},
		{{ID: 0, Name: "a"}},
	} {
		if _, err := types.NewRegistry(ts...); !errors.Is(err, types.ErrRegistry) {
			t.Errorf("NewRegistry(%+v) = %v", ts, err)
		}
	}
}

// TestU3_BootEnforcesTheRegistry: a kernel booted with Default.Enforce
// refuses a module whose handler type types.toml does not know (before
// anything boots), and boots the standard echo module, which it does.
func TestU3_BootEnforcesTheRegistry(t *testing.T) {
	cfg := types.Default.Enforce(kernel.BootConfig{Workers: 1, ArenaSize: 4 << 20})
	bad := kernel.Module{Name: "stray", Handlers: []kernel.Handler{{Type: 1023, Fn: func(*kernel.Ctx) kernel.Status { return kernel.OK }}}}
	if k, err := kernel.Boot(cfg, bad); err == nil || !errors.Is(err, kernel.ErrConfig) || !errors.Is(err, types.ErrUnknownType) {
		if k != nil {
			k.Halt(context.Background())
		}
		t.Fatalf("boot with a type types.toml does not declare: %v, want ErrConfig wrapping ErrUnknownType", err)
	}
	k, err := kernel.Boot(cfg, echo.Module(echo.Config{}))
	if err != nil {
		t.Fatalf("boot with the standard echo module: %v", err)
	}
	if err := k.Halt(context.Background()); err != nil {
		t.Fatal(err)
	}
}
