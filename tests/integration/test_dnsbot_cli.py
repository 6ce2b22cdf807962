# SPDX-License-Identifier: Apache-2.0
"""constellation-dnsbot's command line: snapshot from a URL (an agent), 503 refusal, usage errors,
config errors with their path."""
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dnsfixtures import dnsbot_bin, node, routed, snapshot  # noqa: F401 (fixture)

CONFIG = {"owner": "cli", "zones": [{"name": "example.com", "provider": "mem"}],
          "providers": {"mem": {"type": "memory"}}}
SNAP = snapshot(node(1, "198.51.100.1", instances=[routed("w", "www.example.com")]))


@pytest.fixture
def agent_stub():
    """Serves the snapshot document like an agent would: 503 until `ready`."""
    state = {"ready": False, "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            state["hits"] += 1
            body = json.dumps(SNAP if state["ready"] else {"error": {"code": "unavailable"}}).encode()
            self.send_response(200 if state["ready"] else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/dns/snapshot", state
    finally:
        server.shutdown()
        server.server_close()


def run(dnsbot_bin, *args, **kw):
    return subprocess.run([dnsbot_bin, *args], capture_output=True, text=True, timeout=60, **kw)


def test_snapshot_from_an_agent_url(dnsbot_bin, tmp_path, agent_stub):
    url, state = agent_stub
    cfg = tmp_path / "dns.json"
    cfg.write_text(json.dumps(CONFIG))
    r = run(dnsbot_bin, "plan", "--config", str(cfg), "--snapshot", url)
    assert r.returncode == 1 and "HTTP 503" in r.stderr and r.stdout == ""  # no view, no plan
    state["ready"] = True
    r = run(dnsbot_bin, "plan", "--config", str(cfg), "--snapshot", url)
    assert r.returncode == 0, r.stderr
    assert "+ www.example.com A 198.51.100.1" in r.stdout and "dry run" in r.stdout
    r = run(dnsbot_bin, "dry-run", "--config", str(cfg), "--snapshot", "-", "--json", input=json.dumps(SNAP))
    assert json.loads(r.stdout)["summary"]["create"] == 1


def test_usage_and_config_errors(dnsbot_bin, tmp_path):
    assert run(dnsbot_bin).returncode == 2
    assert run(dnsbot_bin, "frobnicate", "--config", "x", "--snapshot", "y").returncode == 2
    assert run(dnsbot_bin, "plan", "--config", "x").returncode == 2
    assert run(dnsbot_bin, "plan", "--bogus").returncode == 2
    r = run(dnsbot_bin, "version")
    assert r.returncode == 0 and r.stdout.startswith("constellation-dnsbot ")
    cfg = tmp_path / "dns.json"
    cfg.write_text(json.dumps({**CONFIG, "zones": [{"name": "example.com", "provider": "mem", "polcy": "sync"}]}))
    snap = tmp_path / "s.json"
    snap.write_text(json.dumps(SNAP))
    r = run(dnsbot_bin, "plan", "--config", str(cfg), "--snapshot", str(snap))
    assert r.returncode == 1 and "dns.zones[0].polcy: unknown key" in r.stderr
    cfg.write_text(json.dumps({**CONFIG, "zones": [{"name": "example.com", "provider": "nope"}]}))
    r = run(dnsbot_bin, "plan", "--config", str(cfg), "--snapshot", str(snap))
    assert r.returncode == 1 and "no provider named 'nope'" in r.stderr
    cfg.write_text(json.dumps(CONFIG))
    snap.write_text('{"nodes": [{"id": "nothex"}]}')
    r = run(dnsbot_bin, "plan", "--config", str(cfg), "--snapshot", str(snap))
    assert r.returncode == 1 and "snapshot.nodes[0].id" in r.stderr
