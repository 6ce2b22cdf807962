# SPDX-License-Identifier: Apache-2.0
"""The Traefik provider through the Python bindings: rendering, and the /v1/traefik endpoint over
real loopback sockets (HTTP, keep-alive, pipelining, limits, token, TLS and mTLS, file output)."""
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess

import pytest

import constellation

yaml = pytest.importorskip("yaml")


def state(complete=True, health="passing", extra_labels=None, replicas=2):
    labels = {
        "traefik.http.routers.web.rule": "Host(`web.example.com`)",
        "traefik.http.routers.web.entrypoints": "websecure",
        "traefik.http.routers.web.middlewares": "strip",
        "traefik.http.middlewares.strip.stripprefix.prefixes": "/api",
    }
    labels.update(extra_labels or {})
    nodes = []
    for i in range(1, replicas + 1):
        nodes.append({
            "name": f"node-{i}",
            "addresses": {"backend": f"10.0.0.{i}"},
            "instances": [{
                "id": f"web-{i}", "service": "web", "project": "shop", "labels": labels,
                "ports": [{"target": 80, "published": 8080}], "networks": ["backend"], "health": health,
            }],
        })
    return json.dumps({"generation": 1, "complete": complete, "nodes": nodes})


def test_render_is_deterministic_and_yaml_matches_json():
    a = constellation.render_traefik(state(), "v3", "json")
    b = constellation.render_traefik(state(), "v3", "json")
    assert a == b
    assert a["etag"].startswith('"') and len(a["etag"]) == 18
    config = json.loads(a["body"])
    servers = config["http"]["services"]["web-shop"]["loadBalancer"]["servers"]
    assert servers == [{"url": "http://10.0.0.1:8080"}, {"url": "http://10.0.0.2:8080"}]
    y = constellation.render_traefik(state(), "v3", "yaml")
    assert yaml.safe_load(y["body"]) == config
    assert a["diagnostics"] == []


def test_bad_labels_are_diagnostics_and_the_rest_is_served():
    r = constellation.render_traefik(state(extra_labels={"traefik.http.routers.other.rule": "Host(`x`"}), "v3", "json")
    config = json.loads(r["body"])
    assert "web" in config["http"]["routers"] and "other" not in config["http"]["routers"]
    errors = [d for d in r["diagnostics"] if d["severity"] == "error"]
    assert {d["label"] for d in errors} == {"traefik.http.routers.other.rule"}
    assert errors[0]["node"] in ("node-1", "node-2") and errors[0]["resource"] == "http.routers.other"
    assert "expected ',' or ')'" in errors[0]["message"]


def test_render_errors():
    with pytest.raises(constellation.InvalidArgumentError, match=r"nodes\[0\]: unknown key 'nme'"):
        constellation.render_traefik('{"nodes": [{"nme": "x"}]}')
    with pytest.raises(constellation.InvalidArgumentError, match="not v2 or v3"):
        constellation.render_traefik(state(), "v4")
    with pytest.raises(constellation.InvalidArgumentError, match="default_rule"):
        constellation.render_traefik(state(), default_rule="{{ range }}")


