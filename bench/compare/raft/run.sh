#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs etcd 3.4 (3 members), hashicorp/raft 1.1.2 (3 nodes, boltdb) and Constellation (3 voters)
# back to back on this machine and prints ratios: 256-byte writes with 1, 16 and 64 clients
# (writes/s, p99), lease grant and renew, time to first leader, failover after kill -9 of the
# leader at default and fast timeouts. Only ratios from one run mean anything (shared machine).
#
#   bench/compare/raft/run.sh                 # from the repository root, after a dev build
#   DUR=5 TRIALS=3 ANCHORS=/path/to/shared/anchors BUILD=build/dev bench/compare/raft/run.sh
#   SKIP_ETCD=1 / SKIP_HASHICORP=1            # leave a peer out
#
# The peers' harnesses live in ../shared/anchors (peers/etcd.sh + etcd-bench, raft/main.go); they
# install their Debian packages (etcd-server, etcd-client, golang-go, golang-etcd-server-dev,
# golang-github-hashicorp-raft-dev, golang-github-hashicorp-raft-boltdb-dev) when missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
here="$root/bench/compare/raft"
anchors=${ANCHORS:-"$root/../shared/anchors"}
build=${BUILD:-"$root/build/dev"}
DUR=${DUR:-5}
TRIALS=${TRIALS:-3}
out=$(mktemp -d -t cst-raft-compare.XXXXXX)
echo "results in $out; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

node="$build/tests/integration/raft_node"
[ -x "$node" ] || { echo "missing $node: build first (cmake --build --preset dev)" >&2; exit 1; }

if [ "${SKIP_ETCD:-0}" != 1 ]; then
  if [ -f "$anchors/peers/etcd.sh" ]; then
    echo "=== etcd 3.4, 3 members (anchors/peers/etcd.sh, native gRPC) ==="
    CLUSTERS=c3m NATIVE=1 GATEWAY=0 CHECKPERF=0 RUNS=1 DUR="${DUR}s" bash "$anchors/peers/etcd.sh" | tee "$out/etcd.txt"
    echo "=== etcd 3.4: first leader and failover after kill -9 ==="
    python3 "$here/compare.py" etcd-failover --trials "$TRIALS" --out "$out/etcd-failover.json"
  else
    echo "etcd anchor not found at $anchors/peers/etcd.sh (set ANCHORS=...): skipping etcd"
  fi
fi

if [ "${SKIP_HASHICORP:-0}" != 1 ]; then
  if [ -f "$anchors/raft/main.go" ]; then
    pkgs="golang-go golang-github-hashicorp-raft-dev golang-github-hashicorp-raft-boltdb-dev"
    dpkg -s $pkgs >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $pkgs >/dev/null
    (cd "$anchors/raft" && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= go build -o "$out/raftbench" .)
    echo "=== hashicorp/raft (anchors/raft, boltdb, 3 nodes in one process) ==="
    "$out/raftbench" -store bolt -timeouts default -trials "$TRIALS" -conc 1,16,64 -dur "${DUR}s" -dir "$out/hc-default" > "$out/hashicorp-default.json"
    "$out/raftbench" -store bolt -timeouts fast -trials "$TRIALS" -conc "" -dir "$out/hc-fast" > "$out/hashicorp-fast.json"
    rm -rf "$out/hc-default" "$out/hc-fast"
  else
    echo "hashicorp/raft anchor not found at $anchors/raft (set ANCHORS=...): skipping it"
  fi
fi

echo "=== Constellation, 3 voters (raft_node processes, HTTP keep-alive clients) ==="
python3 "$here/compare.py" constellation --node "$node" --dur "$DUR" --trials "$TRIALS" --out "$out/constellation.json"

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/compare.py" summarize --dir "$out"
