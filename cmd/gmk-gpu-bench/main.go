//go:build cuda

// Command gmk-gpu-bench measures GMK/gpu on a real device (issue 5,
// acceptance 4), in one run, one machine-readable line per measurement:
//
//	gpu launch-baseline <async|sync> <launches/s> us_per_launch=<x>
//	gpu persistent spin <tasks/s> workers=<n> tasks=<n> vs_launch=<x>
//	gpu probe pingpong pollers=<n> p50_us=<x> p99_us=<x> min_us=<x>
//	gpu probe ll-echo pollers=<n> slot_bytes=<64|128> p50_us=<x> p99_us=<x> min_us=<x>
//	gpu bridge-rtt <inline|inline-ll> rx=<mode> p50_us=<x> p99_us=<x> n=<n>
//	gpu bridge cuda batch=<n> <inline|4k|16k|4k-by-ref|16k-by-ref> <tasks/s> gb_per_s=<x> transfers_per_task=<x>
//	gpu bridge cuda-dma batch=<n> 64k-bulk <tasks/s> gb_per_s=<x> wait_us_per_send=<µs> copy_us_per_send=<µs>
//
// The baseline is one kernel launch per task (cuLaunchKernel from C, one
// block of 32 threads doing what one task does); the persistent kernel runs
// chains of no-op spin tasks seeded into every worker's LQ, counted end to
// end by their completions arriving on host.tx; the round trip sends one
// inline echo task over host.rx and waits for its reply on host.tx (with
// -ll, over LL rings: gmk_bridge.h LL RINGS, the line says inline-ll); the
// bridge throughput pushes tasks host → device into the sink handler,
// batched by the host's publish size, until the device has released them
// all; payloads are copied into the staging area by the sending thread, or
// (-by-ref, bulk) sent by reference from pinned host memory the device reads
// itself (bridge.RefSender), so no CPU thread copies the bytes, or (bulk,
// cuda-dma) copied by the copy engine into device blocks the host reserved
// (Kernel.SendBulk), batch blocks of 64 KiB per copy.
//
// Built only with -tags cuda (it links gorgonia.org/cu, which exits the
// process at init when there is no device).
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/gmkernel/gmk/bridge"
	"github.com/gmkernel/gmk/gpu/cuda"
	"github.com/gmkernel/gmk/gpu/cuda/ptx"
	"github.com/gmkernel/gmk/gpu/discover"
	"github.com/gmkernel/gmk/kernel/task"
)

// Task types of the GPU modules used here (kernels/modules).
const (
	echoIn   = 960
	echoOut  = 961
	spinType = 994
	spinDone = 995
	sinkType = 996
)

