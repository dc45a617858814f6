#!/usr/bin/env bash
# Builds (once) and caches the real binaries the integration tier runs:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, plus
# the kwok Stage manifests, under $CACHE/bin/<version-stamp>/.
#
#   bash internal/testenv/build.sh              build if needed, print the bin dir last
#   bash internal/testenv/build.sh --print-bin-dir   only print the bin dir (no build)
#
# CACHE is $MLPORTAL_CACHE_DIR, else $XDG_CACHE_HOME/mlportal, else ~/.cache/mlportal.
# Idempotent: when $BIN/.complete exists the script does nothing. Safe to run
# concurrently (flock). Versions are pinned in tools/*/go.mod.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="$HERE/tools"

K8S_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0

CACHE="${MLPORTAL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlportal}"

# The stamp names the versions and hashes the pinned dependency graphs and the
# Go toolchain, so a change to any of them builds into a fresh directory.
go_version="$(go env GOVERSION)"
graph_hash="$(cat "$TOOLS"/*/go.mod "$TOOLS"/*/go.sum | { echo "$go_version"; cat; } | sha256sum | cut -c1-10)"
STAMP="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_${go_version}_${graph_hash}"
BIN="$CACHE/bin/$STAMP"

if [[ "${1:-}" == "--print-bin-dir" ]]; then
	echo "$BIN"
	exit 0
fi

log() { printf '[testenv build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ -f "$BIN/.complete" ]]; then
	log "cached: $BIN"
	echo "$BIN"
	exit 0
fi

mkdir -p "$CACHE/bin"
exec 9>"$CACHE/bin/.build.lock"
log "waiting for build lock $CACHE/bin/.build.lock"
flock 9
if [[ -f "$BIN/.complete" ]]; then # another build finished while we waited
	log "cached: $BIN"
	echo "$BIN"
	exit 0
fi

WORK="$BIN.partial"
rm -rf "$WORK"
mkdir -p "$WORK/stages"
start=$SECONDS

log "etcd $ETCD_VERSION"
(cd "$TOOLS/etcd" && go build -trimpath -ldflags "-s -w" -o "$WORK/etcd" go.etcd.io/etcd/server/v3)

log "kwok $KWOK_VERSION"
(cd "$TOOLS/kwok" && go build -trimpath -ldflags "-s -w" -o "$WORK/kwok" sigs.k8s.io/kwok/cmd/kwok)

# kwok's standalone binary ships no stages; copy the upstream ones it needs.
kwok_dir="$(cd "$TOOLS/kwok" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [[ -z "$kwok_dir" || ! -d "$kwok_dir/kustomize/stage" ]]; then
	log "cannot locate kwok $KWOK_VERSION in the module cache"
	exit 1
fi
for s in node/fast node/heartbeat pod/general; do
	dst="$WORK/stages/${s//\//-}"
	mkdir -p "$dst"
	for f in "$kwok_dir/kustomize/stage/$s"/*.yaml; do
		[[ "$(basename "$f")" == kustomization.yaml ]] && continue
		cp "$f" "$dst/"
	done
	chmod -R u+w "$dst"
done

log "kube-apiserver, kube-controller-manager, kube-scheduler $K8S_VERSION (cold: several minutes)"
minor="${K8S_VERSION#v1.}"
minor="${minor%%.*}"
(cd "$TOOLS/kubernetes" && go build -trimpath -ldflags "-s -w \
	-X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
	-X k8s.io/component-base/version.gitMajor=1 \
	-X k8s.io/component-base/version.gitMinor=$minor \
	-X k8s.io/component-base/version.gitTreeState=clean" \
	-o "$WORK/" \
	k8s.io/kubernetes/cmd/kube-apiserver \
	k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler)

for b in etcd kwok kube-apiserver kube-controller-manager kube-scheduler; do
	[[ -x "$WORK/$b" ]] || { log "missing $WORK/$b after build"; exit 1; }
done
echo "$STAMP" >"$WORK/.complete"
rm -rf "$BIN"
mv "$WORK" "$BIN"
ln -sfn "$STAMP" "$CACHE/bin/current"
log "built in $((SECONDS - start))s: $BIN"
echo "$BIN"
