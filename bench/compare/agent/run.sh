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
# The propagation time of a health change across 5 nodes is measured by the 5-node network
# namespace test (tests/integration), not here. There is no peer to compare with on this
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
exec python3 "$root/bench/compare/agent/measure.py" --agent "$agent" --duration "${DUR:-30}" --services "${SERVICES:-40}"
