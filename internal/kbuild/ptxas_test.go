package kbuild

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The files under testdata/ptxas are real `ptxas -v` and `cuobjdump -sass`
// output (CUDA 11.8) of the fixture kernel and its register probe, so the
// parsers are tested without a toolkit.

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ptxas", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestG4_ParsePtxas: registers, spills, stack frame and shared memory per
// function, entries told from device functions.
func TestG4_ParsePtxas(t *testing.T) {
	for _, tc := range []struct {
		file     string
		want     []Stats
		warnings int
	}{
		{"kernel_sm90.txt", []Stats{
			{Name: "fx_worker", Arch: "sm_90", Entry: true, Registers: 56, StackFrame: 256, SharedMem: 6144, Instructions: -1},
			{Name: "_Z8fx_heavyP7gmk_ctxP8gmk_task", Arch: "sm_90", Registers: -1, Instructions: -1},
			{Name: "_Z8fx_stackP7gmk_ctxP8gmk_task", Arch: "sm_90", Registers: -1, Instructions: -1},
		}, 0},
		{"kernel_sm80.txt", []Stats{
			{Name: "fx_worker", Arch: "sm_80", Entry: true, Registers: 56, StackFrame: 256, SharedMem: 6144, ConstMem: 384, Instructions: -1},
			{Name: "_Z8fx_heavyP7gmk_ctxP8gmk_task", Arch: "sm_80", Registers: -1, Instructions: -1},
			{Name: "_Z8fx_stackP7gmk_ctxP8gmk_task", Arch: "sm_80", Registers: -1, Instructions: -1},
		}, 0},
		{"probe_spill_sm90.txt", []Stats{
			{Name: "gmk_kbuild_probe__fx_stack", Arch: "sm_90", Entry: true, Registers: 24, StackFrame: 256, Instructions: -1},
			{Name: "gmk_kbuild_probe__fx_heavy", Arch: "sm_90", Entry: true, Registers: 24, StackFrame: 296, SpillStores: 684, SpillLoads: 700, Instructions: -1},
			{Name: "gmk_kbuild_probe__fx_block", Arch: "sm_90", Entry: true, Registers: 24, Instructions: -1},
			{Name: "gmk_kbuild_probe__fx_warp", Arch: "sm_90", Entry: true, Registers: 24, Instructions: -1},
			{Name: "gmk_kbuild_probe__fx_echo", Arch: "sm_90", Entry: true, Registers: 24, Instructions: -1},
		}, 0},
		{"maxreg_warning_sm80.txt", []Stats{
			{Name: "ent", Arch: "sm_80", Entry: true, Registers: 24, StackFrame: 256, SharedMem: 1536, ConstMem: 376, Instructions: -1},
			{Name: "_Z2h1P7gmk_ctxP8gmk_task", Arch: "sm_80", Registers: -1, Instructions: -1},
			{Name: "_ZN34_INTERNAL_af53e3f6_4_t_cu_038ec6766helperEi", Arch: "sm_80", Registers: -1, Instructions: -1},
		}, 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, warns, err := ParsePtxas(readTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tc.want)
			}
			if len(warns) != tc.warnings {
				t.Errorf("warnings %q, want %d", warns, tc.warnings)
			}
		})
	}
}

// TestParsePtxasNewerFormat: later ptxas releases add "used N barriers" to
// the "Used" line; the fields around it still parse.
func TestParsePtxasNewerFormat(t *testing.T) {
	out := "ptxas info    : Compiling entry function 'w' for 'sm_90'\n" +
		"ptxas info    : Function properties for w\n" +
		"    8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads\n" +
		"ptxas info    : Used 40 registers, used 1 barriers, 2048 bytes smem, 400 bytes cmem[0]\n"
	got, _, err := ParsePtxas(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []Stats{{Name: "w", Arch: "sm_90", Entry: true, Registers: 40, StackFrame: 8, SpillStores: 4, SpillLoads: 4,
		SharedMem: 2048, ConstMem: 400, Instructions: -1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParsePtxasRejectsOtherText(t *testing.T) {
	if _, _, err := ParsePtxas("ptxas fatal   : SM version specified by .target is higher than default\n"); err == nil {
		t.Fatal("no error for output without functions")
	}
}

// TestG4_LocalMemoryProblem: a stack frame alone is local memory, as are
// spills; a clean function is not.
func TestG4_LocalMemoryProblem(t *testing.T) {
	stats, _, err := ParsePtxas(readTestdata(t, "probe_spill_sm90.txt"))
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]bool{}
	for _, s := range stats {
		if s.LocalMemory() != (s.Problem() != "") {
			t.Errorf("%s: LocalMemory and Problem disagree", s.Name)
		}
		bad[strings.TrimPrefix(s.Name, probePrefix)] = s.LocalMemory()
	}
	want := map[string]bool{"fx_stack": true, "fx_heavy": true, "fx_block": false, "fx_warp": false, "fx_echo": false}
	if !reflect.DeepEqual(bad, want) {
		t.Errorf("local memory %v, want %v", bad, want)
	}
}

// TestCountSASS: instructions per function, NOP padding left out.
func TestCountSASS(t *testing.T) {
	got := CountSASS(readTestdata(t, "sass_sm90.txt"))
	// scale: LDC S2R LDC.64 ULDC.64 ULDC IMAD.WIDE.U32 LDG FMUL STG EXIT BRA;
	// add_one is the same with IADD3 for FMUL and no ULDC of k.
	want := map[string]int{"scale": 11, "add_one": 10}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CountSASS = %v, want %v", got, want)
	}
}

// TestNormalizePTXIsPathFree: the path hash nvcc puts in internal symbols
// is replaced by a hash of the source's kernels-relative path, keeping the
// symbol length.
func TestNormalizePTXIsPathFree(t *testing.T) {
	a := []byte(".func _ZN34_INTERNAL_af53e3f6_4_t_cu_038ec6766helperEi(\n")
	b := []byte(".func _ZN34_INTERNAL_326413ab_4_t_cu_038ec6766helperEi(\n")
	na, nb := NormalizePTX(a, "src/t.cu"), NormalizePTX(b, "src/t.cu")
	if string(na) != string(nb) || len(na) != len(a) {
		t.Errorf("normalized %q and %q", na, nb)
	}
	if string(NormalizePTX(a, "src/u.cu")) == string(na) {
		t.Errorf("two sources normalize to one prefix")
	}
}

func TestBaseName(t *testing.T) {
	for sym, want := range map[string]string{
		"_Z8fx_heavyP7gmk_ctxP8gmk_task": "fx_heavy",
		"fx_worker":                      "fx_worker",
		"_ZN34_INTERNAL_af53e3f6_4_t_cu_038ec6766helperEi": "_ZN34_INTERNAL_af53e3f6_4_t_cu_038ec6766helperEi",
		"_Z99short": "_Z99short",
	} {
		if got := baseName(sym); got != want {
			t.Errorf("baseName(%q) = %q, want %q", sym, got, want)
		}
	}
}
