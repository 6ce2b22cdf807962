#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# HashiCorp memberlist (the anchor's mlbench, ../shared/anchors/memberlist) and Constellation
# (build/dev/bench/gossip_cluster) back to back on this machine with the same timing profile,
# N real-socket nodes in one process each, and the ratios Constellation / memberlist for:
# time to converge, time until the first and all nodes mark a stopped node dead, false "dead"
# declarations of healthy nodes (also under 10 % outgoing UDP loss), CPU seconds and RSS per node,
# packets and bytes per node per second. Only ratios from one run mean anything (shared machine).
#
#   bench/compare/gossip/run.sh                              # from the repository root, after a dev build
#   NS="16 64" PROFILES=fast STEADY=20 LOSS_NS="16 64" bench/compare/gossip/run.sh
# Env: NS ("16 64 256") PROFILES ("lan fast") STEADY (30, s) LOSS (0.10) LOSS_NS ("16 64 256")
#      LOSS_PROFILES ("fast") WATCH (60, s: window under loss) CONV_TIMEOUT (90) FAIL_TIMEOUT (90)
#      LOAD_THREADS (0: busy-loop threads running during both, for a controlled background load)
#      ANCHORS (../shared/anchors) BUILD (build/dev) SKIP_MEMBERLIST=1
# memberlist needs Go and Debian's golang-github-hashicorp-memberlist-dev (the anchor's run.sh
# installs them); when either is missing the peer is skipped and said so.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
here="$root/bench/compare/gossip"
anchors=${ANCHORS:-"$root/../shared/anchors"}
[ -d "$anchors/memberlist" ] || anchors=/work/shared/anchors
build=${BUILD:-"$root/build/dev"}
NS=${NS:-"16 64 256"}; PROFILES=${PROFILES:-"lan fast"}; STEADY=${STEADY:-30}
LOSS=${LOSS:-0.10}; LOSS_NS=${LOSS_NS:-"16 64 256"}; LOSS_PROFILES=${LOSS_PROFILES:-fast}; WATCH=${WATCH:-60}
CONV_TIMEOUT=${CONV_TIMEOUT:-90}; FAIL_TIMEOUT=${FAIL_TIMEOUT:-90}; LOAD_THREADS=${LOAD_THREADS:-0}
out=$(mktemp -d -t cst-gossip-compare.XXXXXX)
echo "results in $out; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

cst="$build/bench/gossip_cluster"
[ -x "$cst" ] || { echo "missing $cst: build it first (cmake --build --preset dev --target gossip_cluster)" >&2; exit 1; }

mlbench=""
if [ "${SKIP_MEMBERLIST:-0}" = 1 ]; then
  echo "memberlist: skipped (SKIP_MEMBERLIST=1)"
elif [ ! -f "$anchors/memberlist/mlbench/main.go" ]; then
  echo "memberlist: the anchor harness is absent ($anchors/memberlist/mlbench): skipping the peer"
elif ! command -v go >/dev/null 2>&1 || ! dpkg -s golang-github-hashicorp-memberlist-dev >/dev/null 2>&1; then
  echo "memberlist: Go or golang-github-hashicorp-memberlist-dev is not installed (run the anchor's run.sh once): skipping the peer"
else
  mlbench="$out/mlbench"
  (cd "$anchors/memberlist/mlbench" && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
     GOCACHE="${GOCACHE:-/tmp/mlbench-gocache}" go build -o "$mlbench" .)
  echo "memberlist: $(dpkg -s golang-github-hashicorp-memberlist-dev | grep -i '^version'), $(go version)"
fi

loaders=()
if [ "$LOAD_THREADS" -gt 0 ]; then
  for _ in $(seq 1 "$LOAD_THREADS"); do (while :; do :; done) & loaders+=($!); done
  echo "background load: $LOAD_THREADS busy-loop processes"
fi
cleanup() { for p in "${loaders[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

run_pair() {  # profile n loss window
  local p=$1 n=$2 loss=$3 win=$4
  if [ -n "$mlbench" ]; then
    "$mlbench" -n "$n" -profile "$p" -loss "$loss" -steady "${win}s" -conv-timeout "${CONV_TIMEOUT}s" \
      -fail-timeout "${FAIL_TIMEOUT}s" >> "$out/memberlist.jsonl" 2>> "$out/memberlist.log" \
      || echo "memberlist run failed: n=$n $p loss=$loss" | tee -a "$out/memberlist.log"
    tail -n 1 "$out/memberlist.log" || true
  fi
  "$cst" -n "$n" -profile "$p" -loss "$loss" -steady "$win" -conv-timeout "$CONV_TIMEOUT" \
    -fail-timeout "$FAIL_TIMEOUT" >> "$out/constellation.jsonl" 2>> "$out/constellation.log" \
    || echo "constellation run failed: n=$n $p loss=$loss" | tee -a "$out/constellation.log"
  tail -n 1 "$out/constellation.log" || true
}

for p in $PROFILES; do
  for n in $NS; do run_pair "$p" "$n" 0 "$STEADY"; done
done
for p in $LOSS_PROFILES; do
  for n in $LOSS_NS; do run_pair "$p" "$n" "$LOSS" "$WATCH"; done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/compare.py" "$out/memberlist.jsonl" "$out/constellation.jsonl" | tee "$out/summary.md"
