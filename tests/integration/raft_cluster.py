# SPDX-License-Identifier: Apache-2.0
"""Real Raft processes (tests/integration/raft_node) on loopback, and the client workloads the
integration tests run against them: writers that remember every acknowledged write, lease
contenders that remember when they believed they held a lease, and a history for lincheck.

Also runnable as a script inside a network namespace the test created:
    python3 raft_cluster.py partition <raft_node> <lincheck> <workdir>
prints one JSON object with the outcome.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

KEY = "0123456789abcdef-integration"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, binary, node_id, workdir, voters, fast=True, extra=()):
        self.id = node_id
        self.binary = binary
        self.dir = os.path.join(workdir, f"n{node_id}")
        self.voters = voters
        self.fast = fast
        self.extra = list(extra)
        self.http = free_port()
        self.proc = None
        self.log = open(os.path.join(workdir, f"n{node_id}.log"), "ab")
        self.start()

    def start(self):
        args = [self.binary, "run", "--id", str(self.id), "--data-dir", self.dir, "--cluster-key", KEY,
                "--http", f"127.0.0.1:{self.http}", "--log-level", "info"] + self.extra
        for vid, addr in sorted(self.voters.items()):
            args += ["--voter", f"{vid}={addr}"]
        if self.fast:
            args.append("--fast")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "raft-node ready" not in line:
            raise AssertionError(f"node {self.id} did not start: {line!r}")

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            if sig in (signal.SIGKILL, signal.SIGTERM):
                self.proc.wait(timeout=30)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def request(self, method, path, body=b"", timeout=5.0):
        req = urllib.request.Request(f"http://127.0.0.1:{self.http}{path}", data=body if method in ("PUT", "POST") else None,
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            try:
                return e.code, json.loads(e.read() or b"null")
            except ValueError:
                return e.code, None

    def status(self):
        try:
            code, body = self.request("GET", "/v1/status", timeout=2)
            return body if code == 200 else None
        except OSError:
            return None


class Cluster:
    def __init__(self, binary, workdir, size=3, fast=True, extra=()):
        self.workdir = workdir
        ports = {i: free_port() for i in range(1, size + 1)}
        self.voters = {i: f"127.0.0.1:{p}" for i, p in ports.items()}
        self.raft_ports = ports
        self.nodes = {}
        try:
            for i in ports:
                self.nodes[i] = Node(binary, i, workdir, self.voters, fast, extra)
        except BaseException:
            self.close()
            raise

    def leader(self, timeout=20.0, exclude=()):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for n in self.nodes.values():
                if n.id in exclude or not n.alive():
                    continue
                s = n.status()
                if s and s["role"] == "leader":
                    return n.id
            time.sleep(0.01)
        raise AssertionError("no leader elected")

    def close(self):
        for n in self.nodes.values():
            try:
                if n.alive():
                    n.proc.send_signal(signal.SIGCONT)
                n.kill(signal.SIGKILL)
            except Exception:
                pass


class History:
    """Thread-safe recorder of client operations in lincheck's JSON-lines format."""

    def __init__(self):
        self.ops = []
        self.lock = threading.Lock()

    def add(self, op):
        with self.lock:
            self.ops.append(op)

    def write(self, path):
        with open(path, "w") as f:
            for op in self.ops:
                f.write(json.dumps(op) + "\n")


def now_ns():
    return time.monotonic_ns()


def kv_worker(cluster, client_id, history, acked, stop, keys=("k0", "k1", "k2")):
    """Writes unique values and reads them back through random live nodes."""
    rng = random.Random(client_id)
    seq = 0
    while not stop.is_set():
        node = rng.choice([n for n in cluster.nodes.values() if n.alive()])
        key = rng.choice(keys)
        op = {"client": client_id, "key": key, "call": now_ns()}
        try:
            if rng.random() < 0.5:
                seq += 1
                value = f"c{client_id}.{seq}"
                op.update(kind="put", value=value)
                code, body = node.request("PUT", f"/v1/kv/{key}", value.encode(), timeout=3)
                if code == 200:
                    op.update(ret=now_ns(), ok=True, revision=body["revision"])
                    acked.append((key, value, body["revision"]))
                elif code in (409, 404, 400):
                    op.update(ret=now_ns(), ok=False)
                else:
                    op.update(known=False)  # may or may not have applied
            else:
                op.update(kind="get")
                code, body = node.request("GET", f"/v1/kv/{key}", timeout=3)
                if code == 200:
                    op.update(ret=now_ns(), ok=True, found=True, out_value=body["value"], revision=body["revision"])
                elif code == 404:
                    op.update(ret=now_ns(), ok=True, found=False)
                else:
                    continue  # a failed read observed nothing
        except OSError:
            if op["kind"] == "get":
                continue
            op.update(known=False)
        history.add(op)