func main() {
	ptxPath := flag.String("ptx", "", "kernel image (PTX file); default: the embedded sm_90 image (gpu/cuda/ptx)")
	workers := flag.Int("workers", 0, "worker blocks (0: SMs × resident blocks per SM)")
	threads := flag.Int("threads", 256, "threads per worker block")
	per := flag.Int("per", 256, "spin chains seeded per worker")
	hops := flag.Int("hops", 2000, "tasks per spin chain - 1")
	launches := flag.Int("launches", 200000, "launches for the baseline")
	rtts := flag.Int("rtt", 20000, "bridge round trips")
	bridgeN := flag.Int("bridge-n", 2000000, "inline tasks per bridge throughput run (payload runs use n / KiB of payload)")
	only := flag.String("only", "", "run one part: launch, spin, rtt, bridge, bulk (by-reference payloads; bridge includes it)")
	idleSleep := flag.Duration("idle-sleep", 0, "longest sleep of an idle worker between looks for work (0: the kernel's default)")
	rxMode := flag.String("rx", "mapped", "host.rx mode: mapped (device polls pinned host memory) or dma (copy engine)")
	ll := flag.Bool("ll", false, "LL bridge rings (bridge.Config.LL; mapped host.rx only)")
	flag.Parse()

	if ds, err := discover.Devices(); err != nil {
		fmt.Println("# nvml:", err)
	} else {
		for _, d := range ds {
			fmt.Println("#", d)
		}
	}
	image, err := loadPTX(*ptxPath)
	check(err)
	k, err := cuda.Open(cuda.Config{PTX: image, Workers: *workers, Threads: *threads,
		Bridge: bridge.Config{Capacity: 8192, Staging: 64 << 20, LL: *ll}, RxMode: cuda.RxMode(*rxMode),
		BulkBlocks: 256, BulkBlock: bulkBlock, IdleSleep: *idleSleep})
	check(err)
	defer func() { check(k.Close()) }()
	check(k.Boot())
	fmt.Printf("# device %s | %d SMs | %d workers × %d threads | host.rx %s\n", k.Name, k.SMs, k.Workers(), *threads, *rxMode)
	mode = *rxMode
	if *ll {
		format = "-ll"
	}

	var perLaunch float64
	if *only == "" || *only == "launch" {
		perLaunch = launchBaseline(k, *launches)
		probes(k)
	}
	if *only == "" || *only == "spin" {
		spin(k, *per, *hops, perLaunch)
	}
	if *only == "" || *only == "rtt" {
		before, err := k.Stats()
		check(err)
		rtt(k, *rtts)
		after, err := k.Stats()
		check(err)
		perBatch("rtt"+format, before[0], after[0])
	}
	if *only == "" || *only == "bridge" {
		bridgeRuns(k, *bridgeN)
	}
	if *only == "" || *only == "bridge" || *only == "bulk" {
		bulkRuns(k, *bridgeN)
	}
	totals(k)
}

var (
	mode   string // host.rx mode, for the output lines
	format string // "-ll" over LL rings, after the bridge-rtt line's kind
)

func loadPTX(path string) (string, error) {
	if path == "" {
		return ptx.SM90(), nil
	}
	b, err := os.ReadFile(path)
	return string(b), err
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gmk-gpu-bench:", err)
		os.Exit(1)
	}
}

// launchBaseline returns seconds per launch (async).
func launchBaseline(k *cuda.Kernel, n int) float64 {
	d, err := k.LaunchBaseline(n, false)
	check(err)
	per := d.Seconds() / float64(n)
	fmt.Printf("gpu launch-baseline async %.0f us_per_launch=%.3f\n", float64(n)/d.Seconds(), per*1e6)
	ds, err := k.LaunchBaseline(n/10, true)
	check(err)
	fmt.Printf("gpu launch-baseline sync %.0f us_per_launch=%.3f\n", float64(n/10)/ds.Seconds(), ds.Seconds()/float64(n/10)*1e6)
	return per
}

// drain peeks host.tx until want tasks of type typ arrived (others are
// counted as stray) or the deadline passes; returns the count seen.
func drain(rx bridge.Receiver, typ uint32, want int, deadline time.Time) (got, stray int) {
	msgs := make([]bridge.Msg, 256)
	for got < want && time.Now().Before(deadline) {
		n, err := rx.Peek(msgs)
		check(err)
		for _, m := range msgs[:n] {
			if m.Task.Type == typ {
				got++
			} else {
				stray++
			}
		}
		if n > 0 {
			rx.Release()
		}
	}
	return got, stray
}

func spin(k *cuda.Kernel, per, hops int, perLaunch float64) {
	check(k.Seed(spinType, uint64(hops), per))
	before, err := k.Stats()
	check(err)
	start := time.Now()
	check(k.Launch())
	chains := per * k.Workers()
	got, stray := drain(k.Bridge().Receiver(), spinDone, chains, time.Now().Add(60*time.Second))
	d := time.Since(start)
	check(k.Stop(5 * time.Second))
	after, err := k.Stats()
	check(err)
	done := cuda.Sum(after).Done - cuda.Sum(before).Done
	tasks := uint64(chains) * uint64(hops+1)
	if got != chains || done != tasks {
		fmt.Fprintf(os.Stderr, "gmk-gpu-bench: spin: %d of %d chains completed (%d stray), %d of %d tasks dispatched\n", got, chains, stray, done, tasks)
	}
	rate := float64(done) / d.Seconds()
	vs := 0.0
	if perLaunch > 0 {
		vs = rate * perLaunch
	}
	fmt.Printf("gpu persistent spin %.0f workers=%d tasks=%d chains=%d seconds=%.3f vs_launch=%.0f\n",
		rate, k.Workers(), done, got, d.Seconds(), vs)
}

