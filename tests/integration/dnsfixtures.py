# SPDX-License-Identifier: Apache-2.0
"""Real DNS servers on loopback for the DNS writer's tests: PowerDNS (gsqlite3 + HTTP API) and
BIND 9 (RFC 2136 + TSIG), each in its own temporary directory on OS-chosen ports, stopped and
removed even when a test fails; plus helpers to run constellation-dnsbot and query with dig."""
import base64
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest


def free_port(kind=socket.SOCK_STREAM):
    """A port free for both TCP and UDP on 127.0.0.1 (DNS servers listen on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


def need(binary, package):
    path = shutil.which(binary) or (os.path.exists(f"/usr/sbin/{binary}") and f"/usr/sbin/{binary}")
    if not path:
        pytest.fail(f"{binary} is missing: .ci/bootstrap installs it (Debian package {package})")
    return path


def dig(port, name, rtype="A", *, full=False):
    """Answers for name/type from the server on 127.0.0.1:port (sorted); full=True returns
    (ttl, data) pairs."""
    out = subprocess.run([need("dig", "bind9-dnsutils"), "@127.0.0.1", "-p", str(port), "+norec", "+time=2", "+tries=2",
                          "+noall", "+answer", name, rtype], capture_output=True, text=True, timeout=20, check=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split(None, 4)
        if len(parts) == 5 and parts[3] == rtype:
            rows.append((int(parts[1]), parts[4].strip()))
    rows.sort()
    return rows if full else sorted(r[1] for r in rows)


class Process:
    def __init__(self, argv, log_path, **kw):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class PowerDns:
    ZONE = "example.test"
    KEY = "test-api-key"

    def __init__(self, tmp):
        pdns = need("pdns_server", "pdns-server")
        schema = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"
        if not os.path.exists(schema):
            pytest.fail("pdns-backend-sqlite3 is missing: .ci/bootstrap installs it")
        self.dir = tmp
        db = os.path.join(tmp, "pdns.sqlite3")
        with sqlite3.connect(db) as c:
            c.executescript(open(schema).read())
        self.dns_port = free_port()
        self.api_port = free_port()
        with open(os.path.join(tmp, "pdns.conf"), "w") as f:
            f.write(f"""launch=gsqlite3
gsqlite3-database={db}
local-address=127.0.0.1
local-port={self.dns_port}
socket-dir={tmp}
daemon=no
guardian=no
disable-syslog=yes
loglevel=4
api=yes
api-key={self.KEY}
webserver=yes
webserver-address=127.0.0.1
webserver-port={self.api_port}
webserver-allow-from=127.0.0.0/8
default-soa-content=ns1.@ hostmaster.@ 0 10800 3600 604800 3600
""")
        self.proc = Process([pdns, f"--config-dir={tmp}"], os.path.join(tmp, "pdns.log"))
        self.url = f"http://127.0.0.1:{self.api_port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                self.api("GET", "/api/v1/servers/localhost")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or self.proc.proc.poll() is not None:
                    self.proc.stop()
                    raise AssertionError("pdns_server did not start: " + open(os.path.join(tmp, "pdns.log")).read())
                time.sleep(0.1)
        self.api("POST", "/api/v1/servers/localhost/zones",
                 {"name": self.ZONE + ".", "kind": "Native", "nameservers": ["ns1." + self.ZONE + "."]})

    def api(self, method, path, body=None):
        req = urllib.request.Request(self.url + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"X-API-Key": self.KEY, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            data = r.read()
            return json.loads(data) if data else None

    def provider(self):
        return {"type": "powerdns", "url": self.url, "api_key": self.KEY}

    def stop(self):
        self.proc.stop()


class Bind:
    ZONE = "example.test"

    def __init__(self, tmp):
        named = need("named", "bind9")
        self.dir = tmp
        self.port = free_port()
        self.secret = base64.b64encode(os.urandom(32)).decode()
        with open(os.path.join(tmp, "example.test.zone"), "w") as f:
            f.write(f"""$ORIGIN {self.ZONE}.
