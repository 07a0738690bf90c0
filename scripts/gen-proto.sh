#!/usr/bin/env bash
# Regenerates the Go code of GMK's .proto files (actors/wire/wire.proto).
#
#   scripts/gen-proto.sh           regenerate in place
#   scripts/gen-proto.sh --check   regenerate into a temporary directory and
#                                  diff against the committed files; exit 1
#                                  when they differ (CI)
#
# Installs what is missing: protoc (Debian's protobuf-compiler, through
# apt-get) and protoc-gen-go at the version of google.golang.org/protobuf in
# go.mod (through go install). The header line naming protoc's own version is
# left out of the comparison, so that another protoc release does not fail the
# check while the generated code is the same.
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
case "${1:-}" in
"") ;;
--check) check=true ;;
*) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

protos=(actors/wire/wire.proto actors/cluster/clusterpb/gmkcluster.proto gpu/daemon/daemonpb/daemon.proto)

export PATH="$(go env GOPATH)/bin:$PATH"

if ! command -v protoc >/dev/null; then
	echo "gen-proto: installing protoc (protobuf-compiler)" >&2
	sudo=""
	if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
	$sudo apt-get install -y protobuf-compiler >/dev/null ||
		{ $sudo apt-get update >/dev/null && $sudo apt-get install -y protobuf-compiler >/dev/null; }
fi

want="$(go list -m -f '{{.Version}}' google.golang.org/protobuf)"
have="$(protoc-gen-go --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have" != "$want" ]; then
	echo "gen-proto: installing protoc-gen-go $want (found '${have:-none}')" >&2
	go install "google.golang.org/protobuf/cmd/protoc-gen-go@$want"
fi

gen() { # gen OUTDIR: generate every proto into OUTDIR, paths relative to the repo
	for p in "${protos[@]}"; do
		mkdir -p "$1/$(dirname "$p")"
		protoc -I "$(dirname "$p")" --go_out="$1/$(dirname "$p")" --go_opt=paths=source_relative "$p"
	done
}

if ! $check; then
	gen .
	exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
gen "$tmp"
status=0
for p in "${protos[@]}"; do
	f="${p%.proto}.pb.go"
	if [ ! -f "$f" ]; then
		echo "gen-proto: $f is missing; run scripts/gen-proto.sh" >&2
		status=1
		continue
	fi
	if ! diff -u <(grep -v '^//[[:space:]]*protoc  ' "$f") <(grep -v '^//[[:space:]]*protoc  ' "$tmp/$f") >&2; then
		echo "gen-proto: $f is out of date; run scripts/gen-proto.sh" >&2
		status=1
	fi
done
exit $status