func rtt(k *cuda.Kernel, n int) {
	check(k.Launch())
	defer func() { check(k.Stop(5 * time.Second)) }()
	tx, rx := k.Bridge().Sender(), k.Bridge().Receiver()
	msgs := make([]bridge.Msg, 8)
	lat := make([]time.Duration, 0, n)
	for i := range n + 1000 {
		t := task.Task{Type: echoIn, Meta0: uint64(i)}
		start := time.Now()
		for tx.Stage(&t, nil) != nil {
		}
		tx.Publish()
		for {
			m, err := rx.Peek(msgs)
			check(err)
			if m > 0 {
				if msgs[0].Task.Type != echoOut || msgs[0].Task.Meta0 != uint64(i) {
					check(fmt.Errorf("rtt: reply type %d meta0 %d, want %d/%d", msgs[0].Task.Type, msgs[0].Task.Meta0, echoOut, i))
				}
				rx.Release()
				break
			}
		}
		if i >= 1000 { // warm-up excluded
			lat = append(lat, time.Since(start))
		}
	}
	slices.Sort(lat)
	fmt.Printf("gpu bridge-rtt inline%s rx=%s %s n=%d\n", format, mode, quantiles(lat), len(lat))
}

// bridgeRun pushes n sink tasks of size payload bytes host → device,
// publishing every batch; with ref, the payloads are sent by reference
// (bridge.RefSender) from slices of ref, which no CPU thread copies.
func bridgeRun(k *cuda.Kernel, batch, size, n int, ref *cuda.HostBuffer) {
	check(k.Launch())
	defer func() { check(k.Stop(5 * time.Second)) }()
	tx := k.Bridge().Sender()
	rs, _ := tx.(bridge.RefSender)
	if ref != nil && rs == nil {
		check(fmt.Errorf("bulk: host.rx in %s mode has no by-reference sender", mode))
	}
	before := tx.Stats()
	var payload []byte
	if size > 0 {
		payload = make([]byte, size)
		for i := range payload {
			payload[i] = byte(i)
		}
	}
	start := time.Now()
	for i := 0; i < n; {
		t := task.Task{Type: sinkType, PayloadLen: uint32(size), Meta0: uint64(i)}
		var err error
		if ref != nil {
			err = rs.StageRef(&t, ref.Addr+uint64(i*size%(len(ref.Bytes)-size)&^15))
		} else {
			err = tx.Stage(&t, payload)
		}
		if err != nil {
			tx.Publish()
			continue
		}
		i++
		if tx.Staged() >= batch {
			tx.Publish()
		}
	}
	tx.Publish()
	for !k.RxDrained() {
	}
	d := time.Since(start)
	after := tx.Stats()
	tasks, transfers := after.Tasks-before.Tasks, after.Transfers-before.Transfers
	kind := "inline"
	if size > 0 {
		kind = fmt.Sprintf("%dk", size>>10)
	}
	if ref != nil {
		kind += "-by-ref"
	}
	rate := float64(tasks) / d.Seconds()
	fmt.Printf("gpu bridge cuda-%s batch=%d %s %.0f gb_per_s=%.2f transfers_per_task=%.4f\n",
		mode, batch, kind, rate, rate*float64(size)/1e9, float64(transfers)/float64(tasks))
}

