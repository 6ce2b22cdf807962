# SPDX-License-Identifier: Apache-2.0
"""The service host with real processes: a service whose health endpoint starts failing is marked
critical after exactly `fall` failed checks and restarted; a crash-looping service backs off
exponentially and is given up; a host killed mid-way and started again adopts what is running
instead of starting duplicates, and replaces an instance whose spec changed."""
import json
import os
import tempfile
import queue
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from conftest import require_env

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "apps", "health_app.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def instance_pids(instance):
    """Pids of live processes whose environment names them as `instance`."""
    marker = f"CONSTELLATION_INSTANCE={instance}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            # Only this test run's processes: other agents on the machine may run a "web-1" too.
            if not os.readlink(f"/proc/{entry}/cwd").startswith(tempfile.gettempdir() + "/pytest-"):
                continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                if marker in f.read().split(b"\0") and alive(int(entry)):
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


class Host:
    """A service_host_driver process; its JSON-line events are collected by a reader thread."""

    def __init__(self, binary, services, data, *extra):
        self.proc = subprocess.Popen(
            [binary, "--services", str(services), "--data", str(data), "--node", "itest", "--seed", "7", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.events = []
        self.lines = queue.Queue()
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_for(lambda e: e.get("ready"), 30, "ready")

    def _read(self):
        for line in self.proc.stdout:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            with self.cond:
                self.events.append(obj)
                self.cond.notify_all()

    def wait_for(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if pred(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and not self.reader.is_alive():
                    raise AssertionError(f"timed out waiting for {what}; events:\n" +
                                         "\n".join(json.dumps(e) for e in self.events) +
                                         "\nstderr:\n" + (self.proc.stderr.read() if self.proc.poll() is not None else ""))
                self.cond.wait(min(left, 0.5))

    def of(self, kind, instance=None):
        with self.cond:
            return [e for e in self.events if e.get("event") == kind and (instance is None or e["instance"] == instance)]

    def health_is(self, instance, health):
        return lambda e: e.get("event") == "health" and e["instance"] == instance and e["fields"]["to"] == health

    def status(self):
        n = len([e for e in self.events if "status" in e])
        self.proc.send_signal(signal.SIGUSR1)
        self.wait_for(lambda e: "status" in e and len([x for x in self.events if "status" in x]) > n, 10, "status")
        return [e for e in self.events if "status" in e][-1]["status"]

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(timeout=5)
        return self.proc.returncode


@pytest.fixture
def cluster(tmp_path):
    """Yields a factory of hosts; afterwards kills every host and every instance process left."""
    binary = require_env("CST_SERVICE_HOST")
    hosts = []
    pids = set()

    def start(services, *extra):
        h = Host(binary, services, tmp_path / "data", *extra)
        hosts.append(h)
        return h

    try:
        yield start
    finally:
        for h in hosts:
            for e in h.events:
                if e.get("event") in ("started", "adopted") and e["fields"].get("runtime") == "process":
                    pids.add(int(e["fields"]["runtime_id"]))
            h.stop(signal.SIGKILL)
        for pid in pids:
            for target in (-pid, pid):
                try:
                    os.kill(target, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def web_service(port, fail_file, extra=""):
    return f"""
      web:
        command: ["{sys.executable}", "{APP}", "{port}"]
        environment:
          FAIL_FILE: {fail_file}
        restart: always
        x-constellation:
          checks:
            - name: http
              http: http://127.0.0.1:{port}/health
              expect_body: ok
              interval: 300ms
              timeout: 2s
              rise: 1
              fall: 3
          restart:
            backoff: 200ms
            max_backoff: 1s
            limit: 5
{extra}"""


def test_failing_health_endpoint_goes_critical_at_fall_and_is_restarted(cluster, tmp_path):
    port = free_port()
    fail = tmp_path / "fail"
    write(tmp_path / "svc" / "compose.yaml", "services:\n" + web_service(port, fail))
    host = cluster(tmp_path / "svc")
    started = host.wait_for(lambda e: e.get("event") == "started" and e["instance"] == "web-1", 30, "web-1 started")
    first_pid = int(started["fields"]["runtime_id"])
    host.wait_for(host.health_is("web-1", "passing"), 30, "web-1 passing")

    fail.write_text("now\n")
    critical = host.wait_for(lambda e: e.get("event") == "check" and e["instance"] == "web-1" and
                             e["fields"]["to"] == "critical", 30, "check critical")
    # Critical exactly at the fall threshold: three consecutive failed runs, each an HTTP 500.
    assert critical["fields"]["failures"] == 3
    assert critical["fields"]["output"].startswith("HTTP 500")
    checks = [e["fields"] for e in host.of("check", "web-1")]
    i = next(k for k, c in enumerate(checks) if c["to"] == "warning")
    assert checks[i]["from"] == "passing" and checks[i]["failures"] == 1
    host.wait_for(host.health_is("web-1", "critical"), 30, "web-1 critical")
    health = [e["fields"]["to"] for e in host.of("health", "web-1")]
    k = health.index("critical")
    assert health[k - 2:k + 1] == ["passing", "warning", "critical"]

    scheduled = host.wait_for(lambda e: e.get("event") == "restart-scheduled" and e["instance"] == "web-1",
                              30, "restart scheduled")
    assert scheduled["fields"]["reason"] == "unhealthy"
    assert scheduled["fields"]["attempt"] == 1 and scheduled["fields"]["delay_ms"] == 200
    host.wait_for(lambda e: e.get("event") == "restarting" and e["instance"] == "web-1", 30, "restarting")
    fail.unlink()
    restarted = host.wait_for(lambda e: e.get("event") == "started" and e["instance"] == "web-1" and
                              int(e["fields"]["runtime_id"]) != first_pid, 30, "web-1 started again")
    new_pid = int(restarted["fields"]["runtime_id"])
    assert not alive(first_pid)
    host.wait_for(lambda e: e.get("event") == "health" and e["instance"] == "web-1" and
                  e["fields"]["to"] == "passing" and e is host.of("health", "web-1")[-1] and
                  restarted in host.events, 30, "web-1 passing again")
    status = host.status()
    (web,) = [i for i in status["instances"] if i["id"] == "web-1"]
    assert web["runtime_id"] == str(new_pid) and web["restarts"] == 1 and web["health"] == "passing", "\n".join(json.dumps(e) for e in host.events)
    assert instance_pids("web-1") == [new_pid]
    assert host.stop() == 0
    assert not alive(new_pid)


def test_crash_loop_backs_off_exponentially_then_gives_up(cluster, tmp_path):
    write(tmp_path / "svc" / "jobs.yaml", """
        services:
          crashy:
            command: sh -c 'echo boom; exit 3'
            restart: always
            x-constellation:
              restart:
                backoff: 100ms
                max_backoff: 400ms
                limit: 4
    """)
    host = cluster(tmp_path / "svc")
    gave_up = host.wait_for(lambda e: e.get("event") == "gave-up" and e["instance"] == "crashy-1", 60, "gave up")
    assert gave_up["fields"]["attempts"] == 4
    delays = [e["fields"]["delay_ms"] for e in host.of("restart-scheduled", "crashy-1")]
    assert delays == [100, 200, 400, 400]
    assert [e["fields"]["attempt"] for e in host.of("restart-scheduled", "crashy-1")] == [1, 2, 3, 4]
    exits = host.of("exited", "crashy-1")
    assert len(exits) == 5 and all(e["fields"]["exit_code"] == 3 for e in exits)
    assert len(host.of("started", "crashy-1")) == 5
    (crashy,) = [i for i in host.status()["instances"] if i["id"] == "crashy-1"]
    assert crashy["health"] == "critical" and crashy["phase"] == "stopped" and crashy["state"] == "exited"
    log = tmp_path / "data" / "services" / "logs" / "crashy-1.log"
    assert log.read_text().count("boom") == 5


def test_restarted_host_adopts_running_instances_and_replaces_changed_ones(cluster, tmp_path):
    port = free_port()
    services = tmp_path / "svc"
    sleeper = """
      sleeper:
        command: sh -c 'exec sleep 300'
        environment:
          GENERATION: "1"
"""
    write(services / "compose.yaml", "services:\n" + web_service(port, tmp_path / "fail") + sleeper)

    first = cluster(services, "--keep-running")
    web = first.wait_for(lambda e: e.get("event") == "started" and e["instance"] == "web-1", 30, "web started")
    sleep = first.wait_for(lambda e: e.get("event") == "started" and e["instance"] == "sleeper-1", 30, "sleeper started")
    first.wait_for(first.health_is("web-1", "passing"), 30, "web passing")
    web_pid, sleep_pid = int(web["fields"]["runtime_id"]), int(sleep["fields"]["runtime_id"])

    # The host dies without a chance to clean up; its instances keep running.
    first.stop(signal.SIGKILL)
    assert alive(web_pid) and alive(sleep_pid)

    second = cluster(services, "--keep-running")
    adopted = {e["instance"]: int(e["fields"]["runtime_id"]) for e in
               [second.wait_for(lambda e: e.get("event") == "adopted" and e["instance"] == i, 30, f"{i} adopted")
                for i in ("web-1", "sleeper-1")]}
    assert adopted == {"web-1": web_pid, "sleeper-1": sleep_pid}
    second.wait_for(second.health_is("web-1", "passing"), 30, "web passing after adoption")
    assert second.of("started") == []
    assert instance_pids("web-1") == [web_pid] and instance_pids("sleeper-1") == [sleep_pid]
    status = second.status()
    assert all(i["adopted"] and i["state"] == "running" for i in status["instances"])

    # A graceful stop that keeps instances running, then a spec change: the next host adopts the
    # unchanged instance and replaces the changed one.
    assert second.stop() == 0
    assert alive(web_pid) and alive(sleep_pid)
    write(services / "compose.yaml", "services:\n" + web_service(port, tmp_path / "fail") +
          sleeper.replace('GENERATION: "1"', 'GENERATION: "2"'))
    third = cluster(services)
    third.wait_for(lambda e: e.get("event") == "adopted" and e["instance"] == "web-1", 30, "web adopted")
    replaced = third.wait_for(lambda e: e.get("event") == "started" and e["instance"] == "sleeper-1", 30,
                              "sleeper replaced")
    new_sleep = int(replaced["fields"]["runtime_id"])
    assert new_sleep != sleep_pid
    deadline = time.monotonic() + 10
    while alive(sleep_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(sleep_pid)
    with open(f"/proc/{new_sleep}/environ", "rb") as f:
        assert b"GENERATION=2" in f.read().split(b"\0")
    assert instance_pids("sleeper-1") == [new_sleep]
    assert third.stop() == 0
    assert not alive(web_pid) and not alive(new_sleep)


def test_a_broken_directory_never_stops_running_instances(cluster, tmp_path):
    services = tmp_path / "svc"
    good = "services:\n  sleeper:\n    command: sh -c 'exec sleep 300'\n"
    write(services / "compose.yaml", good)
    first = cluster(services, "--keep-running")
    pid = int(first.wait_for(lambda e: e.get("event") == "started", 30, "started")["fields"]["runtime_id"])
    first.stop(signal.SIGKILL)

    write(services / "compose.yaml", good + "    ports: ['80:http']\n")
    second = cluster(services)
    time.sleep(1)  # give a (wrong) reconcile the chance to act
    assert alive(pid)
    assert [e for e in second.events if e.get("event")] == []
    # Fixed and reloaded: the running instance is adopted, not restarted.
    write(services / "compose.yaml", good)
    second.proc.send_signal(signal.SIGHUP)
    second.wait_for(lambda e: e.get("reloaded") is True, 30, "reloaded")
    adopted = second.wait_for(lambda e: e.get("event") == "adopted", 30, "adopted")
    assert int(adopted["fields"]["runtime_id"]) == pid
    assert second.of("started") == []
    assert second.stop() == 0
    assert not alive(pid)


def test_validate_command_reports_errors_with_locations(tmp_path):
    agent = require_env("CST_AGENT")
    write(tmp_path / "bad" / "compose.yaml", """
        services:
          web:
            image: nginx
            ports: ["80:80:80:80"]
    """)
    r = subprocess.run([agent, "validate", str(tmp_path / "bad")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "compose.yaml:5:13: error: services.web.ports[0]: too many ':'" in r.stderr
    src = require_env("CST_SOURCE_DIR")
    r = subprocess.run([agent, "validate", os.path.join(src, "examples", "services"), "--json"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    names = [s["name"] for p in doc["projects"] for s in p["services"]]
    assert len(names) >= 10 and "hello" in names
    assert doc["diagnostics"] == []
