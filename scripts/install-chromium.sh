#!/usr/bin/env bash
# install-chromium.sh — install Debian's headless-capable `chromium` package,
# used by the admin web view's screenshot test (admin/web_chromium_test.go).
# Idempotent: does nothing when `chromium` is already on PATH (pass --force to
# reinstall). Uses sudo only when not run as root (CI and the dev machines run
# as root). The default build and tests never need this: the web test skips
# with a message when chromium is absent.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && [[ "${1:-}" != "--force" ]]; then
	echo "install-chromium: $(chromium --version 2>/dev/null || echo chromium)"
	exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

$sudo apt-get update -qq
# fonts-dejavu-core gives the screenshot legible labels; chromium's
# recommends (desktop integration, sandbox helpers) are not needed headless.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
	chromium fonts-dejavu-core >/dev/null
echo "install-chromium: $(chromium --version 2>/dev/null || echo chromium)"