// perBatch prints worker 0's device time per batch between two samples, by
// phase: where a part's time goes on the device.
func perBatch(part string, b, a cuda.WorkerStats) {
	n := float64(a.Batches - b.Batches)
	if n == 0 {
		return
	}
	us := func(x, y uint64) float64 { return float64(y-x) / n / 1e3 }
	fmt.Printf("# %s worker 0 per batch (%.0f batches, %.1f rounds each) us: gather=%.2f poll=%.2f slots=%.2f blocks=%.2f copy=%.2f release=%.2f dispatch=%.2f flush=%.2f (tx stage=%.2f publish=%.2f bell=%.2f) egress=%.2f\n",
		part, n, (float64(a.Idle-b.Idle)+n)/n, us(b.NsGather, a.NsGather), us(b.NsRxPoll, a.NsRxPoll), us(b.NsRxSlots, a.NsRxSlots),
		us(b.NsRxBlocks, a.NsRxBlocks), us(b.NsRxCopy, a.NsRxCopy), us(b.NsRxRelease, a.NsRxRelease),
		us(b.NsDispatch, a.NsDispatch), us(b.NsFlush, a.NsFlush), us(b.NsTxStage, a.NsTxStage), us(b.NsTxPublish, a.NsTxPublish), us(b.NsTxBell, a.NsTxBell), us(b.NsEgress, a.NsEgress))
}

// bulkBlock is the size of the kernel's bulk blocks (Kernel.SendBulk).
const bulkBlock = 64 << 10

// bulkDMA sends n sink tasks of bulkBlock-byte payloads by SendBulk, batch
// blocks per copy-engine transfer, until the device has released them all.
func bulkDMA(k *cuda.Kernel, batch, n int, src *cuda.HostBuffer) {
	check(k.Launch())
	defer func() { check(k.Stop(5 * time.Second)) }()
	ts := make([]task.Task, batch)
	before, start := k.BulkStats(), time.Now()
	for i := 0; i < n; i += batch {
		for j := range ts {
			ts[j] = task.Task{Type: sinkType, PayloadLen: bulkBlock, Meta0: uint64(i + j)}
		}
		check(k.SendBulk(ts, src, 0, 10*time.Second))
	}
	for !k.RxDrained() {
	}
	rate := float64(n) / time.Since(start).Seconds()
	a := k.BulkStats()
	sends := float64(a.Sends - before.Sends)
	fmt.Printf("gpu bridge cuda-dma batch=%d 64k-bulk %.0f gb_per_s=%.2f wait_us_per_send=%.1f copy_us_per_send=%.1f\n", batch, rate, rate*bulkBlock/1e9,
		float64(a.WaitNS-before.WaitNS)/sends/1e3, float64(a.CopyNS-before.CopyNS)/sends/1e3)
}

// bulkProbe prints the copy engine's rate into the bulk blocks by copy size,
// with the kernel stopped and running (its workers idle).
func bulkProbe(k *cuda.Kernel, src *cuda.HostBuffer) {
	for _, running := range []bool{false, true} {
		if running {
			check(k.Launch())
		}
		for _, size := range []int{256 << 10, 1 << 20, 2 << 20, 8 << 20, 16 << 20} {
			bw, err := k.ProbeBulkDMA(src, size, max(8, (256<<20)/size))
			check(err)
			fmt.Printf("gpu probe bulk-dma bytes=%d kernel_running=%v gb_per_s=%.2f\n", size, running, bw/1e9)
		}
		if running {
			check(k.Stop(5 * time.Second))
		}
	}
}

// quantiles formats the median, the 99th percentile and the minimum of
// sorted round trips, in µs.
func quantiles(d []time.Duration) string {
	q := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Nanoseconds()) / 1e3 }
	return fmt.Sprintf("p50_us=%.2f p99_us=%.2f min_us=%.2f", q(0.5), q(0.99), q(0))
}

