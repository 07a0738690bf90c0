package kbuild

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestG4_BuildFixture builds a kernel with SCALAR, WARP and BLOCK handlers:
// the outputs are written, the report names every handler with measured
// registers, and nothing spills.
func TestG4_BuildFixture(t *testing.T) {
	tc := needToolkit(t)
	t.Parallel()
	tree := fixtureTree(t, "fxecho", "fxblock", "fxheavy")
	opt := fixtureOptions(t, tc, tree)
	opt.Archs = []string{"sm_90", "sm_80"}
	var steps []string
	opt.Progress = func(step, total int, what string) { steps = append(steps, what) }
	res, err := Build(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	var rep bytes.Buffer
	if err := res.WriteReport(&rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", rep.String())
	if len(steps) != 3+len(opt.Archs) {
		t.Errorf("progress steps %q, want %d", steps, 3+len(opt.Archs))
	}
	for _, fn := range []string{"fx_echo", "fx_warp", "fx_block", "fx_heavy"} {
		h := handlerReport(t, res, fn)
		if h.Probe.Registers <= 0 || h.Probe.Instructions <= 0 || h.Probe.LocalMemory() {
			t.Errorf("%s: probe %+v: want registers and instructions, no local memory", fn, h.Probe)
		}
		if !strings.Contains(rep.String(), fn) {
			t.Errorf("report does not name %s", fn)
		}
	}
	for _, arch := range opt.Archs {
		ptx, err := os.ReadFile(filepath.Join(opt.Out, PTXFile(arch)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(ptx, []byte(".entry fx_worker")) || !bytes.Contains(ptx, []byte(".target "+arch)) {
			t.Errorf("%s: PTX has no fx_worker entry for %s", PTXFile(arch), arch)
		}
	}
	gen, err := os.ReadFile(filepath.Join(tree, "gen", "gmk_dispatch.cuh"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(gen, []byte("#define GMK_MAX_SHARED 1024")) {
		t.Errorf("dispatch header does not size shared memory for fx_block:\n%s", gen)
	}
	// A second build of the same sources, checked against the first, is clean.
	opt.Check, opt.Progress = true, nil
	if _, err := Build(context.Background(), opt); err != nil {
		t.Fatalf("check after build: %v", err)
	}
}

// TestG4_PlantedSpillFailsBuild is acceptance item 2's failure path: a
// handler whose local array lives in local memory fails the build with a
// message naming it, writes nothing, and --allow-spills turns it into a
// warning.
func TestG4_PlantedSpillFailsBuild(t *testing.T) {
	tc := needToolkit(t)
	t.Parallel()
	tree := fixtureTree(t, "fxecho", "fxstack")
	opt := fixtureOptions(t, tc, tree)
	res, err := Build(context.Background(), opt)
	if !errors.Is(err, ErrLocalMemory) {
		t.Fatalf("err = %v, want ErrLocalMemory", err)
	}
	if !strings.Contains(err.Error(), "handler fx_stack (type 9005, module fxstack)") {
		t.Errorf("error does not name the handler:\n%v", err)
	}
	if strings.Contains(err.Error(), "handler fx_echo") {
		t.Errorf("error blames fx_echo too:\n%v", err)
	}
	if res == nil || handlerReport(t, res, "fx_stack").Probe.StackFrame == 0 {
		t.Fatalf("report shows no stack frame for fx_stack")
	}
	if _, err := os.Stat(filepath.Join(opt.Out, PTXFile("sm_90"))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed build wrote PTX (stat: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(tree, "gen")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed build wrote the dispatch header (stat: %v)", err)
	}

	opt.AllowSpills = true
	res, err = Build(context.Background(), opt)
	if err != nil {
		t.Fatalf("with AllowSpills: %v", err)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "handler fx_stack") {
		t.Errorf("warnings %q do not name fx_stack", res.Warnings)
	}
}

// TestG4_RegisterSpillFailsBuild: under a low register cap the heavy
// handler spills registers (not a stack array), and the build names it.
func TestG4_RegisterSpillFailsBuild(t *testing.T) {
	tc := needToolkit(t)
	t.Parallel()
	tree := fixtureTree(t, "fxecho", "fxheavy")
	opt := fixtureOptions(t, tc, tree)
	opt.MaxRegCount = 24
	res, err := Build(context.Background(), opt)
	if !errors.Is(err, ErrLocalMemory) {
		t.Fatalf("err = %v, want ErrLocalMemory", err)
	}
	if !strings.Contains(err.Error(), "handler fx_heavy") {
		t.Errorf("error does not name fx_heavy:\n%v", err)
	}
	if p := handlerReport(t, res, "fx_heavy").Probe; p.SpillStores == 0 {
		t.Errorf("fx_heavy probe %+v: want spill stores", p)
	}
}

// TestG4_InlineRegLimitFlips: --inline-reg-limit decides __forceinline__
// against __noinline__ by the handler's measured register count (Place's
// boundary itself is TestG4_PlaceThreshold), and the decision reaches the
// compiled kernel.
func TestG4_InlineRegLimitFlips(t *testing.T) {
	tc := needToolkit(t)
	t.Parallel()
	tree := fixtureTree(t, "fxecho", "fxheavy")
	opt := fixtureOptions(t, tc, tree)
	opt.ReportOnly = true
	res, err := Build(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	heavy := handlerReport(t, res, "fx_heavy")
	if heavy.Registers <= DefaultInlineRegLimit || heavy.Inline {
		t.Fatalf("fx_heavy: %d registers, inline %v: the fixture must exceed the default limit %d and be __noinline__",
			heavy.Registers, heavy.Inline, DefaultInlineRegLimit)
	}
	if echo := handlerReport(t, res, "fx_echo"); !echo.Inline {
		t.Errorf("fx_echo (%d registers) is not inlined under the default limit", echo.Registers)
	}
	if !bytes.Contains(res.Outputs[0].Data, []byte("#define GMK_ATTR_fx_heavy __noinline__")) {
		t.Errorf("dispatch header does not keep fx_heavy __noinline__")
	}
	// The noinline handler shows in the kernel image as a function of its own.
	found := false
	for _, s := range res.Kernel {
		found = found || (!s.Entry && baseName(s.Name) == "fx_heavy")
	}
	if !found {
		t.Errorf("kernel image has no fx_heavy function: %+v", res.Kernel)
	}

	// At a limit equal to its register count it is inlined, and the kernel
	// image no longer has it as a function of its own.
	opt.InlineRegLimit = heavy.Registers
	res, err = Build(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if h := handlerReport(t, res, "fx_heavy"); !h.Inline ||
		!bytes.Contains(res.Outputs[0].Data, []byte("#define GMK_ATTR_fx_heavy __forceinline__")) {
		t.Errorf("limit %d: fx_heavy (%d registers) not inlined", opt.InlineRegLimit, h.Registers)
	}
	for _, s := range res.Kernel {
		if !s.Entry && baseName(s.Name) == "fx_heavy" {
			t.Errorf("limit %d: fx_heavy is still a function of the kernel image", opt.InlineRegLimit)
		}
	}
}

// TestG4_StripTraceRemovesTraceCode is acceptance item 2's --strip-trace:
// the traced handler and the kernel entry lose instructions, and the report
// shows the comparison.
func TestG4_StripTraceRemovesTraceCode(t *testing.T) {
	tc := needToolkit(t)
	t.Parallel()
	if tc.CUOBJDUMP == "" {
		t.Skip("cuobjdump not on PATH: instructions cannot be counted")
	}
	tree := fixtureTree(t, "fxecho", "fxblock")
	opt := fixtureOptions(t, tc, tree)
	opt.StripTrace = true
	res, err := Build(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	echo := handlerReport(t, res, "fx_echo")
	if echo.Traced == nil || echo.Probe.Instructions >= echo.Traced.Instructions {
		t.Errorf("fx_echo: stripped %+v, traced %+v: want fewer instructions stripped", echo.Probe, echo.Traced)
	}
	var entry, traced Stats
	for _, s := range res.Kernel {
		if s.Name == "fx_worker" {
			entry = s
		}
	}
	for _, s := range res.Traced {
		if s.Name == "fx_worker" {
			traced = s
		}
	}
	if entry.Instructions <= 0 || entry.Instructions >= traced.Instructions {
		t.Errorf("fx_worker: %d instructions stripped, %d traced: want fewer stripped", entry.Instructions, traced.Instructions)
	}
	var rep bytes.Buffer
	if err := res.WriteReport(&rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.String(), "strip-trace") || !strings.Contains(rep.String(), "INSTR TRACED") {
		t.Errorf("report has no strip-trace comparison:\n%s", rep.String())
	}
	ptx, _ := os.ReadFile(filepath.Join(opt.Out, PTXFile("sm_90")))
	if bytes.Contains(ptx, []byte("globaltimer")) {
		t.Errorf("stripped PTX still reads %%globaltimer (the trace macro's clock)")
	}
}

// TestG4_PTXIsReproducible: the same sources built from two different
// directories give byte-identical PTX, so CI's --check can compare the
// committed files; an edited source makes --check fail with ErrStale.
func TestG4_PTXIsReproducible(t *testing.T) {
	tc := needToolkit(t)
	t.Parallel()
	a := fixtureTree(t, "fxecho", "fxheavy")
	b := fixtureTree(t, "fxecho", "fxheavy")
	optA, optB := fixtureOptions(t, tc, a), fixtureOptions(t, tc, b)
	resA, err := Build(context.Background(), optA)
	if err != nil {
		t.Fatal(err)
	}
	resB, err := Build(context.Background(), optB)
	if err != nil {
		t.Fatal(err)
	}
	for i := range resA.Outputs {
		if !bytes.Equal(resA.Outputs[i].Data, resB.Outputs[i].Data) {
			t.Errorf("%s differs between two checkouts", filepath.Base(resA.Outputs[i].Path))
		}
	}
	// Check optB's committed outputs against a changed source.
	src := filepath.Join(b, "modules", "fxecho", "fxecho.cuh")
	data, _ := os.ReadFile(src)
	if err := os.WriteFile(src, bytes.Replace(data, []byte("t->meta0 + ctx->lane"), []byte("t->meta0 * ctx->lane"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	optB.Check = true
	res, err := Build(context.Background(), optB)
	if !errors.Is(err, ErrStale) {
		t.Fatalf("check after an edit: err = %v, want ErrStale", err)
	}
	if !strings.Contains(strings.Join(res.Stale, " "), PTXFile("sm_90")) {
		t.Errorf("stale = %q, want the PTX among them", res.Stale)
	}
}

// TestBuildCompileErrorNamesUserFile: a compiler error is reported against
// the user's kernels directory, not the build's temporary copy.
func TestBuildCompileErrorNamesUserFile(t *testing.T) {
	tc := needToolkit(t)
	t.Parallel()
	tree := fixtureTree(t, "fxecho")
	src := filepath.Join(tree, "modules", "fxecho", "fxecho.cuh")
	data, _ := os.ReadFile(src)
	if err := os.WriteFile(src, append(data, []byte("\nthis is not C;\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), fixtureOptions(t, tc, tree))
	if err == nil || !strings.Contains(err.Error(), "kernels/modules/fxecho/fxecho.cuh") || strings.Contains(err.Error(), os.TempDir()) {
		t.Fatalf("err = %v, want a compiler error naming kernels/modules/fxecho/fxecho.cuh", err)
	}
}

// TestBuildWithoutKernelReportsHandlers: before the kernel source exists
// the probe still reports the handlers, and Build says what is missing.
func TestBuildWithoutKernelReportsHandlers(t *testing.T) {
	tc := needToolkit(t)
	t.Parallel()
	tree := fixtureTree(t, "fxheavy") // fxecho's GMK_TRACE comes from the kernel
	if err := os.Remove(filepath.Join(tree, "src", "gmk_kernel.cu")); err != nil {
		t.Fatal(err)
	}
	res, err := Build(context.Background(), fixtureOptions(t, tc, tree))
	if !errors.Is(err, ErrNoKernel) {
		t.Fatalf("err = %v, want ErrNoKernel", err)
	}
	if h := handlerReport(t, res, "fx_heavy"); h.Probe.Registers <= 0 {
		t.Errorf("fx_heavy not probed: %+v", h.Probe)
	}
}