$TTL 60
@   SOA ns1 hostmaster 1 3600 600 86400 60
@   NS  ns1
ns1 A   127.0.0.1
manual A 192.0.2.99
""")
        with open(os.path.join(tmp, "named.conf"), "w") as f:
            f.write(f"""options {{
    directory "{tmp}";
    pid-file "{tmp}/named.pid";
    listen-on port {self.port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
}};
controls {{ }};
key "upd" {{ algorithm hmac-sha256; secret "{self.secret}"; }};
zone "{self.ZONE}" {{
    type primary;
    file "{self.ZONE}.zone";
    allow-transfer {{ key upd; }};
    update-policy {{ grant upd zonesub ANY; }};
}};
""")
        subprocess.run([need("named-checkconf", "bind9"), os.path.join(tmp, "named.conf")], check=True, timeout=30)
        self.proc = Process([named, "-g", "-c", os.path.join(tmp, "named.conf"), "-n", "1"], os.path.join(tmp, "named.log"))
        deadline = time.monotonic() + 30
        while True:
            try:
                if dig(self.port, self.ZONE, "SOA"):
                    break
            except subprocess.SubprocessError:
                pass
            if time.monotonic() > deadline or self.proc.proc.poll() is not None:
                self.proc.stop()
                raise AssertionError("named did not start: " + open(os.path.join(tmp, "named.log")).read())
            time.sleep(0.1)

    def provider(self, **extra):
        return {"type": "rfc2136", "server": f"127.0.0.1:{self.port}", "tsig_name": "upd", "tsig_secret": self.secret, **extra}

    def nsupdate(self, commands):
        script = f"server 127.0.0.1 {self.port}\nzone {self.ZONE}\n{commands}\nsend\n"
        return subprocess.run([need("nsupdate", "bind9-dnsutils"), "-y", f"hmac-sha256:upd:{self.secret}"], input=script,
                              capture_output=True, text=True, timeout=30)

    def stop(self):
        self.proc.stop()


@pytest.fixture
def pdns():
    tmp = tempfile.mkdtemp(prefix="cst-pdns-")
    server = None
    try:
        server = PowerDns(tmp)
        yield server
    finally:
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def bind():
    tmp = tempfile.mkdtemp(prefix="cst-bind-")
    server = None
    try:
        server = Bind(tmp)
        yield server
    finally:
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def node(n, ip, roles=("ingress",), status="alive", instances=()):
    return {"id": f"{n:032x}", "name": f"node-{n}", "status": status, "roles": list(roles),
            "addresses": {"publicnet": ip}, "instances": list(instances)}


def routed(iid, *hosts, **labels):
    rule = " || ".join(f"Host(`{h}`)" for h in hosts)
    return {"id": iid, "health": "passing", "labels": {f"traefik.http.routers.{iid}.rule": rule, **labels}}


def snapshot(*nodes, complete=True, generation=1):
    return {"generation": generation, "complete": complete, "nodes": list(nodes)}


class Dnsbot:
    """Runs constellation-dnsbot with a config and snapshot written to a temporary directory."""

    def __init__(self, binary, workdir, config):
        self.binary = binary
        self.dir = workdir
        self.config = os.path.join(workdir, "dns.json")
        with open(self.config, "w") as f:
            json.dump(config, f)
        self.state = os.path.join(workdir, "state.json")

    def run(self, command, snap, *extra, check_exit=0):
        path = os.path.join(self.dir, "snapshot.json")
        with open(path, "w") as f:
            json.dump(snap, f)
        r = subprocess.run([self.binary, command, "--config", self.config, "--snapshot", path, "--state", self.state, *extra],
                           capture_output=True, text=True, timeout=120)
        if check_exit is not None:
            assert r.returncode == check_exit, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
        return r

    def plan(self, snap, *extra, **kw):
        r = self.run("plan", snap, "--json", *extra, **kw)
        return json.loads(r.stdout)


@pytest.fixture(scope="session")
def dnsbot_bin():
    value = os.environ.get("CST_DNSBOT")
    if not value:
        pytest.fail("CST_DNSBOT is not set: run these tests through ctest")
    return value
