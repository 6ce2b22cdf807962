#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Footprint of one agent (bench/compare/agent/run.sh): RSS and CPU of the agent process and of
its service processes, at steady state, for the embedded default and for N process services.

Steady state: every service instance in the catalog is passing (or 90 s have passed), then 5 s
more. Over the window the agent's VmRSS is sampled every second (mean, max, and VmHWM, the
kernel's own peak); CPU is utime+stime from /proc/<pid>/stat at both ends of the window. The
children are every descendant of the agent (the supervised services, and the exec checks that
happen to be running at a sample)."""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    except (OSError, IndexError):
        return 0.0


def descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_services(directory, n):
    """n busybox httpd services in one compose file, each with an HTTP check and Traefik labels."""
    os.makedirs(os.path.join(directory, "www"), exist_ok=True)
    with open(os.path.join(directory, "www", "health"), "w") as f:
        f.write("ok\n")
    lines = ["name: bench", "x-constellation:", "  runtime: process", "  networks: [backend]", "services:"]
    for i in range(n):
        port = free_port()
        name = f"svc{i:02d}"
        lines += [
            f"  {name}:",
            f"    command: busybox httpd -f -p 127.0.0.1:{port} -h www",
            "    ports:",
            f"      - \"127.0.0.1:{port}:{port}\"",
            "    labels:",
            "      traefik.enable: \"true\"",
            f"      traefik.http.routers.{name}.rule: Host(`{name}.example.com`)",
            f"      traefik.http.services.{name}.loadbalancer.server.port: \"{port}\"",
            "    restart: always",
            "    x-constellation:",
            "      checks:",
            "        - name: http",
            f"          http: http://127.0.0.1:{port}/health",
            "          interval: 5s",
            "          timeout: 2s",
        ]
    with open(os.path.join(directory, "compose.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")


class Agent:
    def __init__(self, binary, root, services_dir=None):
        self.data = os.path.join(root, "data")
        args = [binary, "run", "--data-dir", self.data, "--api-port", "0", "--node-name", "bench",
                "--log-level", "warn"]
        if services_dir:
            args += ["--services-dir", services_dir]
        env = dict(os.environ, CONSTELLATION_RAFT_BIND="127.0.0.1:0", CONSTELLATION_GOSSIP_BIND="127.0.0.1:0")
        self.log = open(os.path.join(root, "agent.log"), "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        self.url = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.url is None:
            line = self.proc.stdout.readline()
            if not line:
                break
            if "/v1/health" in line:
                self.url = line.split()[-1].rsplit("/v1/health", 1)[0]
        if self.url is None:
            self.stop()
            raise SystemExit("the agent did not start; see " + self.log.name)

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def wait_steady(self, expected, timeout=90):
        deadline = time.monotonic() + timeout
        passing = total = 0
        while time.monotonic() < deadline:
            try:
                services = self.get("/v1/services")
                total = sum(len(s["instances"]) for s in services)
                passing = sum(1 for s in services for i in s["instances"] if i["health"] == "passing")
                if total >= expected and passing == total:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        time.sleep(5)
        return passing, total

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Whatever the agent recorded as running and did not stop (it stops them on SIGTERM).
        try:
            with open(os.path.join(self.data, "services", "processes.json")) as f:
                for p in json.load(f).get("processes", []):
                    try:
                        os.killpg(int(p["pid"]), signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
        except (OSError, ValueError):
            pass
        self.log.close()


def measure(agent, duration):
    pid = agent.proc.pid
    kids0 = {c: cpu_seconds(c) for c in descendants(pid)}
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    rss, kid_rss, kid_count = [], [], []
    while time.monotonic() - t0 < duration:
        rss.append(status_kb(pid, "VmRSS"))
        kids = descendants(pid)
        kid_rss.append(sum(status_kb(c, "VmRSS") for c in kids))
        kid_count.append(len(kids))
        time.sleep(1)
    elapsed = time.monotonic() - t0
    cpu = cpu_seconds(pid) - cpu0
    kids1 = descendants(pid)
    kid_cpu = sum(cpu_seconds(c) - kids0.get(c, 0.0) for c in kids1)
    return {
        "window_s": elapsed,
        "agent_rss_mb_mean": sum(rss) / len(rss) / 1024,
        "agent_rss_mb_max": max(rss) / 1024,
        "agent_hwm_mb": status_kb(pid, "VmHWM") / 1024,
        "agent_threads": status_kb(pid, "Threads"),
        "agent_cpu_s": cpu,
        "agent_cpu_pct": 100 * cpu / elapsed,
        "children": max(kid_count) if kid_count else 0,
        "children_rss_mb_mean": sum(kid_rss) / len(kid_rss) / 1024 if kid_rss else 0,
        "children_cpu_s": kid_cpu,
    }


def run_scenario(binary, name, duration, services=0):
    root = tempfile.mkdtemp(prefix="cst-agent-bench-")
    agent = None
    try:
        services_dir = None
        if services:
            services_dir = os.path.join(root, "services")
            write_services(services_dir, services)
        t_start = time.monotonic()
        agent = Agent(binary, root, services_dir)
        started = time.monotonic() - t_start
        passing, total = agent.wait_steady(services if services else 3)  # hello, docs, ticker
        print(f"{name}: started in {started:.2f} s; {passing}/{total} instances passing; measuring {duration} s",
              flush=True)
        result = measure(agent, duration)
        result.update(scenario=name, instances=total, passing=passing, start_s=started)
        return result
    finally:
        if agent:
            agent.stop()
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--agent", required=True)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--services", type=int, default=40)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    results = [run_scenario(args.agent, "embedded default", args.duration),
               run_scenario(args.agent, f"{args.services} services", args.duration, args.services)]
    goal_mb = 30
    print()
    print(f"{'scenario':<18} {'inst':>4} {'agent RSS MB':>14} {'peak (HWM)':>10} {'thr':>4} "
          f"{'agent CPU s':>11} {'CPU %':>6} {'children':>8} {'child RSS MB':>12} {'child CPU s':>11}")
    for r in results:
        print(f"{r['scenario']:<18} {r['instances']:>4} {r['agent_rss_mb_mean']:>14.1f} {r['agent_hwm_mb']:>10.1f} "
              f"{r['agent_threads']:>4} {r['agent_cpu_s']:>11.2f} {r['agent_cpu_pct']:>6.2f} {r['children']:>8} "
              f"{r['children_rss_mb_mean']:>12.1f} {r['children_cpu_s']:>11.2f}")
    print()
    print(f"CPU over a {args.duration:.0f} s window; RSS is the mean of 1 s samples of VmRSS (agent process only;")
    print("children = the supervised services, summed). Goal: under "
          f"{goal_mb} MB RSS per node (the agent process).")
    for r in results:
        verdict = "meets" if r["agent_hwm_mb"] < goal_mb else "MISSES"
        print(f"  {r['scenario']}: agent peak {r['agent_hwm_mb']:.1f} MB -> {verdict} the goal")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
