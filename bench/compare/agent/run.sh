#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The agent's footprint per node: resident memory (VmRSS) and CPU seconds of the agent process,
# and separately of the service processes it supervises, over a 30 s window at steady state —
# first the embedded default (no configuration: the bundled example services), then a node
# running 40 small process services (busybox httpd, each with an HTTP check every 5 s and Traefik
# labels). Goal (issue 7): under 30 MB RSS per node.
#
#   bench/compare/agent/run.sh                      # from anywhere, after a dev or release build
#   DUR=60 BUILD=build/release bench/compare/agent/run.sh
#   SERVICES=80 bench/compare/agent/run.sh          # another service count
#
# Then, as root with ip and nft, five agents in network namespaces (the integration test's
# scenario, tests/integration/agent_netns_check.py): time to converge, propagation of an
# unhealthy instance to every node's Traefik configuration, Raft failover after kill -9 of the
# leader, partition detection and convergence after healing. Goal: propagation under 1 s for 5
# nodes. NETNS=0 skips this part. There is no peer to compare with on this
# machine (no Consul anchor in ../shared/anchors), so the figures are absolute: compare runs of
# this script with each other, on an otherwise quiet machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
if [ -z "${BUILD:-}" ]; then
  if [ -x "$root/build/release/apps/constellation-agent" ]; then BUILD="$root/build/release"; else BUILD="$root/build/dev"; fi
fi
agent="$BUILD/apps/constellation-agent"
[ -x "$agent" ] || { echo "missing $agent: build it first (cmake --build --preset dev --target constellation-agent)" >&2; exit 1; }
command -v busybox >/dev/null || { echo "busybox is needed for the 40 services (apt-get install busybox)" >&2; exit 1; }
echo "agent: $agent ($("$agent" version)); load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
python3 "$root/bench/compare/agent/measure.py" --agent "$agent" --duration "${DUR:-30}" --services "${SERVICES:-40}"
if [ "${NETNS:-1}" = 1 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null; then
    echo "five-node propagation: skipped (needs root and nft)"
    exit 0
  fi
  echo
  echo "five agents in network namespaces (3 Raft voters, gossip profile fast):"
  py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3  # Debian's, with python3-pytest
  out=$(CST_AGENT="$agent" $py -m pytest -q -s -p no:cacheprovider "$root/tests/integration/agent_netns_check.py" 2>&1) ||
    { echo "$out" | tail -40; exit 1; }
  echo "$out" | grep -E '^\((a|b|c|d)\)'
  echo "$out" | sed -n 's/^figures: //p' | $py -c '
import json, sys
f = json.loads(sys.stdin.read())
print("  unhealthy instance gone from all 5 configs: %s ms after its own node (goal < 1000 ms)" % f["unhealthy_propagation_ms"])
print("  converged after start: %s s; leader failover: %s ms; partition seen: %s s; converged after heal: %s s"
      % (f["converge_seconds"], f["leader_failover_ms"], f["partition_detect_seconds"], f["heal_converge_seconds"]))'
fi
