# SPDX-License-Identifier: Apache-2.0
"""The agent program, as the README runs it: start, endpoints, metrics, lock, signals, exit codes."""
import json
import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest


class AgentProcess:
    def __init__(self, agent_bin, data_dir, *extra):
        self.data_dir = data_dir
        self.proc = subprocess.Popen(
            [agent_bin, "run", "--data-dir", str(data_dir), "--api-port", "0", "--node-name", "itest", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = None
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            m = re.search(r"health\s+(http://\S+)/v1/health", line)
            if m:
                self.url = m.group(1)
                break
        if self.url is None:
            self.stop()
            raise AssertionError("agent did not print its address: " + "".join(lines) + self.proc.stderr.read())

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # The embedded default's services outlive a SIGKILLed agent (each runs in its own session):
        # kill what the agent recorded as running.
        try:
            with open(os.path.join(self.data_dir, "services", "processes.json")) as f:
                for p in json.load(f).get("processes", []):
                    try:
                        os.killpg(int(p["pid"]), signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
        except (OSError, ValueError):
            pass
        return self.proc.returncode


@pytest.fixture
def agent(agent_bin, tmp_path):
    a = AgentProcess(agent_bin, tmp_path / "data")
    yield a
    # Gracefully: a SIGKILLed agent leaves the embedded default's services running (they hold
    # ports 18081/18082 for every later embedded default), and one killed right after it started
    # may not have recorded them in processes.json yet.
    a.stop(signal.SIGTERM)


def test_endpoints(agent):
    status, ctype, body = agent.get("/v1/health")
    assert status == 200 and ctype.startswith("application/json")
    assert json.loads(body)["status"] == "ok"
    status, _, body = agent.get("/v1/version")
    v = json.loads(body)
    assert v["node"] == "itest" and re.fullmatch(r"[0-9a-f]{32}", v["node_id"])
    with pytest.raises(urllib.error.HTTPError) as e:
        agent.get("/v1/nope")
    assert e.value.code == 404
    assert json.loads(e.value.read())["error"]["code"] == "not_found"


def test_metrics_endpoint_passes_promtool(agent, promtool):
    status, ctype, body = agent.get("/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    assert "constellation_build_info" in body
    r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_sigterm_stops_cleanly_and_logs_json(agent):
    assert agent.stop(signal.SIGTERM) == 0
    logs = [json.loads(line) for line in agent.proc.stderr.read().splitlines() if line.startswith("{")]
    msgs = [entry["msg"] for entry in logs]
    assert "agent started" in msgs and "agent stopped" in msgs
    assert all({"ts", "level", "component", "msg"} <= entry.keys() for entry in logs)


def test_second_agent_on_same_data_dir_is_refused(agent, agent_bin, tmp_path):
    r = subprocess.run([agent_bin, "run", "--data-dir", str(tmp_path / "data"), "--api-port", "0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "in use by another process" in r.stderr


def test_identity_survives_restart(agent_bin, tmp_path):
    first = AgentProcess(agent_bin, tmp_path / "data")
    node_id = json.loads(first.get("/v1/version")[2])["node_id"]
    assert first.stop() == 0
    second = AgentProcess(agent_bin, tmp_path / "data")
    try:
        assert json.loads(second.get("/v1/version")[2])["node_id"] == node_id
    finally:
        second.stop()


def test_corrupt_identity_is_reported(agent_bin, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "node-id").write_text("not-hex\n")
    r = subprocess.run([agent_bin, "run", "--data-dir", str(data), "--api-port", "0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "corrupt" in r.stderr and "node-id" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["run", "--api-port", "http"], "not a port number"),
    (["run", "--bogus"], "unknown option"),
    (["frobnicate"], "unknown command"),
    (["run", "--log-level"], "needs a value"),
])
def test_bad_command_lines_exit_2(agent_bin, args, message):
    r = subprocess.run([agent_bin, *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert message in r.stderr


def test_port_in_use_is_reported(agent, agent_bin, tmp_path):
    port = agent.url.rsplit(":", 1)[1]
    r = subprocess.run([agent_bin, "run", "--data-dir", str(tmp_path / "other"), "--api-port", port],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "cannot listen" in r.stderr


def test_systemd_notify_ready_watchdog_stopping(agent_bin, tmp_path):
    import os
    import socket
    sock_path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(20)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="200000")
    proc = subprocess.Popen([agent_bin, "run", "--data-dir", str(tmp_path / "data"), "--api-port", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        messages = [s.recv(4096).decode()]
        assert messages[0].startswith("READY=1\nSTATUS=serving on http://127.0.0.1:")
        messages.append(s.recv(4096).decode())
        assert messages[1] == "WATCHDOG=1"
        proc.send_signal(signal.SIGTERM)
        while "STOPPING=1" not in messages:
            messages.append(s.recv(4096).decode())
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        s.close()


def test_config_file_errors_name_file_line_and_field(agent_bin, tmp_path):
    cfg = tmp_path / "agent.yaml"
    cfg.write_text("node:\n  name: n1\napi:\n  max_body_bytes: many\n")
    r = subprocess.run([agent_bin, "run", "--config", str(cfg), "--data-dir", str(tmp_path / "d")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert f"{cfg}:4:19: api.max_body_bytes: expected an integer, got 'many'" in r.stderr


def test_config_file_and_environment_are_applied(agent_bin, tmp_path):
    import os
    cfg = tmp_path / "agent.yaml"
    cfg.write_text("node:\n  name: from-file\n  colour: blue\napi:\n  listen: 127.0.0.1:0\n")
    env = dict(os.environ, CONSTELLATION_NODE_NAME="from-env")
    proc = subprocess.Popen([agent_bin, "run", "--config", str(cfg), "--data-dir", str(tmp_path / "d")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "node from-env" in line, line
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    logs = [json.loads(x) for x in proc.stderr.read().splitlines() if x.startswith("{")]
    warnings = [x for x in logs if x["msg"] == "configuration warning"]
    assert warnings and warnings[0]["warning"] == "unknown key 'node.colour' (ignored)"
    assert warnings[0]["where"] == f"{cfg}:3:3"
