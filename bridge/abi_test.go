package bridge

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/gmkernel/gmk/bridge/internal/abicheck"
	"github.com/gmkernel/gmk/kernel/task"
)

// goLayout is the Go side of every fact abicheck reads from the C header:
// sizes, alignments, offsets and constants, under the C names.
func goLayout() map[string]uint64 {
	var tk task.Task
	var rg regionHeader
	var r ringHeader
	var s slot
	var ls llSlot
	u := func(v uintptr) uint64 { return uint64(v) }
	return map[string]uint64{
		"sizeof(gmk_task_t)": u(unsafe.Sizeof(tk)), "alignof(gmk_task_t)": 16, // Go: 8; slots are 16-aligned
		"gmk_task_t.type": u(unsafe.Offsetof(tk.Type)), "gmk_task_t.flags": u(unsafe.Offsetof(tk.Flags)),
		"gmk_task_t.tenant": u(unsafe.Offsetof(tk.Tenant)), "gmk_task_t.channel": u(unsafe.Offsetof(tk.Channel)),
		"gmk_task_t.seq": u(unsafe.Offsetof(tk.Seq)), "gmk_task_t.payload": u(unsafe.Offsetof(tk.Payload)),
		"gmk_task_t.payload_len": u(unsafe.Offsetof(tk.PayloadLen)),
		"gmk_task_t.yield_count": u(unsafe.Offsetof(tk.YieldCount)), "gmk_task_t._pad": u(unsafe.Offsetof(tk.Aux)),
		"gmk_task_t.meta0": u(unsafe.Offsetof(tk.Meta0)), "gmk_task_t.meta1": u(unsafe.Offsetof(tk.Meta1)),

		"sizeof(gmk_bridge_region_t)": u(unsafe.Sizeof(rg)), "alignof(gmk_bridge_region_t)": LineSize,
		"gmk_bridge_region_t.magic": u(unsafe.Offsetof(rg.magic)), "gmk_bridge_region_t.version": u(unsafe.Offsetof(rg.version)),
		"gmk_bridge_region_t.header_size": u(unsafe.Offsetof(rg.headerSize)),
		"gmk_bridge_region_t.nrings":      u(unsafe.Offsetof(rg.nrings)), "gmk_bridge_region_t.size": u(unsafe.Offsetof(rg.size)),
		"gmk_bridge_region_t.ring_off": u(unsafe.Offsetof(rg.ringOff)),

		"sizeof(gmk_bridge_ring_t)": u(unsafe.Sizeof(r)), "alignof(gmk_bridge_ring_t)": LineSize,
		"gmk_bridge_ring_t.magic": u(unsafe.Offsetof(r.magic)), "gmk_bridge_ring_t.version": u(unsafe.Offsetof(r.version)),
		"gmk_bridge_ring_t.header_size": u(unsafe.Offsetof(r.headerSize)),
		"gmk_bridge_ring_t.capacity":    u(unsafe.Offsetof(r.capacity)), "gmk_bridge_ring_t.slot_size": u(unsafe.Offsetof(r.slotSize)),
		"gmk_bridge_ring_t.staging_size": u(unsafe.Offsetof(r.stagingSize)),
		"gmk_bridge_ring_t.slots_off":    u(unsafe.Offsetof(r.slotsOff)), "gmk_bridge_ring_t.staging_off": u(unsafe.Offsetof(r.stagingOff)),
		"gmk_bridge_ring_t.start_seq": u(unsafe.Offsetof(r.startSeq)),
		"gmk_bridge_ring_t.flags":     u(unsafe.Offsetof(r.flags)), "gmk_bridge_ring_t.epoch": u(unsafe.Offsetof(r.epoch)),
		"gmk_bridge_ring_t.tail": u(unsafe.Offsetof(r.tail)), "gmk_bridge_ring_t.stage_tail": u(unsafe.Offsetof(r.stageTail)),
		"gmk_bridge_ring_t.prod_seq": u(unsafe.Offsetof(r.prodSeq)), "gmk_bridge_ring_t.transfers": u(unsafe.Offsetof(r.transfers)),
		"gmk_bridge_ring_t.head": u(unsafe.Offsetof(r.head)), "gmk_bridge_ring_t.stage_head": u(unsafe.Offsetof(r.stageHead)),
		"gmk_bridge_ring_t.cons_seq": u(unsafe.Offsetof(r.consSeq)), "gmk_bridge_ring_t.releases": u(unsafe.Offsetof(r.releases)),
		"gmk_bridge_ring_t.cons_waiting": u(unsafe.Offsetof(r.consWaiting)),
		"gmk_bridge_ring_t.cons_bell":    u(unsafe.Offsetof(r.consBell)),
		"gmk_bridge_ring_t.prod_waiting": u(unsafe.Offsetof(r.prodWaiting)),
		"gmk_bridge_ring_t.prod_bell":    u(unsafe.Offsetof(r.prodBell)),

		"sizeof(gmk_bridge_slot_t)": u(unsafe.Sizeof(s)), "alignof(gmk_bridge_slot_t)": 16,
		"gmk_bridge_slot_t.task": u(unsafe.Offsetof(s.task)), "gmk_bridge_slot_t.seq": u(unsafe.Offsetof(s.seq)),
		"gmk_bridge_slot_t.stage_pos": u(unsafe.Offsetof(s.stagePos)),

		"sizeof(gmk_bridge_ll_slot_t)": u(unsafe.Sizeof(ls)), "alignof(gmk_bridge_ll_slot_t)": LineSize, // Go: 8; slots sit at 128-byte offsets
		"gmk_bridge_ll_slot_t.w": u(unsafe.Offsetof(ls.w)),
		"GMK_BRIDGE_LL":          FlagLL, "GMK_BRIDGE_VERSION_LL": VersionLL, "GMK_BRIDGE_LL_SLOT_SIZE": LLSlotSize,
		"GMK_BRIDGE_LL_WORDS": LLWords, "GMK_BRIDGE_LL_HEAD_WORDS": LLHeadWords, "GMK_BRIDGE_LL_TAG_BIT": LLTagBit,
		"GMK_BRIDGE_LL_EXT": LLExt, "GMK_BRIDGE_LL_W_TYPE": llWType, "GMK_BRIDGE_LL_W_FLAGS": llWFlags,
		"GMK_BRIDGE_LL_W_CHANNEL": llWChannel, "GMK_BRIDGE_LL_W_SEQ": llWSeq, "GMK_BRIDGE_LL_W_META0": llWMeta0,
		"GMK_BRIDGE_LL_W_META1": llWMeta1, "GMK_BRIDGE_LL_W_PAYLOAD": llWPayload,
		"GMK_BRIDGE_LL_W_PAYLOAD_LEN": llWPayloadLn, "GMK_BRIDGE_LL_W_YIELD": llWYield, "GMK_BRIDGE_LL_W_STAGE": llWStage,
		"GMK_BRIDGE_LL_TAG(0)": uint64(llTag(0)), "GMK_BRIDGE_LL_TAG(0x123456789ull)": uint64(llTag(0x123456789)),

		"GMK_BRIDGE_MAGIC": Magic, "GMK_BRIDGE_RING_MAGIC": RingMagic, "GMK_BRIDGE_VERSION": Version,
		"GMK_BRIDGE_LINE": LineSize, "GMK_BRIDGE_STAGE_ALIGN": StageAlign, "GMK_BRIDGE_MAX_RINGS": MaxRings,
		"GMK_BRIDGE_CLOSED": FlagClosed, "GMK_BRIDGE_RING_AB": RingAB, "GMK_BRIDGE_RING_BA": RingBA,
		"GMK_TASK_PRIORITY_MASK": uint64(task.PriorityMask), "GMK_TASK_DETERMINISTIC": uint64(task.Deterministic),
		"GMK_TASK_IDEMPOTENT": uint64(task.Idempotent), "GMK_TASK_EMIT_TRACE": uint64(task.EmitTrace),
		"GMK_TASK_CHANNEL_MSG": uint64(task.ChannelMsg), "GMK_TASK_REDELIVERED": uint64(task.Redelivered), "GMK_TASK_SNAPSHOTTED": uint64(task.Snapshotted), "GMK_TASK_PAYLOAD_REF": uint64(task.PayloadRef), "GMK_TASK_PAYLOAD_DEV": uint64(task.PayloadDev),
	}
}

