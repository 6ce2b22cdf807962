#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Record changes per second into PowerDNS: the peer harness's rate (one PATCH per change, wrk,
# ../shared/anchors/peers/pdns.sh) against constellation-dnsbot converging N host names (2 A records
# each, plus registry TXT) through batched rrset PATCHes, on the same machine, back to back.
# Prints both rates and their ratio from one run (the machine is shared: only the ratio means much).
#
# Usage: bash bench/compare/dns/pdns_changes.sh [build dir]   (env: N=1000 hosts)
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-$root/build/dev}
N=${N:-1000}
anchors=""
for d in "$root/../shared/anchors" "$root/../../shared/anchors"; do [ -d "$d" ] && anchors=$d && break; done
dnsbot="$build/apps/constellation-dnsbot"
[ -x "$dnsbot" ] || { echo "build constellation-dnsbot first ($dnsbot)"; exit 1; }

if [ -n "$anchors" ] && [ -f "$anchors/peers/pdns.sh" ]; then
  peer=$(RUNS=1 DUR=3s bash "$anchors/peers/pdns.sh" 2>/dev/null | awk '/RESULT pdns API PATCH seq/{for(i=1;i<=NF;i++) if($i ~ /^changes\/s=/){split($i,a,"="); print a[2]}}')
  echo "peer: pdns.sh, one PATCH per change, sequential: ${peer:-?} changes/s"
else
  peer=""
  echo "peer harness ../shared/anchors/peers/pdns.sh not found: reporting Constellation's figure only"
fi

ours=$(N=$N DNSBOT=$dnsbot CST_SOURCE_DIR=$root /usr/bin/python3 - <<'PY'
import json, os, shutil, sys, tempfile, time
sys.path.insert(0, os.path.join(os.environ["CST_SOURCE_DIR"], "tests", "integration"))
import pytest  # noqa: F401 (dnsfixtures uses pytest.fail for missing tools)
from dnsfixtures import Dnsbot, PowerDns, node, routed, snapshot
n = int(os.environ["N"])
tmp = tempfile.mkdtemp(prefix="cst-pdns-bench-")
server = None
try:
    server = PowerDns(tmp)
    cfg = {"owner": "bench", "zones": [{"name": "example.test", "provider": "p"}], "providers": {"p": server.provider()},
           "safety": {"deletion_grace_seconds": 0, "max_delete_fraction": 1.0}}
    bot = Dnsbot(os.environ["DNSBOT"], tmp, cfg)
    insts = [routed(f"s{i}", f"h{i}.example.test") for i in range(n)]
    snap = snapshot(node(1, "198.51.100.1"), node(2, "198.51.100.2"), node(3, "198.51.100.3", roles=(), instances=insts))
    t0 = time.monotonic()
    bot.run("apply", snap)
    create = time.monotonic() - t0
    snap["nodes"][1]["status"] = "failed"
    t0 = time.monotonic()
    bot.run("apply", snap)
    fail = time.monotonic() - t0
    # record changes: creates = 2 per host; node failure = 1 per host
    print(f"{2 * n / create:.0f} {n / fail:.0f} {create:.2f} {fail:.2f}")
finally:
    if server:
        server.stop()
    shutil.rmtree(tmp, ignore_errors=True)
PY
)
read -r create_rate fail_rate create_s fail_s <<<"$ours"
echo "constellation-dnsbot, batched rrset PATCH: create $((2*N)) records in ${create_s}s = ${create_rate} changes/s;" \
     "node failure, $N records in ${fail_s}s = ${fail_rate} changes/s (whole runs: process start, listing, plan, write)"
if [ -n "$peer" ]; then
  python3 -c "print(f'ratio (ours / peer): create {float($create_rate)/float($peer):.1f}x, node failure {float($fail_rate)/float($peer):.1f}x')"
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