def get(server, path, headers=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def test_endpoint_serves_503_until_complete_then_cached_bytes():
    with constellation.ProviderServer(port=0) as server:
        status, headers, body = get(server, "/v1/traefik")
        assert status == 503 and headers["Retry-After"] == "1"
        assert json.loads(body)["error"]["code"] == "unavailable"
        server.update(state(complete=False))
        server.sync()
        assert get(server, "/v1/traefik")[0] == 503

        server.update(state())
        server.sync()
        status, headers, body = get(server, "/v1/traefik")
        assert status == 200 and headers["Content-Type"] == "application/yaml"
        assert headers["ETag"] == server.etag("v3", "yaml")
        assert body.decode() == constellation.render_traefik(state(), "v3", "yaml")["body"]
        status, headers, body = get(server, "/v1/traefik/v2?format=json")
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert body.decode() == constellation.render_traefik(state(), "v2", "json")["body"]
        assert get(server, "/v1/traefik?version=v2&format=yaml")[2] == get(server, "/v1/traefik/v2")[2]

        # Conditional requests and HEAD.
        etag = headers["ETag"]
        status, headers, body = get(server, "/v1/traefik/v2?format=json", {"If-None-Match": etag})
        assert status == 304 and body == b"" and headers["ETag"] == etag
        status, headers, body = get(server, "/v1/traefik", method="HEAD")
        assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0

        # Errors.
        assert get(server, "/v1/traefik?version=v9")[0] == 400
        assert get(server, "/v1/traefik?format=toml")[0] == 400
        assert get(server, "/v1/traefik/v2?version=v3")[0] == 400
        assert get(server, "/v1/other")[0] == 404
        status, headers, _ = get(server, "/v1/traefik", method="POST")
        assert status == 405 and headers["Allow"] == "GET, HEAD"

        # A health change re-renders: new bytes, new ETag, no server left (503 in Traefik).
        server.update(state(health="critical"))
        server.sync()
        status, headers, body = get(server, "/v1/traefik?format=json")
        assert headers["ETag"] != etag
        assert json.loads(body)["http"]["services"]["web-shop"]["loadBalancer"]["servers"] == []

        diags = json.loads(get(server, "/v1/traefik/diagnostics")[2])
        assert diags["complete"] is True
        assert diags["versions"]["v3"]["routers"] == 1
        assert any("no routable server" in d["message"] for d in diags["versions"]["v3"]["diagnostics"])

        # A malformed update is refused; the last state stays served.
        with pytest.raises(constellation.InvalidArgumentError):
            server.update("{")
        assert get(server, "/v1/traefik")[0] == 200


def test_token_entrypoint_filter_and_version_subset():
    with constellation.ProviderServer(port=0, token="s3cret", entry_points=["web"]) as server:
        server.update(state())
        server.sync()
        assert get(server, "/v1/traefik")[0] == 401
        assert get(server, "/v1/traefik", {"X-Constellation-Token": "wrong!"})[0] == 401
        status, _, body = get(server, "/v1/traefik?format=json", {"x-constellation-token": "s3cret"})
        assert status == 200
        assert "routers" not in json.loads(body)["http"]  # the only router is on websecure


def raw_exchange(port, payload, expect_responses):
    """Sends payload as is and reads until expect_responses responses or the peer closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(payload)
        data = b""
        while data.count(b"HTTP/1.1 ") < expect_responses or not data.endswith((b"\n", b"}")):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if data.count(b"HTTP/1.1 ") >= expect_responses and b"Connection: close" in data:
                break
        return data


def test_keep_alive_pipelining_and_limits():
    with constellation.ProviderServer(port=0, default_format="json") as server:
        server.update(state())
        server.sync()
        body = constellation.render_traefik(state(), "v3", "json")["body"].encode()

        # One connection, many requests (keep-alive).
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for _ in range(5):
            conn.request("GET", "/v1/traefik")
            r = conn.getresponse()
            assert r.status == 200 and r.read() == body
        conn.close()

        # Three pipelined requests in one packet: three answers, in order, the last closes.
        req = b"GET /v1/traefik HTTP/1.1\r\nHost: x\r\n\r\n"
        last = b"GET /v1/traefik/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        data = raw_exchange(server.port, req + req + last, 3)
        assert data.count(b"HTTP/1.1 200 OK") == 2 and data.count(body) == 2
        assert data.rindex(b"HTTP/1.1 404") > data.rindex(b"HTTP/1.1 200")
        assert b"Connection: close" in data

        # HTTP/1.0 closes unless asked to keep alive.
        data = raw_exchange(server.port, b"GET /v1/traefik HTTP/1.0\r\n\r\n", 1)
        assert data.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" in data

        # Oversized head, chunked body, garbage.
        huge = b"GET /v1/traefik HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
        assert raw_exchange(server.port, huge, 1).startswith(b"HTTP/1.1 431")
        chunked = b"POST /v1/traefik HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        assert raw_exchange(server.port, chunked, 1).startswith(b"HTTP/1.1 501")
        assert raw_exchange(server.port, b"NOT HTTP\r\n\r\n", 1).startswith(b"HTTP/1.1 400")
        big_body = b"GET /v1/traefik HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n"
        assert raw_exchange(server.port, big_body, 1).startswith(b"HTTP/1.1 413")
        # A small body on a GET is read and ignored.
        small = b"GET /v1/traefik HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
        assert raw_exchange(server.port, small, 1).startswith(b"HTTP/1.1 200")


def test_file_output_is_written_atomically_and_only_when_complete(tmp_path):
    out = tmp_path / "dynamic" / "constellation.yml"
    out.parent.mkdir()
    with constellation.ProviderServer(port=0, file_output=str(out)) as server:
        server.update(state(complete=False))
        server.sync()
        assert not out.exists()
        server.update(state())
        server.sync()
        assert out.read_text() == constellation.render_traefik(state(), "v3", "yaml")["body"]
        assert oct(out.stat().st_mode & 0o777) == "0o644"
        server.update(state(replicas=1))
        server.sync()
        assert "10.0.0.2" not in out.read_text()
        assert [p.name for p in out.parent.iterdir()] == ["constellation.yml"]  # no temp file left
    # File output alone, without HTTP.
    solo = tmp_path / "solo.json"
    server = constellation.ProviderServer(file_output=str(solo), file_format="json", port=0)
    server.update(state())
    server.sync()
    assert json.loads(solo.read_text())["http"]["routers"]["web"]["rule"] == "Host(`web.example.com`)"
    server.stop()


def test_options_errors():
    with pytest.raises(constellation.InvalidArgumentError, match="health"):
        constellation.ProviderServer(health="sometimes")
    with pytest.raises(constellation.InvalidArgumentError, match="certificate and the key"):
        constellation.ProviderServer(tls_cert_file="/nonexistent.pem")
    with pytest.raises(constellation.InvalidArgumentError, match="tls_cert_file"):
        constellation.ProviderServer(tls_cert_file="/nonexistent.pem", tls_key_file="/nonexistent.key")
    with constellation.ProviderServer(port=0) as first:
        with pytest.raises(constellation.IoError, match="cannot listen"):
            constellation.ProviderServer(port=first.port)


def make_pki(tmp_path):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all from the CLI."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp_path)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-subj", "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.pem")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr")
        (tmp_path / f"{name}.ext").write_text(ext + "\n")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem")
    return {k: str(tmp_path / k) for k in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
def test_tls_and_mutual_tls(tmp_path):
    pki = make_pki(tmp_path)
    with constellation.ProviderServer(port=0, tls_cert_file=pki["server.pem"], tls_key_file=pki["server.key"],
                                      tls_client_ca_file=pki["ca.pem"]) as server:
        assert server.url.startswith("https://127.0.0.1:")
        server.update(state())
        server.sync()
        # Without a client certificate the handshake fails.
        anonymous = ssl.create_default_context(cafile=pki["ca.pem"])
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=anonymous, timeout=10)
            conn.request("GET", "/v1/traefik")
            conn.getresponse().read()
        # With one signed by the CA it works, and keep-alive works over TLS.
        ctx = ssl.create_default_context(cafile=pki["ca.pem"])
        ctx.load_cert_chain(pki["client.pem"], pki["client.key"])
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx, timeout=10)
        for _ in range(3):
            conn.request("GET", "/v1/traefik?format=json")
            r = conn.getresponse()
            assert r.status == 200
            assert json.loads(r.read())["http"]["routers"]["web"]["service"] == "web-shop"
        conn.close()


def test_render_cli(tmp_path):
    agent = os.environ.get("CST_AGENT")
    if not agent:
        pytest.skip("CST_AGENT is not set (the agent app is not built)")
    path = tmp_path / "state.json"
    path.write_text(state(extra_labels={"traefik.http.routers.bad.rulee": "x"}))
    r = subprocess.run([agent, "traefik", "render", "--state", str(path), "--format", "json"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0
    assert r.stdout == constellation.render_traefik(path.read_text(), "v3", "json")["body"]
    assert "label traefik.http.routers.bad.rulee: unknown field 'rulee'" in r.stderr
    strict = subprocess.run([agent, "traefik", "render", "--state", str(path), "--strict", "--quiet"],
                            capture_output=True, text=True, check=False)
    assert strict.returncode == 3 and strict.stderr == ""
    bad = subprocess.run([agent, "traefik", "render", "--state", str(tmp_path / "missing.json")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    usage = subprocess.run([agent, "traefik", "render"], capture_output=True, text=True, check=False)
    assert usage.returncode == 2