// TestABI_LayoutMatchesCHeader: the Go mirror of the bridge ring ABI — task
// record, region header, ring header, slot, constants — equals the C header as
// the C compiler lays it out (issue 4 acceptance 2; [T1]). Every C fact has a
// Go counterpart and vice versa.
func TestABI_LayoutMatchesCHeader(t *testing.T) {
	if !abicheck.Available {
		t.Skip("built without cgo: the C layout cannot be read")
	}
	want := goLayout()
	seen := map[string]bool{}
	for _, e := range abicheck.Entries() {
		seen[e.Name] = true
		g, ok := want[e.Name]
		if !ok {
			t.Errorf("C %s = %d has no Go counterpart in the test", e.Name, e.Value)
			continue
		}
		if g != e.Value {
			t.Errorf("%s: C %d, Go %d", e.Name, e.Value, g)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("Go checks %s, which the C side does not report", name)
		}
	}
	// The named offset constants agree with the struct.
	var r ringHeader
	for name, pair := range map[string][2]uintptr{
		"OffFlags": {OffFlags, unsafe.Offsetof(r.flags)}, "OffTail": {OffTail, unsafe.Offsetof(r.tail)},
		"OffHead": {OffHead, unsafe.Offsetof(r.head)}, "OffConsWaiting": {OffConsWaiting, unsafe.Offsetof(r.consWaiting)},
		"OffProdBell": {OffProdBell, unsafe.Offsetof(r.prodBell)},
		"OffSlotSeq":  {OffSlotSeq, unsafe.Offsetof(slot{}.seq)}, "OffSlotStage": {OffSlotStage, unsafe.Offsetof(slot{}.stagePos)},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s = %d, struct offset %d", name, pair[0], pair[1])
		}
	}
}

