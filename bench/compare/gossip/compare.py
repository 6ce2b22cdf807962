#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Prints memberlist vs Constellation side by side from the two JSONL files of run.sh
(mlbench's field names; gossip_cluster writes the same ones), with ratios Constellation/memberlist.
Usage: compare.py memberlist.jsonl constellation.jsonl"""
import json
import os
import sys


def load(path):
    rows = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                rows[(r["Profile"], float(r.get("Loss", 0) or 0), r["N"])] = r
    return rows


def metrics(r):
    if r is None:
        return {}
    steady = r.get("SteadySec") or 1
    total_bytes = r.get("TotalBytesPerNodeSec")
    return {
        "converged": f"{r.get('ConvergedNodes', '?')}/{r['N']}",
        "converge ms": r["ConvergeMs"] if r.get("Converged") else None,
        "1st dead ms": r.get("FirstDeadMs"),
        "all dead ms": r.get("AllDeadMs") if r.get("AllDetected") else None,
        "false-dead episodes": r.get("FalseDeadEpisodes"),
        "suspect transitions": r.get("SuspectTransitions"),
        "CPU s/node": r.get("CPUSecPerNode"),
        "CPU ms/node/s": 1000 * r["CPUSecPerNode"] / steady if r.get("CPUSecPerNode") is not None else None,
        "RSS KiB/node": r.get("RSSPerNodeKB"),
        "pkt/node/s": r.get("UDPPktsPerNodeSec"),
        "B/node/s": total_bytes,
    }


def fmt(v):
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if isinstance(v, float) and abs(v) < 10 and v != int(v):
        return f"{v:.3f}"
    return f"{v:.0f}"


def ratio(c, m, peer_ran=True):
    if not peer_ran:
        return ""
    if isinstance(c, (int, float)) and isinstance(m, (int, float)) and m:
        return f"{c / m:.2f}×"
    if isinstance(c, (int, float)) and m is None:
        return "(memberlist: never)"
    return ""


def main():
    ml, cst = load(sys.argv[1]), load(sys.argv[2])
    keys = sorted(set(ml) | set(cst), key=lambda k: (k[1], k[0], k[2]))
    if not ml:
        print("(no memberlist results: the peer was skipped — Constellation figures only)\n")
    for k in keys:
        p, loss, n = k
        a, b = metrics(ml.get(k)), metrics(cst.get(k))
        print(f"### profile {p}, N = {n}, outgoing UDP loss {loss:.0%}\n")
        print("| metric | memberlist | constellation | ratio (cst/ml) |")
        print("|---|---|---|---|")
        ml_row = ml.get(k)
        storm = ml_row is not None and not ml_row.get("Converged")
        for name in metrics(cst.get(k) or ml.get(k)):
            r = ratio(b.get(name), a.get(name), ml_row is not None)
            if storm and name in ("1st dead ms", "all dead ms"):
                r = "n/a (memberlist never converged: its detection times measure the storm)"
            print(f"| {name} | {fmt(a.get(name))} | {fmt(b.get(name))} | {r} |")
        host_load = (cst.get(k) or ml.get(k) or {}).get("LoadAvgStart", "")
        print(f"\nhost load at start: {host_load}\n")


if __name__ == "__main__":
    main()
