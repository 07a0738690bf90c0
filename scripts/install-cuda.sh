#!/usr/bin/env bash
# install-cuda.sh — install the CUDA toolkit (nvcc, ptxas, cuda.h, libcuda stubs)
# from Debian's non-free component. Idempotent; needs root (CI and the dev
# machines run as root). The default build and tests never need this: only
# `make cuda-check` and the kernel build do.
set -euo pipefail

if command -v nvcc >/dev/null 2>&1 && [[ "${1:-}" != "--force" ]]; then
	echo "install-cuda: $(nvcc --version | tail -1)"
	exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

# Add non-free (and contrib, which some CUDA packages pull from) to every Debian
# source that lacks it: deb822 files (*.sources) and one-line lists alike.
for f in /etc/apt/sources.list.d/*.sources; do
	[[ -f "$f" ]] || continue
	if grep -q '^Components:' "$f" && ! grep -q '^Components:.*non-free\b' "$f"; then
		$sudo sed -i -E 's/^(Components:.*)$/\1 contrib non-free non-free-firmware/' "$f"
	fi
done
if [[ -f /etc/apt/sources.list ]]; then
	$sudo sed -i -E '/^deb /{/non-free/!s/ main( |$)/ main contrib non-free non-free-firmware\1/}' /etc/apt/sources.list
fi

$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
	nvidia-cuda-toolkit nvidia-cuda-dev >/dev/null
echo "install-cuda: $(nvcc --version | tail -1)"
