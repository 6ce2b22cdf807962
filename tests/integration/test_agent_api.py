# SPDX-License-Identifier: Apache-2.0
"""The agent's REST API and CLI against a real agent process on loopback (docs/api.md, docs/cli.md).

Every agent here listens on free ports, runs no services unless a test gives it a directory, and
keeps its data in a temporary directory that is removed afterwards, even when a test fails;
the processes it supervised are killed by process group if a graceful stop did not end them."""
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import textwrap
import threading
import time
import urllib.error
import urllib.request

import pytest

ADMIN = "admin-secret-0123456789"
WRITER = "writer-secret-0123456789"
READER = "reader-secret-0123456789"

TOKENS_YAML = f"""
  tokens:
    - {{name: ops, secret: {ADMIN}, role: admin}}
    - {{name: ci, secret: {WRITER}, role: write}}
    - {{name: dashboard, secret: {READER}, role: read}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def agent_bin():
    value = os.environ.get("CST_AGENT")
    if not value:
        pytest.fail("CST_AGENT is not set: run these tests through ctest")
    return value


@pytest.fixture
def scratch():
    """A temporary directory removed at the end of the test, whatever happened."""
    path = tempfile.mkdtemp(prefix="cst-agent-api-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class Agent:
    """A constellation-agent process: `run --config FILE` with a data directory and, when given, a
    services directory."""

    def __init__(self, root, config_text="", services=None, env=None, name="api-test"):
        self.root = root
        self.data = os.path.join(root, "data")
        self.config = os.path.join(root, "agent.yaml")
        # With a configuration file and no services.dir the node runs no services at all.
        section = f"services:\n  dir: {services}\n" if services else ""
        with open(self.config, "w") as f:
            f.write(f"node:\n  name: {name}\n{section}{config_text}")
        self.stderr_path = os.path.join(root, "agent.stderr")
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(
            [agent_bin(), "run", "--config", self.config, "--data-dir", self.data, "--api-port", "0"],
            stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=dict(os.environ, **(env or {})))
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
            raise AssertionError("agent did not start: " + "".join(lines) + self.stderr())
        # Drain stdout so the agent never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stderr(self):
        if not self._stderr.closed:
            self._stderr.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def request(self, method, path, body=None, token=None, headers=None, timeout=15):
        """(status, headers, body text); never raises for an HTTP error status."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def json(self, method, path, body=None, token=ADMIN, expect=200, **kw):
        status, _, text = self.request(method, path, body, token, **kw)
        assert status == expect, f"{method} {path}: {status} {text}"
        return json.loads(text)

    def wait_for_leader(self, token=ADMIN):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, _, text = self.request("GET", "/v1/raft", token=token)
            if status == 200 and json.loads(text)["role"] == "leader":
                return
            time.sleep(0.05)
        raise AssertionError("no Raft leader: " + self.stderr())

    def cli(self, *args, token=None, timeout=30):
        env = dict(os.environ, CONSTELLATION_API=self.url)
        env.pop("CONSTELLATION_TOKEN", None)
        if token:
            env["CONSTELLATION_TOKEN"] = token
        return subprocess.run([agent_bin(), *args], capture_output=True, text=True, timeout=timeout, env=env)

    def stop(self, sig=signal.SIGTERM):
        """Stops the agent (SIGKILL if it does not stop within 20 s), then kills whatever service
        processes it recorded and left behind. Returns the exit status."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            self._kill_leftover_services()
            self._stderr.close()
        return self.proc.returncode

    def _kill_leftover_services(self):
        try:
            with open(os.path.join(self.data, "services", "processes.json")) as f:
                procs = json.load(f).get("processes", [])
        except (OSError, ValueError):
            return
        for p in procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(p["pid"]), signal.SIGKILL)


@contextlib.contextmanager
def running(root, config_text="", **kw):
    a = Agent(root, config_text, **kw)
    try:
        yield a
    finally:
        a.stop()


@pytest.fixture(scope="module")
def agent():
    """One agent with tokens (admin, write, read), a 4 KiB body limit and a generous rate limit."""
    root = tempfile.mkdtemp(prefix="cst-agent-api-")
    a = None
    try:
        a = Agent(root, "api:\n  listen: 127.0.0.1:0\n  max_body_bytes: 4096\n  rate_limit: 1000\n"
                        "  rate_burst: 1000\n" + TOKENS_YAML)
        a.wait_for_leader()
        yield a
    finally:
        if a:
            a.stop()
        shutil.rmtree(root, ignore_errors=True)


def error_of(text):
    e = json.loads(text)["error"]
    assert set(e) == {"code", "message"}
    return e


# --- authentication and authorisation ----------------------------------------------------------

def test_no_token_is_401_with_a_json_error(agent):
    status, headers, text = agent.request("GET", "/v1/status")
    assert status == 401
    assert headers.get("WWW-Authenticate") == "Bearer"
    assert headers.get("Content-Type").startswith("application/json")
    assert error_of(text) == {"code": "unauthorized",
                             "message": "missing bearer token (Authorization: Bearer <token>)"}


def test_unknown_token_is_401(agent):
    status, _, text = agent.request("GET", "/v1/status", token="not-a-configured-token")
    assert status == 401
    assert error_of(text) == {"code": "unauthorized", "message": "unknown token"}


def test_read_token_cannot_write_or_read_the_audit_log(agent):
    status, _, text = agent.request("PUT", "/v1/kv/denied", "x", token=READER)
    assert status == 403
    assert error_of(text) == {"code": "permission_denied",
                              "message": "token 'dashboard' has role read; this needs write"}
    status, _, text = agent.request("GET", "/v1/audit", token=WRITER)
    assert status == 403
    assert "this needs admin" in error_of(text)["message"]
    # The read token may read.
    assert agent.json("GET", "/v1/status", token=READER)["node"] == "api-test"


# --- malformed requests ------------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ("{not json", "request body"),
    ("[1, 2]", "request body: expected a JSON object"),
    ('{"ttl_ms": "ten"}', "ttl_ms"),
    ('{"ttl_ms": 0}', "body.ttl_ms must be positive"),
])
def test_malformed_lease_body_is_400_naming_the_problem(agent, body, message):
    status, _, text = agent.request("POST", "/v1/leases/malformed/acquire", body, token=WRITER)
    assert status == 400, text
    e = error_of(text)
    assert e["code"] == "invalid_argument"
    assert message in e["message"], e["message"]


def test_lease_renew_without_token_field_is_400(agent):
    status, _, text = agent.request("POST", "/v1/leases/malformed/renew", '{"holder": "x"}', token=WRITER)
    assert status == 400
    assert "token" in error_of(text)["message"]


@pytest.mark.parametrize("path, message", [
    ("/v1/kv/k?cas=abc", "query parameter cas: expected a non-negative integer, got 'abc'"),
    ("/v1/kv/k?cas=-1", "query parameter cas"),
])
def test_malformed_kv_parameters_are_400(agent, path, message):
    status, _, text = agent.request("PUT", path, "v", token=WRITER)
    assert status == 400
    assert message in error_of(text)["message"]


def test_malformed_blocking_query_parameters_are_400(agent):
    status, _, text = agent.request("GET", "/v1/kv?index=1&wait=forever", token=READER)
    assert status == 400
    assert "query parameter wait: expected a duration like 30s, got 'forever'" in error_of(text)["message"]
    status, _, text = agent.request("GET", "/v1/audit?limit=0", token=ADMIN)
    assert status == 400
    assert "query parameter limit" in error_of(text)["message"]


def test_oversized_body_is_413(agent):
    status, _, text = agent.request("PUT", "/v1/kv/big", "x" * 8192, token=WRITER)
    assert status == 413
    assert error_of(text)["code"] == "payload_too_large"
    # Just under the limit is fine.
    status, _, text = agent.request("PUT", "/v1/kv/big", "x" * 4000, token=WRITER)
    assert status == 200, text


def test_post_without_content_length_is_400_with_a_json_error(agent):
    import http.client
    host, port = agent.url.split("//")[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=15)
    try:
        conn.putrequest("POST", "/v1/services/reload")
        conn.putheader("Authorization", "Bearer " + WRITER)
        conn.endheaders()  # no Content-Length, no body
        r = conn.getresponse()
        status, text = r.status, r.read().decode()
    finally:
        conn.close()
    assert status == 400
    e = error_of(text)
    assert e["code"] == "bad_request" and "Content-Length" in e["message"]


def test_unknown_route_is_404_and_wrong_method_405(agent):
    status, _, text = agent.request("GET", "/v1/nope", token=READER)
    assert status == 404
    assert error_of(text) == {"code": "not_found", "message": "no such endpoint: /v1/nope"}
    status, _, text = agent.request("DELETE", "/v1/status", token=ADMIN)
    assert status == 405
    assert error_of(text)["code"] == "method_not_allowed"


def test_rate_limit_is_429_with_retry_after(scratch):
    with running(scratch, "api:\n  listen: 127.0.0.1:0\n  rate_limit: 0.1\n  rate_burst: 3\n" + TOKENS_YAML) as a:
        statuses = [a.request("GET", "/v1/version", token=READER) for _ in range(6)]
        codes = [s for s, _, _ in statuses]
        assert codes[:3] == [200, 200, 200], codes
        assert 429 in codes[3:], codes
        status, headers, text = next(s for s in statuses if s[0] == 429)
        assert int(headers.get("Retry-After")) >= 1
        assert error_of(text) == {"code": "rate_limited", "message": "too many requests from dashboard"}
        # Another token has its own bucket.
        assert a.request("GET", "/v1/version", token=WRITER)[0] == 200
        # Callers without a valid token share one bucket per address: 401s, then 429s.
        codes = [a.request("GET", "/v1/version", token=t)[0] for t in (None, "wrong-token-0123456789") * 3]
        assert codes[:3] == [401, 401, 401] and 429 in codes[3:], codes


# --- KV -----------------------------------------------------------------------------------------

def test_kv_put_get_list_delete(agent):
    put = agent.json("PUT", "/v1/kv/app/colour", "blue", token=WRITER)
    assert put["key"] == "app/colour" and put["revision"] > 0
    got = agent.json("GET", "/v1/kv/app/colour", token=READER)
    assert got["value"] == "blue" and got["mod_revision"] == put["revision"] and got["version"] == 1
    agent.json("PUT", "/v1/kv/app/size", "10", token=WRITER)
    agent.json("PUT", "/v1/kv/other/x", "y", token=WRITER)
    listed = agent.json("GET", "/v1/kv?prefix=app/", token=READER)
    assert [e["key"] for e in listed] == ["app/colour", "app/size"]
    assert len(agent.json("GET", "/v1/kv?prefix=app/&limit=1", token=READER)) == 1
    deleted = agent.json("DELETE", "/v1/kv/app/colour", token=WRITER)
    assert deleted["revision"] > put["revision"]
    status, _, text = agent.request("GET", "/v1/kv/app/colour", token=READER)
    assert status == 404 and error_of(text)["code"] == "not_found"
    status, _, _ = agent.request("DELETE", "/v1/kv/app/colour", token=WRITER)
    assert status == 404


def test_kv_binary_value_comes_back_as_base64(agent):
    agent.json("PUT", "/v1/kv/bin", b"\xff\x00\xfe", token=WRITER)
    got = agent.json("GET", "/v1/kv/bin", token=READER)
    assert "value" not in got and got["value_base64"] == "/wD+"


def test_kv_compare_and_set(agent):
    first = agent.json("PUT", "/v1/kv/cas/key", "1", token=WRITER)["revision"]
    second = agent.json("PUT", f"/v1/kv/cas/key?cas={first}", "2", token=WRITER)["revision"]
    assert second > first
    status, _, text = agent.request("PUT", f"/v1/kv/cas/key?cas={first}", "3", token=WRITER)
    assert status == 409, text
    assert error_of(text)["code"] == "conflict"
    assert agent.json("GET", "/v1/kv/cas/key", token=READER)["value"] == "2"
    # cas=0: create only if absent.
    assert agent.request("PUT", "/v1/kv/cas/key?cas=0", "4", token=WRITER)[0] == 409
    assert agent.request("PUT", "/v1/kv/cas/fresh?cas=0", "4", token=WRITER)[0] == 200
    # Delete at a stale revision is refused too.
    assert agent.request("DELETE", f"/v1/kv/cas/key?cas={first}", token=WRITER)[0] == 409
    assert agent.request("DELETE", f"/v1/kv/cas/key?cas={second}", token=WRITER)[0] == 200


def test_kv_blocking_query_returns_on_change(agent):
    agent.json("PUT", "/v1/kv/watch/me", "before", token=WRITER)
    status, headers, _ = agent.request("GET", "/v1/kv/watch/me", token=READER)
    index = int(headers["X-Constellation-Index"])
    result = {}

    def blocked():
        t0 = time.monotonic()
        result["answer"] = agent.request("GET", f"/v1/kv/watch/me?index={index}&wait=20s", token=READER, timeout=40)
        result["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=blocked)
    t.start()
    time.sleep(0.5)
    assert t.is_alive(), "the blocking query returned before anything changed"
    agent.json("PUT", "/v1/kv/watch/me", "after", token=WRITER)
    t.join(30)
    assert not t.is_alive()
    status, headers, text = result["answer"]
    assert status == 200 and json.loads(text)["value"] == "after"
    assert int(headers["X-Constellation-Index"]) > index
    assert result["elapsed"] < 15


def test_kv_blocking_query_times_out_unchanged(agent):
    agent.json("PUT", "/v1/kv/watch/still", "same", token=WRITER)
    _, headers, _ = agent.request("GET", "/v1/kv/watch/still", token=READER)
    index = int(headers["X-Constellation-Index"])
    t0 = time.monotonic()
    status, headers, text = agent.request("GET", f"/v1/kv/watch/still?index={index}&wait=400ms", token=READER)
    elapsed = time.monotonic() - t0
    assert status == 200 and json.loads(text)["value"] == "same"
    assert int(headers["X-Constellation-Index"]) == index
    assert elapsed >= 0.3


def test_kv_list_blocking_query_wakes_on_a_new_key_under_the_prefix(agent):
    _, headers, _ = agent.request("GET", "/v1/kv?prefix=jobs/", token=READER)
    index = int(headers["X-Constellation-Index"])
    result = {}
    t = threading.Thread(target=lambda: result.setdefault(
        "answer", agent.request("GET", f"/v1/kv?prefix=jobs/&index={index}&wait=20s", token=READER, timeout=40)))
    t.start()
    time.sleep(0.3)
    agent.json("PUT", "/v1/kv/jobs/1", "queued", token=WRITER)
    t.join(30)
    status, _, text = result["answer"]
    assert status == 200 and [e["key"] for e in json.loads(text)] == ["jobs/1"]


# --- leases -------------------------------------------------------------------------------------

def test_lease_acquire_renew_release_with_increasing_fencing_tokens(agent):
    g1 = agent.json("POST", "/v1/leases/leader/acquire", '{"holder": "a", "ttl_ms": 5000}', token=WRITER)
    assert g1["holder"] == "a" and g1["token"] > 0 and 0 < g1["valid_for_ms"] <= 5000
    # Held: another holder is refused.
    status, _, text = agent.request("POST", "/v1/leases/leader/acquire", '{"holder": "b"}', token=WRITER)
    assert status == 409 and error_of(text)["code"] == "conflict"
    renewed = agent.json("POST", "/v1/leases/leader/renew", json.dumps({"holder": "a", "token": g1["token"]}),
                         token=WRITER)
    assert renewed["token"] == g1["token"]
    # A wrong fencing token cannot renew or release.
    bad = json.dumps({"holder": "a", "token": g1["token"] + 100})
    assert agent.request("POST", "/v1/leases/leader/renew", bad, token=WRITER)[0] == 409
    info = agent.json("GET", "/v1/leases/leader", token=READER)
    assert info["held"] is True and info["holder"] == "a" and info["token"] == g1["token"]
    assert [l["name"] for l in agent.json("GET", "/v1/leases", token=READER)] == ["leader"]
    released = agent.json("POST", "/v1/leases/leader/release", json.dumps({"holder": "a", "token": g1["token"]}),
                          token=WRITER)
    assert released == {"name": "leader", "released": True}
    g2 = agent.json("POST", "/v1/leases/leader/acquire", '{"holder": "b", "ttl_ms": 5000}', token=WRITER)
    assert g2["token"] > g1["token"]
    g3 = agent.json("POST", "/v1/leases/leader/acquire", '{"holder": "b", "ttl_ms": 5000}', token=WRITER)
    assert g3["token"] == g2["token"]  # re-acquiring renews with the same token
    status, _, text = agent.request("POST", "/v1/leases/leader/explode", "{}", token=WRITER)
    assert status == 404 and "unknown lease action 'explode'" in error_of(text)["message"]


def test_lease_holder_defaults_to_the_token_name(agent):
    g = agent.json("POST", "/v1/leases/mine/acquire", '{"ttl_ms": 2000}', token=WRITER)
    assert g["holder"] == "ci"


# --- audit --------------------------------------------------------------------------------------

def test_writes_are_in_the_audit_log_with_the_token_name(agent):
    agent.json("PUT", "/v1/kv/audited/key", "v", token=WRITER)
    agent.request("PUT", "/v1/kv/audited/denied", "v", token=READER)
    agent.request("PUT", "/v1/kv/audited/anon", "v")
    records = agent.json("GET", "/v1/audit?limit=50", token=ADMIN)
    assert records == sorted(records, key=lambda r: -r["id"])  # newest first
    by_path = {r["path"]: r for r in records}
    ok = by_path["/v1/kv/audited/key"]
    assert ok["principal"] == "ci" and ok["role"] == "write" and ok["method"] == "PUT" and ok["status"] == 200
    assert ok["remote_address"] == "127.0.0.1" and ok["detail"] == ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", ok["time"])
    denied = by_path["/v1/kv/audited/denied"]
    assert denied["principal"] == "dashboard" and denied["status"] == 403 and "needs write" in denied["detail"]
    anon = by_path["/v1/kv/audited/anon"]
    assert anon["principal"] == "unauthenticated" and anon["role"] == "" and anon["status"] == 401
    # Reads are not audited.
    assert all(r["method"] != "GET" for r in records)
    assert len(agent.json("GET", "/v1/audit?limit=2", token=ADMIN)) == 2
    # The same rows are in the agent's SQLite database.
    db = sqlite3.connect(f"file:{agent.data}/agent.db?mode=ro", uri=True, timeout=10)
    try:
        rows = db.execute("SELECT principal, method, path, status FROM audit WHERE path = ?",
                          ("/v1/kv/audited/key",)).fetchall()
    finally:
        db.close()
    assert rows == [("ci", "PUT", "/v1/kv/audited/key", 200)]


def test_audit_cli(agent):
    agent.json("PUT", "/v1/kv/audited/cli", "v", token=WRITER)
    r = agent.cli("audit", "--limit", "5", token=ADMIN)
    assert r.returncode == 0, r.stderr
    header = r.stdout.splitlines()[0].split()
    assert header[:5] == ["TIME", "PRINCIPAL", "ROLE", "METHOD", "PATH"]
    assert "/v1/kv/audited/cli" in r.stdout
    r = agent.cli("audit", "--limit", "1", "--json", token=ADMIN)
    assert r.returncode == 0
    records = json.loads(r.stdout)
    assert len(records) == 1 and records[0]["path"] == "/v1/kv/audited/cli" and records[0]["principal"] == "ci"
    assert agent.cli("audit", token=WRITER).returncode == 6
    assert agent.cli("audit", "--limit", "lots", token=ADMIN).returncode == 2


def test_audit_survives_a_restart(scratch):
    with running(scratch, "api:\n  listen: 127.0.0.1:0\n" + TOKENS_YAML) as a:
        a.wait_for_leader()
        a.json("PUT", "/v1/kv/persisted", "v", token=WRITER)
    with running(scratch, "api:\n  listen: 127.0.0.1:0\n" + TOKENS_YAML) as a:
        records = a.json("GET", "/v1/audit", token=ADMIN)
        assert any(r["path"] == "/v1/kv/persisted" and r["principal"] == "ci" for r in records)


def test_without_tokens_writes_are_audited_as_anonymous(scratch):
    with running(scratch, "api:\n  listen: 127.0.0.1:0\n") as a:
        a.wait_for_leader(token=None)
        status, _, _ = a.request("PUT", "/v1/kv/open", "v")
        assert status == 200
        status, _, text = a.request("GET", "/v1/audit")
        rec = json.loads(text)[0]
        assert rec["principal"] == "anonymous" and rec["role"] == "admin" and rec["path"] == "/v1/kv/open"


# --- metrics ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/metrics", "/v1/metrics"])
def test_metrics_pass_promtool(agent, path):
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool is not installed (.ci/bootstrap installs it)")
    agent.request("GET", "/v1/status", token=READER)  # something to count
    status, headers, body = agent.request("GET", path, token=READER)
    assert status == 200 and headers.get("Content-Type").startswith("text/plain; version=0.0.4")
    assert 'constellation_api_requests_total{route="/v1/status",status="200"}' in body
    r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


# --- configuration and service definitions ------------------------------------------------------

@pytest.mark.parametrize("text, marker, message", [
    # (file text after the node and services sections, the text the error points at, its message)
    ("api:\n  tokens:\n    - {name: a, secret: 0123456789abcdefgh, role: root}\n", "root",
     "api.tokens[0].role: expected read, write or admin, got 'root'"),
    ("gossip:\n  join: 10.0.0.1:7946\n", "10.0.0.1", "gossip.join: expected a list, got a scalar"),
    ("raft:\n  profile: [fast]\n", "[fast]", "raft.profile: expected a scalar, got a list"),
    ("api:\n  rate_limit: fast\n", "fast", "api.rate_limit: expected a number, got 'fast'"),
    ("api:\n  tokens:\n    - {name: a, role: read}\n", "{name", "api.tokens[0].secret: required field is missing"),
])
def test_broken_config_file_exits_1_naming_file_line_and_field(scratch, text, marker, message):
    services = os.path.join(scratch, "services")
    os.makedirs(services)
    config = os.path.join(scratch, "agent.yaml")
    full = f"node:\n  name: broken\nservices:\n  dir: {services}\n{text}"
    with open(config, "w") as f:
        f.write(full)
    line_no, line = next((i + 1, ln) for i, ln in enumerate(full.splitlines()) if marker in ln)
    where = f"{config}:{line_no}:{line.index(marker) + 1}: "
    r = subprocess.run([agent_bin(), "run", "--config", config, "--data-dir", os.path.join(scratch, "data"),
                        "--api-port", "0"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r.stdout + r.stderr
    assert where + message in r.stderr, r.stderr
    assert "is running" not in r.stdout


def test_config_yaml_syntax_error_and_invalid_value(scratch):
    config = os.path.join(scratch, "agent.yaml")
    with open(config, "w") as f:
        f.write("node:\n  name: broken\napi:\n  listen: [127.0.0.1\n")
    r = subprocess.run([agent_bin(), "run", "--config", config, "--data-dir", os.path.join(scratch, "data")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert re.search(re.escape(config) + r":\d+:\d+: invalid YAML", r.stderr), r.stderr
    # A value that parses but is not allowed: the field and the allowed values are named.
    with open(config, "w") as f:
        f.write("node:\n  name: broken\ngossip:\n  profile: wan\n")
    r = subprocess.run([agent_bin(), "run", "--config", config, "--data-dir", os.path.join(scratch, "data")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "gossip.profile: expected lan or fast, got 'wan'" in r.stderr, r.stderr


GOOD_SERVICE = "services:\n  sleeper:\n    command: sh -c 'exec sleep 300'\n"


def service_names(a):
    return sorted(s["name"] for s in a.json("GET", "/v1/services", token=READER))


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def test_broken_service_file_reload_keeps_the_last_good_services(scratch):
    services = os.path.join(scratch, "services")
    os.makedirs(services)
    with open(os.path.join(services, "good.yaml"), "w") as f:
        f.write(GOOD_SERVICE)
    with running(scratch, "api:\n  listen: 127.0.0.1:0\n" + TOKENS_YAML, services=services) as a:
        wait_until(lambda: service_names(a) == ["sleeper"], 30, "the sleeper service")
        # A broken file appears: the API reload names it and keeps what runs.
        broken = os.path.join(services, "broken.yaml")
        with open(broken, "w") as f:
            f.write("services:\n  web:\n    command: sh -c 'exec sleep 300'\n    ports: ['80:http']\n")
        where = "broken.yaml:4:13: error: services.web.ports[0]: invalid port 'http' in '80:http'"
        status, _, text = a.request("POST", "/v1/services/reload", token=WRITER)
        assert status == 400, text
        answer = json.loads(text)
        assert answer["reloaded"] is False
        assert answer["diagnostics"] == [where]
        assert service_names(a) == ["sleeper"]
        # SIGHUP does the same: the finding goes to stderr, the agent keeps serving.
        a.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: where in a.stderr(), 15, "the SIGHUP reload's finding on stderr")
        assert a.proc.poll() is None
        assert service_names(a) == ["sleeper"]
        assert a.request("GET", "/v1/health", token=READER)[0] == 200
        # Fixed: the next reload takes it.
        with open(broken, "w") as f:
            f.write("services:\n  web:\n    command: sh -c 'exec sleep 300'\n")
        answer = a.json("POST", "/v1/services/reload", token=WRITER)
        assert answer["reloaded"] is True
        wait_until(lambda: service_names(a) == ["sleeper", "web"], 30, "both services")


def test_the_services_directory_is_watched(scratch):
    """No signal, no API call: a file added, edited or removed is picked up within seconds; a
    broken one is reported and changes nothing."""
    services = os.path.join(scratch, "services")
    os.makedirs(services)
    with open(os.path.join(services, "good.yaml"), "w") as f:
        f.write(GOOD_SERVICE)
    with running(scratch, "api:\n  listen: 127.0.0.1:0\n" + TOKENS_YAML, services=services) as a:
        wait_until(lambda: service_names(a) == ["sleeper"], 30, "the sleeper service")
        extra = os.path.join(services, "extra.yaml")
        with open(extra, "w") as f:
            f.write("services:\n  web:\n    command: sh -c 'exec sleep 300'\n    ports: ['80:http']\n")
        wait_until(lambda: "invalid port 'http'" in a.stderr(), 20, "the watcher to report the broken file")
        assert service_names(a) == ["sleeper"]
        with open(extra, "w") as f:
            f.write("services:\n  web:\n    command: sh -c 'exec sleep 300'\n")
        wait_until(lambda: service_names(a) == ["sleeper", "web"], 30, "the watcher to add web")
        os.unlink(extra)
        wait_until(lambda: service_names(a) == ["sleeper"], 30, "the watcher to remove web")


def test_reload_needs_write_role(agent):
    status, _, _ = agent.request("POST", "/v1/services/reload", token=READER)
    assert status == 403


# --- TLS and mTLS ------------------------------------------------------------------------------

def make_pki(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, with the openssl tool."""
    if not shutil.which("openssl"):
        pytest.skip("the openssl command is not installed")

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    p = {k: os.path.join(d, k) for k in ("ca.key", "ca.pem", "srv.key", "srv.csr", "srv.pem", "srv.ext",
                                         "cli.key", "cli.csr", "cli.pem")}
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-subj", "/CN=test-ca", "-keyout", p["ca.key"], "-out", p["ca.pem"])
    with open(p["srv.ext"], "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    for who, subj in (("srv", "/CN=127.0.0.1"), ("cli", "/CN=ops-client")):
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subj,
            "-keyout", p[f"{who}.key"], "-out", p[f"{who}.csr"])
        extra = ["-extfile", p["srv.ext"]] if who == "srv" else []
        run("x509", "-req", "-in", p[f"{who}.csr"], "-CA", p["ca.pem"], "-CAkey", p["ca.key"], "-CAcreateserial",
            "-days", "2", "-out", p[f"{who}.pem"], *extra)
    return p