def lease_worker(cluster, client_id, history, beliefs, stop, ttl_ms=1500, drift=0.001):
    """Contends for one lease; records the window in which it believed it was the holder."""
    rng = random.Random(1000 + client_id)
    holder = f"c{client_id}"
    token = None
    while not stop.is_set():
        node = rng.choice([n for n in cluster.nodes.values() if n.alive()])
        started = time.monotonic()
        op = {"client": client_id, "key": "L", "value": holder, "call": now_ns()}
        try:
            if token is None:
                op.update(kind="acquire", ttl=ttl_ms * 1000000)
                code, body = node.request("POST", f"/v1/lease/L/acquire?holder={holder}&ttl_ms={ttl_ms}", b"", timeout=3)
                if code == 200:
                    token = body["token"]
                    op.update(ret=now_ns(), ok=True, revision=token, expiry=body["expiry"],
                              applied_at=body["expiry"] - ttl_ms * 1000000)
                    until = started + ttl_ms / 1000.0 * (1 - 2 * drift)
                    if time.monotonic() < until:
                        beliefs.append((client_id, token, time.monotonic(), until))
                elif code == 409:
                    op.update(ret=now_ns(), ok=False)
                else:
                    op.update(known=False)
            else:
                op.update(kind="release", token=token)
                # Stop acting as holder before asking to release.
                with history.lock:
                    for i, b in enumerate(beliefs):
                        if b[0] == client_id and b[1] == token:
                            beliefs[i] = (b[0], b[1], b[2], min(b[3], time.monotonic()))
                code, body = node.request("POST", f"/v1/lease/L/release?holder={holder}&token={token}", b"", timeout=3)
                token = None
                if code == 200:
                    op.update(ret=now_ns(), ok=True)
                elif code in (409, 404):
                    op.update(ret=now_ns(), ok=False)
                else:
                    op.update(known=False)
        except OSError:
            op.update(known=False)
            token = None
        history.add(op)
        time.sleep(rng.random() * 0.05)


def overlapping_holders(beliefs):
    """Pairs of (client, token) windows that overlap in real time (must be empty)."""
    bad = []
    for i, a in enumerate(beliefs):
        for b in beliefs[i + 1:]:
            if a[1] != b[1] and a[2] < b[3] and b[2] < a[3]:
                bad.append((a, b))
    return bad


def run_workload(cluster, seconds, fault, writers=4, lessees=3):
    history, acked, beliefs = History(), [], []
    stop = threading.Event()
    threads = [threading.Thread(target=kv_worker, args=(cluster, c, history, acked, stop)) for c in range(1, writers + 1)]
    threads += [threading.Thread(target=lease_worker, args=(cluster, 100 + c, history, beliefs, stop))
                for c in range(1, lessees + 1)]
    for t in threads:
        t.start()
    try:
        fault()
        time.sleep(seconds)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    return history, acked, beliefs


def verify_acked(cluster, acked, via):
    """Every acknowledged write is either the key's current value or overwritten by a later one."""
    latest = {}
    for key, value, rev in acked:
        if rev > latest.get(key, (0, ""))[0]:
            latest[key] = (rev, value)
    node = cluster.nodes[via]
    lost = []
    for key, (rev, value) in latest.items():
        code, body = node.request("GET", f"/v1/kv/{key}", timeout=10)
        if code != 200 or body["revision"] < rev:
            lost.append((key, value, rev, code, body))
    return lost


def lincheck(binary, history, path):
    history.write(path)
    r = subprocess.run([binary, path], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def scenario_partition(raft_node, lincheck_bin, workdir):
    """Inside a namespace: isolate the leader with nft (both directions of its Raft port), heal."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    cluster = Cluster(raft_node, workdir)
    result = {}
    try:
        old = cluster.leader()
        port = cluster.raft_ports[old]

        def fault():
            time.sleep(1.0)
            rules = ("table inet cstpart {\n  chain out {\n    type filter hook output priority 0;\n"
                     f"    tcp dport {port} drop\n    tcp sport {port} drop\n  }}\n}}\n")
            subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
            result["new_leader"] = cluster.leader(timeout=20, exclude=(old,))
            time.sleep(1.5)
            subprocess.run(["nft", "delete", "table", "inet", "cstpart"], check=True)

        history, acked, beliefs = run_workload(cluster, 2.0, fault)
        other = result["new_leader"]
        cluster.leader()
        result["lost"] = verify_acked(cluster, acked, other)
        result["acked"] = len(acked)
        result["overlaps"] = overlapping_holders(beliefs)
        result["grants"] = len(beliefs)
        code, out = lincheck(lincheck_bin, history, os.path.join(workdir, "history.jsonl"))
        result["lincheck"] = code
        result["lincheck_output"] = out[-2000:]
        result["old_leader"] = old
    finally:
        subprocess.run(["nft", "delete", "table", "inet", "cstpart"], capture_output=True)
        cluster.close()
    return result


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "partition":
        print(json.dumps(scenario_partition(sys.argv[2], sys.argv[3], sys.argv[4])))
    else:
        print("usage: raft_cluster.py partition <raft_node> <lincheck> <workdir>", file=sys.stderr)
        sys.exit(2)
