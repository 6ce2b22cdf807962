#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Measurement and summary steps of bench/compare/raft/run.sh.

  compare.py constellation --node raft_node --dur S --trials N --out F.json
  compare.py etcd-failover --trials N --out F.json
  compare.py summarize --dir D
"""
import argparse
import base64
import glob
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

KEY = "compare-cluster-key-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port, method, path, body=b"", timeout=1.0):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body if method != "GET" else None, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""


# --- Constellation -----------------------------------------------------------------------------

class Cluster:
    def __init__(self, node, workdir, fast):
        self.node, self.workdir, self.fast = node, workdir, fast
        self.raft = {i: free_port() for i in (1, 2, 3)}
        self.http = {i: free_port() for i in (1, 2, 3)}
        self.procs = {}

    def start(self):
        voters = []
        for i, p in self.raft.items():
            voters += ["--voter", f"{i}=127.0.0.1:{p}"]
        t0 = time.monotonic()
        for i in self.raft:
            args = [self.node, "run", "--id", str(i), "--data-dir", os.path.join(self.workdir, f"n{i}"),
                    "--cluster-key", KEY, "--http", f"127.0.0.1:{self.http[i]}"] + voters
            if self.fast:
                args.append("--fast")
            if os.environ.get("SNAPSHOT_ENTRIES"):
                args += ["--snapshot-entries", os.environ["SNAPSHOT_ENTRIES"]]
            self.procs[i] = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for p in self.procs.values():
            p.stdout.readline()
        return t0

    def leader(self, exclude=(), timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, port in self.http.items():
                if i in exclude:
                    continue
                code, body = http(port, "GET", "/v1/status", timeout=0.5)
                if code == 200 and json.loads(body)["role"] == "leader":
                    return i, time.monotonic()
            time.sleep(0.001)
        raise RuntimeError("no leader")

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()


def load(node, port, mode, conc, dur):
    out = subprocess.run([node, "load", "--http", str(port), "--mode", mode, "--conc", str(conc), "--seconds", str(dur)],
                         capture_output=True, text=True, check=True).stdout
    vals = dict(line.split() for line in out.strip().splitlines())
    return {"rps": float(vals["RPS"]), "p50_ms": float(vals["LAT_P50_MS"]), "p99_ms": float(vals["LAT_P99_MS"]),
            "errors": int(vals["ERRS"])}


def constellation(args):
    res = {"throughput": {}, "trials": {}}
    for profile in ("default", "fast"):
        trials = []
        for t in range(args.trials):
            work = tempfile.mkdtemp(prefix="cst-cmp-", dir="/var/tmp")
            c = Cluster(args.node, work, fast=(profile == "fast"))
            try:
                t0 = c.start()
                leader, tl = c.leader()
                first = (tl - t0) * 1000
                if profile == "default" and t == 0:
                    port = c.http[leader]
                    load(args.node, port, "put", 4, 1)  # warm-up
                    for conc in (1, 16, 64):
                        res["throughput"][f"put_c{conc}"] = load(args.node, port, "put", conc, args.dur)
                    res["throughput"]["grant_c1"] = load(args.node, port, "acquire", 1, args.dur)
                    res["throughput"]["grant_c16"] = load(args.node, port, "acquire", 16, args.dur)
                    res["throughput"]["renew_c16"] = load(args.node, port, "renew", 16, args.dur)
                time.sleep(0.5)
                tk = time.monotonic()
                c.procs[leader].kill()
                new, te = c.leader(exclude=(leader,))
                elected = (te - tk) * 1000
                while True:
                    code, _ = http(c.http[new], "PUT", "/v1/kv/after-failover", b"x", timeout=2)
                    if code == 200:
                        break
                    if time.monotonic() - tk > 30:
                        raise RuntimeError("no write after failover")
                    new, _ = c.leader(exclude=(leader,))
                writable = (time.monotonic() - tk) * 1000
                trials.append({"first_leader_ms": first, "failover_elected_ms": elected, "failover_writable_ms": writable})
            finally:
                c.stop()
                shutil.rmtree(work, ignore_errors=True)
        res["trials"][profile] = trials
    with open(args.out, "w") as f:
        json.dump(res, f)
    print(json.dumps(res, indent=1))


# --- etcd failover ---------------------------------------------------------------------------------

def etcd_status(port):
    code, body = http(port, "POST", "/v3/maintenance/status", b"{}", timeout=0.5)
    if code != 200:
        return None
    d = json.loads(body)
    return d.get("leader") == d.get("header", {}).get("member_id"), d


def etcd_failover(args):
    trials = []
    for t in range(args.trials):
        work = tempfile.mkdtemp(prefix="cst-etcd-", dir="/var/tmp")
        cp = {i: free_port() for i in (1, 2, 3)}
        pp = {i: free_port() for i in (1, 2, 3)}
        ic = ",".join(f"e{i}=http://127.0.0.1:{pp[i]}" for i in cp)
        procs = {}
        try:
            t0 = time.monotonic()
            for i in cp:
                procs[i] = subprocess.Popen(
                    ["etcd", "--name", f"e{i}", "--data-dir", os.path.join(work, f"e{i}"),
                     "--listen-client-urls", f"http://127.0.0.1:{cp[i]}", "--advertise-client-urls", f"http://127.0.0.1:{cp[i]}",
                     "--listen-peer-urls", f"http://127.0.0.1:{pp[i]}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{pp[i]}",
                     "--initial-cluster", ic, "--initial-cluster-state", "new", "--initial-cluster-token", f"cmp{t}",
                     "--log-level", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

            def leader(exclude=()):
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    for i, port in cp.items():
                        if i in exclude:
                            continue
                        s = etcd_status(port)
                        if s and s[0]:
                            return i, time.monotonic()
                    time.sleep(0.001)
                raise RuntimeError("etcd: no leader")

            lead, tl = leader()
            first = (tl - t0) * 1000
            time.sleep(0.5)
            tk = time.monotonic()
            procs[lead].kill()
            new, te = leader(exclude=(lead,))
            elected = (te - tk) * 1000
            body = json.dumps({"key": base64.b64encode(b"after").decode(), "value": base64.b64encode(b"x").decode()}).encode()
            while http(cp[new], "POST", "/v3/kv/put", body, timeout=2)[0] != 200:
                if time.monotonic() - tk > 60:
                    raise RuntimeError("etcd: no write after failover")
            trials.append({"first_leader_ms": first, "failover_elected_ms": elected,
                           "failover_writable_ms": (time.monotonic() - tk) * 1000})
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.kill()
                    p.wait()
            shutil.rmtree(work, ignore_errors=True)
    with open(args.out, "w") as f:
        json.dump({"trials": {"default": trials}}, f)
    print(json.dumps(trials))


# --- summary ---------------------------------------------------------------------------------------

def med(xs):
    return statistics.median(xs) if xs else float("nan")


def summarize(args):
    d = args.dir
    rows = {}  # metric -> {system: (value, p99)}

    def put(metric, system, value, p99=None):
        rows.setdefault(metric, {})[system] = (value, p99)

    etcd_txt = os.path.join(d, "etcd.txt")
    if os.path.exists(etcd_txt):
        names = {"put seq": "put_c1", "put c16": "put_c16", "put c64": "put_c64", "lease grant seq": "grant_c1",
                 "lease grant c16": "grant_c16", "KeepAliveOnce c16": "renew_c16"}
        for line in open(etcd_txt):
            m = re.match(r"RESULT c3m native-gRPC (.+?)(?: \(.*?\))?: median rps=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+)", line)
            if m and m.group(1) in names:
                put(names[m.group(1)], "etcd", float(m.group(2)), float(m.group(4)))
    for name in ("etcd-failover.json",):
        p = os.path.join(d, name)
        if os.path.exists(p):
            tr = json.load(open(p))["trials"]["default"]
            for k in ("first_leader_ms", "failover_elected_ms", "failover_writable_ms"):
                put(f"{k} (default)", "etcd", med([x[k] for x in tr]))
    for prof in ("default", "fast"):
        p = os.path.join(d, f"hashicorp-{prof}.json")
        if os.path.exists(p):
            o = json.load(open(p))
            for k in ("first_leader_ms", "failover_elected_ms", "failover_writable_ms"):
                put(f"{k} ({prof})", "hashicorp", med([x[k] for x in o["trials"]]))
            for a in o.get("apply") or []:
                put(f"put_c{a['concurrency']}", "hashicorp", a["ops_per_sec"], a["p99_us"] / 1000)
    p = os.path.join(d, "constellation.json")
    if os.path.exists(p):
        o = json.load(open(p))
        for k, v in o["throughput"].items():
            put(k, "constellation", v["rps"], v["p99_ms"])
        for prof, tr in o["trials"].items():
            for k in ("first_leader_ms", "failover_elected_ms", "failover_writable_ms"):
                put(f"{k} ({prof})", "constellation", med([x[k] for x in tr]))

    def fmt(v):
        if v is None:
            return "–"
        val, p99 = v
        return f"{val:,.0f}" + (f" (p99 {p99:.1f} ms)" if p99 is not None else "")

    def ratio(c, peer, lower_better):
        if not c or not peer or not peer[0]:
            return "–"
        r = peer[0] / c[0] if lower_better else c[0] / peer[0]
        return f"{r:.2f}x"

    print()
    print("| metric | Constellation | etcd 3.4 | hashicorp/raft | vs etcd | vs hashicorp |")
    print("|---|---|---|---|---|---|")
    order = ["put_c1", "put_c16", "put_c64", "grant_c1", "grant_c16", "renew_c16"] + \
            [f"{k} ({p})" for p in ("default", "fast") for k in ("first_leader_ms", "failover_elected_ms", "failover_writable_ms")]
    for metric in order:
        r = rows.get(metric, {})
        lower = metric.endswith(")")  # times: lower is better; ratio = peer / ours
        unit = " ms" if lower else "/s"
        print(f"| {metric}{'' if lower else ' (ops/s)'} | {fmt(r.get('constellation'))} | {fmt(r.get('etcd'))} | "
              f"{fmt(r.get('hashicorp'))} | {ratio(r.get('constellation'), r.get('etcd'), lower)} | "
              f"{ratio(r.get('constellation'), r.get('hashicorp'), lower)} |")
    print("\nratios > 1 favour Constellation (throughput: ours/theirs; times: theirs/ours).")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("constellation")
    c.add_argument("--node", required=True)
    c.add_argument("--dur", type=float, default=5)
    c.add_argument("--trials", type=int, default=3)
    c.add_argument("--out", required=True)
    e = sub.add_parser("etcd-failover")
    e.add_argument("--trials", type=int, default=3)
    e.add_argument("--out", required=True)
    s = sub.add_parser("summarize")
    s.add_argument("--dir", required=True)
    args = ap.parse_args()
    {"constellation": constellation, "etcd-failover": etcd_failover, "summarize": summarize}[args.cmd](args)


if __name__ == "__main__":
    main()
