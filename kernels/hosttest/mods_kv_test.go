package hosttest_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernel/sdk"
	"github.com/gmkernel/gmk/kernel/task"
	"github.com/gmkernel/gmk/kernels/hosttest"
	"github.com/gmkernel/gmk/modules/kv"
)

// kvReqs is kv's contract table (modules/kv's test) followed by n random
// requests over a key space larger than the table; every 9th request has no
// reply address, so its failure goes to sys.error / the handler's status.
func kvReqs(replies kernel.ChanID, n int) []req {
	type step struct {
		op       sdk.KVOp
		key, val string
	}
	steps := []step{{sdk.KVGet, "a", ""}, {sdk.KVPut, "a", "alpha"}, {sdk.KVGet, "a", ""}, {sdk.KVPut, "a", "ALPHA!"},
		{sdk.KVPut, "b", ""}, {sdk.KVGet, "b", ""}, {sdk.KVPut, "toolongkey", "x"}, {sdk.KVPut, "d", strings.Repeat("v", 17)},
		{sdk.KVDel, "a", ""}, {sdk.KVDel, "a", ""}, {sdk.KVGet, "c", "x"}, {9, "c", ""}}
	rng := rand.New(rand.NewPCG(5, 6))
	for range n {
		s := step{op: sdk.KVOp(1 + rng.IntN(3)), key: fmt.Sprint(rng.IntN(12))}
		if s.op == sdk.KVPut {
			s.val = strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(17))
		}
		steps = append(steps, s)
	}
	reqs := make([]req, len(steps))
	for i, s := range steps {
		to := sdk.NewReplyTo(replies, uint32(i+1))
		if i%9 == 8 {
			to = 0
		}
		reqs[i] = req{Task: task.Task{Type: kv.DefaultReqType, Tenant: uint16(i % 2), Meta0: uint64(to),
			Meta1: sdk.KVMeta(s.op, len(s.key))}, Payload: []byte(s.key + s.val)}
	}
	return reqs
}

// [G5] [U2] kv on the GPU gives modules/kv's replies and failure codes for
// the same requests: the contract's cases (not found, overwrite, empty
// value, key and value too long, full table, bad request, unknown op) and a
// random run over a small, often full table with chained buckets. On the
// device every 5th request first finds the out buffer full (RETRY) and is
// re-run: its operation is applied once, so the replies still match.
func TestG5_KVMatchesGoModule(t *testing.T) {
	cfg := kv.Config{Buckets: 4, Entries: 8, MaxKey: 8, MaxValue: 16}
	c := bootCPU(t, kernel.BootConfig{Tenants: 2}, kv.Module(cfg), "client.replies", kv.DefaultRespType, modtest.Lossless)
	replies, err := c.k.Chan("client.replies")
	if err != nil {
		t.Fatal(err)
	}
	reqs := kvReqs(replies, 600)
	m := openMods(t, hosttest.ModsConfig{KVBuckets: 4, KVEntries: 8, KVMaxKey: 8, KVMaxValue: 16})
	gouts, gcodes, retries := device(t, m, reqs, 5)
	nErr := len(gcodes)
	couts, ccodes := c.run(t, "kv.req", reqs, len(gouts), nErr)
	same(t, "kv", gouts, couts, gcodes, ccodes)
	if len(gouts) < 500 || nErr == 0 || retries < 100 {
		t.Fatalf("%d replies, %d failures, %d retries: the sequence does not exercise them all", len(gouts), nErr, retries)
	}
	if m.Live() != 0 {
		t.Errorf("%d payload blocks held after the run", m.Live())
	}
}
