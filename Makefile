# GMK — build, test and benchmark targets. `make help` lists them.
GO      ?= go
PKGS    := ./...
RACE    := -race
TESTFLAGS ?=

.PHONY: help lib test test-short test-notrace test-ring test-alloc test-sched test-chan \
        test-module test-worker test-boot test-actors test-chans bench bench-micro verify proto \
        run run-pipeline run-tree run-sim test-det test-bridge test-cluster test-sdk test-gpu clean \
        test-kernels kernels cuda-check cuda-test cuda-pack gen run-gpud

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

lib: ## go build ./...
	$(GO) build $(PKGS)

test: ## the whole suite under the race detector, plus the gmk_notrace build
	$(GO) test $(RACE) $(TESTFLAGS) $(PKGS)
	$(GO) test -count=1 $(TESTFLAGS) $(PKGS)
	$(GO) test -tags gmk_notrace -count=1 ./kernel/...

test-short: ## quick run (soak test cut to 100k tasks)
	$(GO) test $(RACE) -short $(TESTFLAGS) $(PKGS)

test-notrace: ## kernel tests with tracing compiled out
	$(GO) test -tags gmk_notrace $(TESTFLAGS) ./kernel/...

test-ring: ## lock-free rings [R1] [R2]
	$(GO) test $(RACE) $(TESTFLAGS) ./kernel/ring/

test-alloc: ## arena, slab, bins, bump, payload handles [A1]-[A5]
	$(GO) test $(RACE) $(TESTFLAGS) ./kernel/alloc/

test-sched: ## RQ, GRQ, LQ, EVQ, enqueue core [S1]-[S6]
	$(GO) test $(RACE) $(TESTFLAGS) ./kernel/sched/
	$(GO) test $(RACE) $(TESTFLAGS) -run 'Test(S[0-9]|R2)' ./kernel/

test-chan: ## channels [C1]-[C11]
	$(GO) test $(RACE) $(TESTFLAGS) ./kernel/channel/
	$(GO) test $(RACE) $(TESTFLAGS) -run 'Test(C[0-9]|A4|A5)' ./kernel/

test-module: ## modules, dispatch, faults [M1]-[M3] [F1]-[F3]
	$(GO) test $(RACE) $(TESTFLAGS) -run 'Test(M[0-9]|F[0-9]|T[0-9])' ./kernel/ ./kernel/task/

test-worker: ## workers, yield, tracing, soak [Y1]-[Y4] [O1]-[O3]
	$(GO) test $(RACE) $(TESTFLAGS) -run 'Test(Y[0-9]|O[0-9]|Soak|Smoke)' ./kernel/
	$(GO) test $(RACE) $(TESTFLAGS) ./kernel/trace/ ./kernel/metrics/

test-boot: ## boot, halt, config [K2] [K3]
	$(GO) test $(RACE) $(TESTFLAGS) -run 'Test(K[0-9]|M2|C11|Tenant|Boot|Halt)|Example' ./kernel/

test-det: ## the deterministic lane [D1] [D2], tick fences across kernels, and the simulation
	$(GO) test $(RACE) $(TESTFLAGS) -run 'TestD[0-9]' ./kernel/ ./examples/sim/ ./gpu/system/

test-bridge: ## bridge ring ABI (Go against the C header), transports, batching [B1]-[B4]
	$(GO) test $(RACE) $(TESTFLAGS) ./bridge/... ./cmd/gmk-bridge-bench/

test-cluster: ## cluster channels across members [X5] (tests that start cluster members run without -race)
	$(GO) test $(RACE) $(TESTFLAGS) -run 'X5' ./kernel/ ./kernel/channel/
	$(GO) test $(RACE) $(TESTFLAGS) ./actors/cluster/ ./examples/cluster/
	$(GO) test -count=1 $(TESTFLAGS) ./actors/cluster/ ./internal/bench/clusterbench/

test-sdk: ## the tier-2 SDK and the standard modules [U1] [U2]
	$(GO) test $(RACE) $(TESTFLAGS) ./kernel/sdk/ ./modules/...

test-gpu: ## the simulated GPU kernel, bridge channels, dual boot, watchdog reset/reboot, the GPU daemon [G1]-[G3] [B1]-[B4] [K1] [F4] [X6] [O4]
	$(GO) test $(RACE) $(TESTFLAGS) ./gpu/... ./bridge/link/ ./examples/offload/ ./cmd/gmk-gpud/
	$(GO) test -count=1 $(TESTFLAGS) -run 'Daemon|X6|F4' ./gpu/system/ ./gpu/daemon/