// probes prints the device's probes: PCIe read latency, the bare ping-pong
// and the LL echo by polling warps, the copy engine, CPU writes to pinned
// memory.
func probes(k *cuda.Kernel) {
	lat, err := k.ProbeRead(10000)
	check(err)
	fmt.Printf("gpu probe host-read ns=%d\n", lat.Nanoseconds())
	for _, pollers := range []int{1, 4, 8} {
		rtt, err := k.ProbePingPong(20000, pollers)
		check(err)
		fmt.Printf("gpu probe pingpong pollers=%d %s\n", pollers, quantiles(rtt))
		for _, slot := range []struct{ words, bytes int }{{12, 128}, {8, 64}} {
			ll, err := k.ProbeLLEcho(20000, pollers, slot.words)
			check(err)
			fmt.Printf("gpu probe ll-echo pollers=%d slot_bytes=%d %s\n", pollers, slot.bytes, quantiles(ll))
		}
	}
	bw, err := k.ProbeDMA(64<<20, 20)
	check(err)
	fmt.Printf("gpu probe dma-htod gb_per_s=%.2f\n", bw/1e9)
	pin, heap := k.ProbeHostWrite(5)
	fmt.Printf("gpu probe host-write pinned_gb_per_s=%.2f heap_gb_per_s=%.2f\n", pin/1e9, heap/1e9)
}

// bridgeRuns measures host → device throughput, inline and staged, at
// batch 1, 64 and 256 (n inline tasks; payload runs n / KiB).
func bridgeRuns(k *cuda.Kernel, bridgeN int) {
	for _, size := range []int{0, 4096, 16384} {
		for _, batch := range []int{1, 64, 256} {
			n := bridgeN
			if size > 0 {
				n /= size / 1024
			}
			if batch == 1 {
				n /= 8
			}
			bridgeRun(k, batch, size, n, nil)
		}
	}
}

// bulkRuns measures payloads by reference, the copy engine into the bulk
// blocks, and bulk sends by DMA.
func bulkRuns(k *cuda.Kernel, bridgeN int) {
	buf, err := cuda.NewHostBuffer(64 << 20)
	check(err)
	for i := range buf.Bytes {
		buf.Bytes[i] = byte(i * 7)
	}
	for _, size := range []int{4096, 16384} {
		for _, batch := range []int{64, 256} {
			bridgeRun(k, batch, size, bridgeN/(size/1024), buf)
		}
	}
	bulkProbe(k, buf)
	for _, batch := range []int{32, 64, 128} {
		bulkDMA(k, batch, bridgeN/50/batch*batch, buf)
	}
	check(buf.Free())
}

// totals prints every worker's counters summed and worker 0's time by phase.
func totals(k *cuda.Kernel) {
	s, err := k.Stats()
	check(err)
	t := cuda.Sum(s)
	fmt.Printf("# totals: done=%d batches=%d unknown=%d failed=%d emit_full=%d bridge_in=%d bridge_out=%d gaps=%d payload_fail=%d\n",
		t.Done, t.Batches, t.Unknown, t.Failed, t.EmitFull, t.BridgeIn, t.BridgeOut, t.BridgeGap, t.PayloadFail)
	w0 := s[0]
	fmt.Printf("# worker 0: rounds=%d batches=%d idle=%d us: gather=%.0f egress=%.0f dispatch=%.0f flush=%.0f\n",
		w0.Rounds, w0.Batches, w0.Idle, float64(w0.NsGather)/1e3, float64(w0.NsEgress)/1e3, float64(w0.NsDispatch)/1e3, float64(w0.NsFlush)/1e3)
	fmt.Printf("# worker 0 host.rx us: poll=%.0f slots=%.0f blocks=%.0f copy=%.0f release=%.0f\n",
		float64(w0.NsRxPoll)/1e3, float64(w0.NsRxSlots)/1e3, float64(w0.NsRxBlocks)/1e3, float64(w0.NsRxCopy)/1e3, float64(w0.NsRxRelease)/1e3)
	fmt.Printf("# all workers: rounds=%d us: gather=%.0f dispatch=%.0f flush=%.0f\n",
		t.Rounds, float64(t.NsGather)/1e3, float64(t.NsDispatch)/1e3, float64(t.NsFlush)/1e3)
}