// TestABI_CReferenceInterop: the C reference producer and consumer
// (gmk_bridge_ring.h) and the Go ones speak the same protocol over one region,
// both ways: C produces on ring AB and Go consumes; Go produces on ring BA and
// C consumes — inline tasks and payloads, over several laps of the ring — in
// both slot formats ([B2] [B3] [B4]; LL: gmk_bridge_ll_stage/_poll).
func TestABI_CReferenceInterop(t *testing.T) {
	if !abicheck.Available {
		t.Skip("built without cgo")
	}
	for _, ll := range []bool{false, true} {
		t.Run(modeName(ll), func(t *testing.T) {
			produce, consume := abicheck.Produce, abicheck.Consume
			if ll {
				produce, consume = abicheck.ProduceLL, abicheck.ConsumeLL
			}
			interopC(t, Config{Capacity: 64, Staging: 256 << 10, LL: ll}, produce, consume)
		})
	}
}

// interopC runs TestABI_CReferenceInterop's exchange over a region for c.
func interopC(t *testing.T, c Config, produce func([]byte, uint32, int64, int64) int64,
	consume func([]byte, uint32, int64) (int64, uint64)) {
	const n, batch = 300, 7
	mem, reg := formatted(t, c)
	rx := newConsumer(RingAB, reg.rings[RingAB], waker{})
	dst := make([]Msg, 16)
	got := 0
	for lap := 0; got < n; lap++ { // C produces up to a ring's worth per call, Go drains it
		k := min(int64(n-got), 60)
		if r := produce(mem, RingAB, k, batch); r != k {
			t.Fatalf("C produce: %d", r)
		}
		for {
			m, err := rx.Peek(dst)
			if err != nil {
				t.Fatal(err)
			}
			if m == 0 {
				break
			}
			for _, x := range dst[:m] {
				// C numbers from 0 in each call; it sets meta0 = k and payloads of k%200+1 bytes when k%3 == 0.
				k := int(x.Task.Meta0)
				wantLen := 0
				if k%3 == 0 {
					wantLen = k%200 + 1
				}
				if x.Task.Type != 7 || len(x.Payload) != wantLen || (wantLen > 0 && x.Payload[wantLen-1] != byte(k+wantLen-1)) {
					t.Fatalf("task from C: %+v with %d bytes", x.Task, len(x.Payload))
				}
				got++
			}
			rx.Release()
		}
	}

	tx := newProducer(RingBA, reg.rings[RingBA], waker{})
	var wantSum uint64
	for i := range 50 {
		tk, p := withPayload(i, []int{0, 5, 4096}[i%3])
		if err := tx.Stage(&tk, p); err != nil {
			t.Fatal(err)
		}
		wantSum += tk.Meta0*31 + uint64(len(p))
		for _, b := range p {
			wantSum += uint64(b)
		}
	}
	tx.Publish()
	if cnt, sum := consume(mem, RingBA, batch); cnt != 50 || sum != wantSum {
		t.Fatalf("C consumed %d tasks, checksum %d; want 50, %d", cnt, sum, wantSum)
	}
	if s := tx.Stats(); s.Tasks != 50 || reg.rings[RingBA].hdr.head.Load() != 50 {
		t.Fatalf("after C consumed: stats %+v, head %d", s, reg.rings[RingBA].hdr.head.Load())
	}
}

// TestABI_HeadersCompile: the headers are plain C11 and C++17 (CUDA compiles
// them as C++), warning-free with -Wall -Wextra -pedantic.
func TestABI_HeadersCompile(t *testing.T) {
	inc, err := filepath.Abs("../kernels/include")
	if err != nil {
		t.Fatal(err)
	}
	src := []byte("#include \"gmk_bridge_ring.h\"\nint main(void) { return 0; }\n")
	for _, tc := range []struct{ cc, std, ext string }{{"gcc", "-std=c11", ".c"}, {"g++", "-std=c++17", ".cpp"}} {
		if _, err := exec.LookPath(tc.cc); err != nil {
			t.Logf("%s not installed: skipping the %s check", tc.cc, tc.std)
			continue
		}
		dir := t.TempDir()
		file := filepath.Join(dir, "h"+tc.ext)
		if err := os.WriteFile(file, src, 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd := exec.Command(tc.cc, tc.std, "-Wall", "-Wextra", "-pedantic", "-Werror", "-I", inc,
			"-c", file, "-o", filepath.Join(dir, "h.o"))
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Errorf("%s %s: %v\n%s", tc.cc, tc.std, err, out.Bytes())
		}
	}
}