test-kernels: ## GMK/gpu's device data structures as host C under threads (rings, slab, bump, EVQ, bridge ring) [G2]
	$(GO) test $(RACE) $(TESTFLAGS) ./kernels/hosttest/

gen: ## regenerate the task types (types/types_gen.go, kernels/include/gmk_types.h) from types.toml
	$(GO) run ./cmd/gmk gen types

kernels: ## regenerate the dispatch switch, build the kernel PTX (sm_90, sm_80), print the register report (needs nvcc)
	$(GO) run ./cmd/gmk-kbuild

cuda-check: ## install the CUDA toolkit; vet and build with -tags cuda; build the device test binary; check the committed PTX
	scripts/install-cuda.sh
	$(GO) vet -tags cuda $(PKGS)
	$(GO) build -tags cuda $(PKGS)
	$(GO) test -c -tags cuda -o /dev/null ./gpu/cuda/
	$(GO) run ./cmd/gmk-kbuild --check
	$(GO) test -count=1 $(TESTFLAGS) ./internal/kbuild/ ./cmd/gmk-kbuild/

cuda-test: ## on a machine with an NVIDIA GPU: the device tests and the GPU benchmark (skipped, saying why, without one)
	@if ! nvidia-smi -L >/dev/null 2>&1; then \
		echo "cuda-test: no NVIDIA GPU here (nvidia-smi -L failed): skipping the device tests and the GPU benchmark"; \
	else \
		$(GO) build -tags cuda -o $(CURDIR)/.gmk-gpud-cuda ./cmd/gmk-gpud && \
		GMK_GPUD=$(CURDIR)/.gmk-gpud-cuda $(GO) test -tags cuda -count=1 -v ./gpu/cuda/ && \
		$(GO) run -tags cuda ./cmd/gmk-gpu-bench; \
	fi

cuda-pack: ## build the device tests, gmk-gpud and the GPU benchmark (-tags cuda) into .devrun/ with run.sh, for a GPU machine without Go
	scripts/cuda-pack.sh .devrun

test-actors: ## module actors, supervision mapping, OTP strategies, YAML tree [X1] [X2] [X4]
	$(GO) test $(RACE) $(TESTFLAGS) ./actors/ ./actors/supervise/ ./actors/config/ ./examples/tree/

test-chans: ## channel actors and wire messages [X3] (the remote test runs without -race)
	$(GO) test $(RACE) $(TESTFLAGS) ./actors/wire/ ./actors/chans/
	$(GO) test -count=1 $(TESTFLAGS) -run 'TestX3_Remote' ./actors/chans/

bench: ## GMK vs Go channels vs protoactor-go, one run, ratio lines; determinism overhead; bridge throughput
	$(GO) run ./cmd/gmk-bench
	$(GO) run ./cmd/gmk-bridge-bench

bench-micro: ## go test benchmarks of every hot structure (and the notrace difference)
	$(GO) test -run '^$$' -bench . -benchmem ./kernel/...
	$(GO) test -run '^$$' -bench . -benchmem -tags gmk_notrace ./kernel/trace/

web-check: ## install headless Chromium (Debian's chromium) and run the web view's screenshot test [U5]
	./scripts/install-chromium.sh
	$(GO) test $(RACE) -count=1 -run 'TestU5_Web' ./admin/
	$(GO) test -count=1 -run 'TestX5_WebChromium' ./admin/   # with cluster members: protoactor's code trips -race

verify: ## gofmt, go vet, go mod tidy diff, generated task types and protobuf code up to date
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) vet -tags gmk_notrace ./kernel/...
	$(GO) mod tidy -diff
	$(GO) run ./cmd/gmk gen types --check
	scripts/gen-proto.sh --check

proto: ## regenerate the .pb.go files from the .proto files (installs protoc, protoc-gen-go when missing)
	scripts/gen-proto.sh

run: ## GMK's main job: CPU ingest → (simulated) GPU transform → CPU store over bridge channels
	$(GO) run ./examples/offload

run-pipeline: ## the example pipeline on the CPU kernel alone
	$(GO) run ./examples/pipeline

run-tree: ## the pipeline booted from its YAML supervision tree, under supervision
	$(GO) run ./examples/tree

run-gpud: ## the main job with the GPU kernel in its own daemon process (cmd/gmk-gpud) over shared-memory bridge rings
	$(GO) build -o $${TMPDIR:-/tmp}/gmk-gpud ./cmd/gmk-gpud && $(GO) run ./examples/offload -gpud $${TMPDIR:-/tmp}/gmk-gpud

run-sim: ## the deterministic simulation: same output and trace hash for any worker count
	$(GO) run ./examples/sim

clean: ## remove build and test caches of this module
	$(GO) clean -testcache
	rm -f *.test *.out *.prof