def test_https_with_client_certificates(scratch):
    import ssl
    pki = make_pki(scratch)
    config = (f"api:\n  listen: 127.0.0.1:0\n  tls:\n    cert: {pki['srv.pem']}\n    key: {pki['srv.key']}\n"
              f"    client_ca: {pki['ca.pem']}\n" + TOKENS_YAML)
    # The Agent helper expects an http:// address; this agent prints an https:// one.
    os.makedirs(os.path.join(scratch, "run"))
    with open(os.path.join(scratch, "run", "agent.yaml"), "w") as f:
        f.write("node:\n  name: tls-node\n" + config)
    proc = subprocess.Popen([agent_bin(), "run", "--config", os.path.join(scratch, "run", "agent.yaml"),
                             "--data-dir", os.path.join(scratch, "run", "data"), "--api-port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for _ in range(20):
            line = proc.stdout.readline()
            m = re.search(r"health\s+(https://\S+)/v1/health", line)
            if m:
                url = m.group(1)
                break
        assert url, proc.stderr.read() if proc.poll() is not None else "no https address printed"
        host_port = url.split("//")[1]

        def get(ctx):
            req = urllib.request.Request(url + "/v1/version", headers={"Authorization": "Bearer " + READER})
            with urllib.request.urlopen(req, context=ctx, timeout=15) as r:
                return r.status, json.loads(r.read())

        ctx = ssl.create_default_context(cafile=pki["ca.pem"])
        # No client certificate: the handshake is refused.
        with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
            get(ctx)
        ctx.load_cert_chain(pki["cli.pem"], pki["cli.key"])
        status, body = get(ctx)
        assert status == 200 and body["node"] == "tls-node"
        # Plain HTTP on the TLS port gets nowhere.
        with pytest.raises(Exception):
            urllib.request.urlopen("http://" + host_port + "/v1/version", timeout=5).read()
        # The CLI: --ca and --cert/--key.
        base = [agent_bin(), "status", "--api", url, "--token", READER, "--ca", pki["ca.pem"]]
        r = subprocess.run(base + ["--cert", pki["cli.pem"], "--key", pki["cli.key"]], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["node"] == "tls-node"
        r = subprocess.run(base, capture_output=True, text=True, timeout=30)
        assert r.returncode == 5, r.stdout + r.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the CLI ------------------------------------------------------------------------------------

def test_cli_kv_round_trip_and_exit_codes(agent):
    r = agent.cli("kv", "put", "cli/key", "hello", token=WRITER)
    assert r.returncode == 0, r.stderr
    revision = int(r.stdout.split()[-1])
    r = agent.cli("kv", "get", "cli/key", "--json", token=READER)
    assert r.returncode == 0 and json.loads(r.stdout)["value"] == "hello"
    r = agent.cli("kv", "get", "cli/key", token=READER)
    assert r.returncode == 0 and "hello" in r.stdout
    r = agent.cli("kv", "list", "cli/", token=READER)
    assert r.returncode == 0 and "cli/key" in r.stdout
    # Not found: 3.
    r = agent.cli("kv", "get", "cli/missing", token=READER)
    assert r.returncode == 3, r.stderr
    assert agent.cli("kv", "del", "cli/missing", token=WRITER).returncode == 3
    # Conflict: 4.
    assert agent.cli("kv", "put", "cli/key", "x", "--cas", str(revision + 1000), token=WRITER).returncode == 4
    # Permission denied: 6 (read token writing, or no token at all).
    assert agent.cli("kv", "put", "cli/key", "x", token=READER).returncode == 6
    assert agent.cli("kv", "get", "cli/key").returncode == 6
    # Bad command line: 2.
    assert agent.cli("kv", "get", token=READER).returncode == 2
    assert agent.cli("kv", "frob", "x", token=READER).returncode == 2
    # Delete, then gone.
    assert agent.cli("kv", "del", "cli/key", token=WRITER).returncode == 0
    assert agent.cli("kv", "get", "cli/key", token=READER).returncode == 3


def test_cli_tables_and_json(agent):
    r = agent.cli("members", token=READER)
    assert r.returncode == 0 and r.stdout.split()[:2] == ["NAME", "STATUS"] and "api-test" in r.stdout
    r = agent.cli("members", "--json", token=READER)
    assert [m["name"] for m in json.loads(r.stdout)] == ["api-test"]
    r = agent.cli("raft", "peers", "--json", token=READER)
    assert r.returncode == 0 and json.loads(r.stdout)["role"] == "leader"
    r = agent.cli("leases", token=READER)
    assert r.returncode == 0 and r.stdout.startswith("LEASE")
    assert agent.cli("status", token=READER).returncode == 0


def test_cli_unreachable_agent_is_5(scratch):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here now
    r = subprocess.run([agent_bin(), "status", "--api", f"http://127.0.0.1:{port}"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 5
    assert "cannot reach the agent" in r.stderr


def test_cli_bad_api_url_is_1(scratch):
    r = subprocess.run([agent_bin(), "status", "--api", "ftp://x"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "expected http://host:port" in r.stderr


# --- documentation ------------------------------------------------------------------------------

def test_every_configuration_field_is_documented_with_its_variable():
    src = os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(src, "libconstellation", "src", "agent", "config.cpp")) as f:
        fields = re.findall(r'\{"([a-z_.]+)", &Config::', f.read())
    with open(os.path.join(src, "docs", "configuration.md")) as f:
        doc = f.read()
    assert len(fields) > 20
    for path in fields:
        section, key = path.split(".", 1)
        assert f"\n## {section}\n" in doc, f"no section for {path}"
        part = doc.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
        assert f"`{key}`" in part, f"{path} is not in docs/configuration.md"
        assert "CONSTELLATION_" + path.upper().replace(".", "_") in part, f"no variable for {path}"


def test_every_route_is_in_the_api_doc():
    src = os.path.join(os.path.dirname(__file__), "..", "..")
    routes = []
    for name in ("routes.cpp", "routes_raft.cpp", "audit.cpp"):
        with open(os.path.join(src, "libconstellation", "src", "agent", name)) as f:
            routes += re.findall(r'add\("(GET|POST|PUT|DELETE)", "([^"]+)"', f.read())
    with open(os.path.join(src, "docs", "api.md")) as f:
        doc = f.read()
    assert len(routes) > 20
    for method, path in routes:
        base = path.rstrip("*").rstrip("/")
        assert f"`{base}" in doc, f"{method} {path} is not in docs/api.md"


def test_keyring_rotation_through_the_api_and_cli(scratch):
    """Install a second key, make it the primary, remove the first; errors for bad requests."""
    old = base64.b64encode(bytes(range(32))).decode()
    new = base64.b64encode(bytes(range(100, 132))).decode()
    a = Agent(scratch, f"gossip:\n  keys: [\"{old}\"]\napi:\n  listen: 127.0.0.1:0\n" + TOKENS_YAML)
    try:
        keys = a.json("GET", "/v1/keyring", token=READER)
        assert len(keys) == 1 and keys[0]["primary"] and len(keys[0]["id"]) == 16
        # Only fingerprints leave the node.
        assert old not in json.dumps(keys)
        a.json("POST", "/v1/keyring/install", json.dumps({"key": new}), token=WRITER, expect=403)
        a.json("POST", "/v1/keyring/install", json.dumps({"key": new}))
        a.json("POST", "/v1/keyring/use", json.dumps({"key": new}))
        err = a.json("POST", "/v1/keyring/remove", json.dumps({"key": new}), expect=409)
        assert "primary" in json.dumps(err)
        a.json("POST", "/v1/keyring/install", json.dumps({"key": "not base64!"}), expect=400)
        a.json("POST", "/v1/keyring/install", json.dumps({"nokey": 1}), expect=400)
        r = a.cli("keyring", "remove", old, token=ADMIN)
        assert r.returncode == 0, r.stderr
        keys = a.json("GET", "/v1/keyring", token=READER)
        assert len(keys) == 1 and keys[0]["primary"] and keys[0]["nodes"] == 1
        r = a.cli("keyring", "use", old, token=ADMIN)
        assert r.returncode == 3, (r.returncode, r.stderr)
        r = a.cli("keyring", "list", token=READER)
        assert r.returncode == 0 and keys[0]["id"] in r.stdout, r.stdout
    finally:
        a.stop()


def test_two_agents_on_loopback_share_their_catalogs(scratch):
    """A second agent joins the first over gossip: each sees the other in /v1/members and its
    services in the Traefik configuration; SIGTERM is a graceful leave the other sees as `left`."""
    def service(port):
        return textwrap.dedent(f"""\
            x-constellation:
              networks: [backend]
            services:
              web{port}:
                command: ["busybox", "httpd", "-f", "-p", "127.0.0.1:{port}", "-h", "."]
                ports: ["127.0.0.1:{port}:{port}"]
                deploy:
                  mode: global
                labels:
                  traefik.enable: "true"
                  traefik.http.routers.web{port}.rule: Host(`web{port}.test`)
                  traefik.http.services.web{port}.loadbalancer.server.port: "{port}"
                x-constellation:
                  checks:
                    - tcp: 127.0.0.1:{port}
                      interval: 1s
            """)
    agents = []
    try:
        seeds = []
        for i in range(2):
            root = os.path.join(scratch, f"a{i}")
            svc = os.path.join(root, "svc")
            os.makedirs(svc)
            port = free_port()
            with open(os.path.join(svc, "compose.yaml"), "w") as f:
                f.write(service(port))
            gossip_port = free_port()
            cfg = (f"gossip:\n  bind: 127.0.0.1:{gossip_port}\n  profile: fast\n  join: [{', '.join(seeds)}]\n"
                   "api:\n  listen: 127.0.0.1:0\n")
            # (conftest.py's CONSTELLATION_GOSSIP_BIND would override the file.)
            agents.append(Agent(root, cfg, services=svc, name=f"node-{i}",
                                env={"CONSTELLATION_GOSSIP_BIND": f"127.0.0.1:{gossip_port}"}))
            seeds.append(f"127.0.0.1:{gossip_port}")
        first, second = agents
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            members = first.json("GET", "/v1/members")
            status, _, text = first.request("GET", "/v1/traefik?format=json")
            if (len(members) == 2 and all(m["state"] == "alive" for m in members) and status == 200
                    and text.count("http://127.0.0.1:") == 2):
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"no convergence: {members} {text!r}")
        assert {m["name"] for m in members} == {"node-0", "node-1"}
        # The second agent reaches the same bytes once the first's latest health has reached it
        # (the first sees its own instance pass before its gossip does).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            other = second.request("GET", "/v1/traefik?format=json")[2]
            if other == text:
                break
            time.sleep(0.1)
        assert other == text
        assert second.stop() == 0
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            members = {m["name"]: m for m in first.json("GET", "/v1/members")}
            if members["node-1"]["state"] == "left":
                break
            time.sleep(0.1)
        assert members["node-1"]["state"] == "left", members
        assert first.request("GET", "/v1/traefik?format=json")[2].count("http://127.0.0.1:") == 1
    finally:
        for a in agents:
            a.stop()
