#!/bin/bash
# cuda-pack.sh [DIR] — build the GPU checks for a machine that has an NVIDIA
# GPU but no Go toolchain (the lent device machine): the device test binary,
# the GPU daemon and the GPU benchmark, built here with -tags cuda (stripped,
# so the three fit a 64 MiB transfer), and DIR/run.sh, which runs the device
# tests (the daemon's included, through GMK_GPUD) and then the benchmark,
# writing their logs to $OUT (or DIR) and printing the results.
set -euo pipefail
dir=${1:-.devrun}
mkdir -p "$dir"
flags=(-tags cuda -ldflags=-s\ -w)
go test -c "${flags[@]}" -o "$dir/cuda.test" ./gpu/cuda/
go build "${flags[@]}" -o "$dir/gmk-gpud" ./cmd/gmk-gpud
go build "${flags[@]}" -o "$dir/gmk-gpu-bench" ./cmd/gmk-gpu-bench
cat >"$dir/run.sh" <<'RUN'
#!/bin/bash
# Run from anywhere: the device tests, then the GPU benchmark (args go to it).
cd "$(dirname "$0")"
out=${OUT:-.}
nvidia-smi --query-gpu=name,driver_version,pcie.link.gen.current,pcie.link.width.current --format=csv,noheader
start=$(date +%s)
GMK_GPUD=$PWD/gmk-gpud timeout 240 ./cuda.test -test.v -test.count=1 -test.timeout 230s >"$out/test.log" 2>&1
echo "device tests: rc=$? in $(($(date +%s) - start)) s"
grep -E '^(--- |ok|FAIL|PASS|panic)' "$out/test.log" | head -40
start=$(date +%s)
timeout 120 ./gmk-gpu-bench "$@" >"$out/bench.log" 2>&1
echo "benchmark: rc=$? in $(($(date +%s) - start)) s"
grep -E '^gpu|^# (rtt|device|totals)' "$out/bench.log"
# The round trip again over LL bridge rings (gmk_bridge.h LL RINGS): the
# bridge-rtt inline-ll line, beside the inline one above.
timeout 60 ./gmk-gpu-bench -only rtt -ll "$@" >"$out/bench-ll.log" 2>&1
echo "LL rings: rc=$?"
grep -E '^gpu bridge-rtt|^# rtt' "$out/bench-ll.log"
# Bulk DMA again with 32 workers: the copy engine slows as more worker
# blocks are resident (kernels/NOTES.md), whatever they do.
timeout 60 ./gmk-gpu-bench -only bulk -workers 32 "$@" >"$out/bench-bulk32.log" 2>&1
echo "bulk, 32 workers: rc=$?"
grep -E '^gpu (bridge cuda-dma|probe bulk-dma.*running=true)|^# device' "$out/bench-bulk32.log"
RUN
chmod +x "$dir/run.sh"
du -sh "$dir"
