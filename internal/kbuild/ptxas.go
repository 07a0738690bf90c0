package kbuild

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"
)

// Stats is what ptxas -v reports for one function of one architecture,
// plus its SASS instruction count when cuobjdump could tell.
type Stats struct {
	Name         string // symbol as in the PTX
	Arch         string // "sm_90"
	Entry        bool   // a __global__ kernel entry (ptxas reports registers only for these)
	Registers    int    // -1 when ptxas does not say (device functions)
	SpillStores  int    // bytes
	SpillLoads   int    // bytes
	StackFrame   int    // bytes of local memory per thread
	SharedMem    int    // bytes of static shared memory
	ConstMem     int    // bytes of cmem[0] (kernel parameters and such)
	Instructions int    // SASS instructions without NOPs; -1 when not counted
}

// LocalMemory reports whether the function touches local memory: a spill
// or a stack frame. [G4] fails the build on either.
func (s Stats) LocalMemory() bool { return s.SpillStores > 0 || s.SpillLoads > 0 || s.StackFrame > 0 }

// Problem describes the local-memory use, or "" when there is none.
func (s Stats) Problem() string {
	if !s.LocalMemory() {
		return ""
	}
	return fmt.Sprintf("%d bytes stack frame, %d bytes spill stores, %d bytes spill loads on %s",
		s.StackFrame, s.SpillStores, s.SpillLoads, s.Arch)
}

var (
	reCompiling = regexp.MustCompile(`Compiling entry function '([^']+)' for '([^']+)'`)
	reProps     = regexp.MustCompile(`Function properties for (\S+)`)
	reFrame     = regexp.MustCompile(`(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads`)
	reUsed      = regexp.MustCompile(`Used (\d+) registers`)
	reSmem      = regexp.MustCompile(`(\d+) bytes smem`)
	reCmem      = regexp.MustCompile(`(\d+) bytes cmem\[0\]`)
)

// ParsePtxas parses the output of `ptxas -v` into one Stats per function in
// the order ptxas first names them, and returns its warnings ("ptxas
// warning : ..." lines) apart. The lines it reads:
//
//	ptxas info    : Compiling entry function 'NAME' for 'sm_90'
//	ptxas info    : Function properties for NAME
//	    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
//	ptxas info    : Used 32 registers, 1536 bytes smem, 376 bytes cmem[0]
//
// A "Used" line belongs to the entry being compiled; device functions get
// only their properties line (Registers -1). Output with no function in it is
// an error: it is not ptxas -v output.
func ParsePtxas(out string) (stats []Stats, warnings []string, err error) {
	index := map[string]int{}
	get := func(name string) *Stats {
		i, ok := index[name]
		if !ok {
			i = len(stats)
			index[name] = i
			stats = append(stats, Stats{Name: name, Registers: -1, Instructions: -1})
		}
		return &stats[i]
	}
	entry, props, arch := "", "", ""
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, "ptxas warning"):
			warnings = append(warnings, strings.TrimSpace(line))
		case reCompiling.MatchString(line):
			m := reCompiling.FindStringSubmatch(line)
			entry, arch = m[1], m[2]
			s := get(entry)
			s.Entry = true
		case reProps.MatchString(line):
			props = reProps.FindStringSubmatch(line)[1]
			get(props)
		case reFrame.MatchString(line) && props != "":
			m := reFrame.FindStringSubmatch(line)
			s := get(props)
			s.StackFrame, s.SpillStores, s.SpillLoads = atoi(m[1]), atoi(m[2]), atoi(m[3])
		case reUsed.MatchString(line) && entry != "":
			s := get(entry)
			s.Registers = atoi(reUsed.FindStringSubmatch(line)[1])
			if m := reSmem.FindStringSubmatch(line); m != nil {
				s.SharedMem = atoi(m[1])
			}
			if m := reCmem.FindStringSubmatch(line); m != nil {
				s.ConstMem = atoi(m[1])
			}
		}
	}
	if len(stats) == 0 {
		return nil, warnings, fmt.Errorf("kbuild: no function in ptxas output (not ptxas -v output?)")
	}
	for i := range stats {
		stats[i].Arch = arch
	}
	return stats, warnings, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s) // the regexps matched digits only
	return n
}

var (
	reSASSFunc = regexp.MustCompile(`^\s*Function : (\S+)`)
	reSASSInst = regexp.MustCompile(`^\s*/\*[0-9a-f]{4,}\*/\s+(\S+)`)
)

// CountSASS counts the SASS instructions of each function in `cuobjdump
// -sass` output, not counting NOPs (alignment padding). In a whole-program
// image a device function's code is part of its caller's entry.
func CountSASS(out string) map[string]int {
	counts := map[string]int{}
	fn := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := reSASSFunc.FindStringSubmatch(line); m != nil {
			fn = m[1]
			counts[fn] += 0
			continue
		}
		if m := reSASSInst.FindStringSubmatch(line); m != nil && fn != "" && strings.TrimSuffix(m[1], ";") != "NOP" {
			counts[fn]++
		}
	}
	return counts
}

// reInternal matches the per-translation-unit prefix nvcc gives symbols of
// internal linkage (static functions, anonymous namespaces):
// _ZN<len>_INTERNAL_<8 hex>_<len>_<file>_cu_<8 hex>. The first hash is
// derived from the source's absolute path, so the same source built in
// another checkout gives other PTX.
var reInternal = regexp.MustCompile(`_INTERNAL_[0-9a-f]{8}_`)

// NormalizePTX makes nvcc's PTX independent of where the sources lie: the
// path hash in internal symbols becomes a hash of rel (the source's path
// relative to the kernels directory). It keeps the length of every symbol,
// so the mangled names stay well-formed, and one PTX module is one
// translation unit, so the names stay unique.
func NormalizePTX(ptx []byte, rel string) []byte {
	h := fnv.New32a()
	h.Write([]byte(rel))
	repl := []byte(fmt.Sprintf("_INTERNAL_%08x_", h.Sum32()))
	return reInternal.ReplaceAll(ptx, repl)
}

// baseName returns a readable name for a PTX symbol: the function name of a
// simple Itanium-mangled global (_Z8gmk_echoP7gmk_ctxP8gmk_task →
// gmk_echo), the symbol itself otherwise (extern "C" entries, nested names).
func baseName(sym string) string {
	if !strings.HasPrefix(sym, "_Z") {
		return sym
	}
	rest := sym[2:]
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	l, err := strconv.Atoi(rest[:n])
	if n == 0 || err != nil || n+l > len(rest) {
		return sym
	}
	return rest[n : n+l]
}
