package hosttest_test

import (
	"testing"

	"github.com/gmkernel/gmk/internal/modtest"
	"github.com/gmkernel/gmk/kernel"
	"github.com/gmkernel/gmk/kernels/hosttest"
	"github.com/gmkernel/gmk/modules/kv"
)

// [G5] [U2] kv on the GPU gives modules/kv's replies and failure codes for
// the same requests: the contract's cases (not found, overwrite, empty
// value, key and value too long, full table, bad request, unknown op) and a
// random run over a small, often full table with chained buckets. On the
// device every 5th request first finds the out buffer full (RETRY) and is
// re-run: its operation is applied once, so the replies still match.
func TestG5_KVMatchesGoModule(t *testing.T) {
	cfg := kv.Config{Buckets: 4, Entries: 8, MaxKey: 8, MaxValue: 16}
	c := bootCPU(t, kernel.BootConfig{Tenants: 2}, kv.Module(cfg), "client.replies", kv.DefaultRespType, modtest.Lossless)
	replies, err := c.K.Chan("client.replies")
	if err != nil {
		t.Fatal(err)
	}
	reqs := modtest.KVRequests(kv.DefaultReqType, replies, 600)
	m := openMods(t, hosttest.ModsConfig{KVBuckets: 4, KVEntries: 8, KVMaxKey: 8, KVMaxValue: 16})
	gouts, gcodes, retries := device(t, m, reqs, 5)
	nErr := len(gcodes)
	couts, ccodes := c.Run(t, "kv.req", reqs, len(gouts), nErr)
	same(t, "kv", gouts, couts, gcodes, ccodes)
	if len(gouts) < 500 || nErr == 0 || retries < 100 {
		t.Fatalf("%d replies, %d failures, %d retries: the sequence does not exercise them all", len(gouts), nErr, retries)
	}
	if m.Live() != 0 {
		t.Errorf("%d payload blocks held after the run", m.Live())
	}
}
