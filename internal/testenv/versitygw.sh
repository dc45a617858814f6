#!/usr/bin/env bash
# Builds (once) and caches versitygw, the S3-compatible server over a plain
# directory that the integration tier tests the S3 artifact store against,
# under $CACHE/bin/versitygw-<version>_<go>_<hash>/versitygw.
#
#   bash internal/testenv/versitygw.sh              build if needed, print the binary's path last
#   bash internal/testenv/versitygw.sh --print-bin  only print the binary's path (no build)
#
# CACHE is $MLPORTAL_CACHE_DIR, else $XDG_CACHE_HOME/mlportal, else ~/.cache/mlportal.
# Idempotent and safe to run concurrently (flock). The version is pinned in
# tools-s3/versitygw/go.mod; this is kept apart from tools/, whose hash names
# the (slow) Kubernetes build, so bumping versitygw never rebuilds Kubernetes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MOD="$HERE/tools-s3/versitygw"

CACHE="${MLPORTAL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlportal}"

version="$(awk '$1 == "github.com/versity/versitygw" { print $2 }' "$MOD/go.mod")"
if [[ -z "$version" ]]; then
	echo "[testenv versitygw] no github.com/versity/versitygw requirement in $MOD/go.mod" >&2
	exit 1
fi
go_version="$(go env GOVERSION)"
graph_hash="$(cat "$MOD/go.mod" "$MOD/go.sum" | { echo "$go_version"; cat; } | sha256sum | cut -c1-10)"
DIR="$CACHE/bin/versitygw-${version}_${go_version}_${graph_hash}"
BIN="$DIR/versitygw"

if [[ "${1:-}" == "--print-bin" ]]; then
	echo "$BIN"
	exit 0
fi

log() { printf '[testenv versitygw %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ -x "$BIN" ]]; then
	log "cached: $BIN"
	echo "$BIN"
	exit 0
fi

mkdir -p "$CACHE/bin"
exec 9>"$CACHE/bin/.versitygw.lock"
log "waiting for build lock $CACHE/bin/.versitygw.lock"
flock 9
if [[ -x "$BIN" ]]; then # another build finished while we waited
	log "cached: $BIN"
	echo "$BIN"
	exit 0
fi

start=$SECONDS
log "building versitygw $version (cold: about a minute)"
WORK="$DIR.partial"
rm -rf "$WORK"
mkdir -p "$WORK"
(cd "$MOD" && go build -trimpath -ldflags "-s -w" -o "$WORK/versitygw" github.com/versity/versitygw/cmd/versitygw)
[[ -x "$WORK/versitygw" ]] || { log "missing $WORK/versitygw after build"; exit 1; }
rm -rf "$DIR"
mv "$WORK" "$DIR"
log "built in $((SECONDS - start))s: $BIN"
echo "$BIN"
