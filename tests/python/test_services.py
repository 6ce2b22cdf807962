# SPDX-License-Identifier: Apache-2.0
"""The services bindings: validation, the catalog, health checks and monitor, the service host."""
import datetime
import os
import textwrap
import time

import pytest

import constellation
from constellation import HealthStatus as H

SRC = os.environ.get("CST_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def test_validate_examples():
    v = constellation.validate_services(os.path.join(SRC, "examples", "services"), use_process_environment=False)
    assert v.ok and v.files == 4
    assert len(v.services) >= 10 and "hello" in v.services
    assert v.diagnostics == []
    assert '"traefik.http.routers.hello.rule": "Host(`hello.example.com`)"' in v.json


def test_validate_reports_locations(tmp_path):
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n    ports: ['80:http']\n")
    v = constellation.validate_services(str(tmp_path))
    assert not v.ok
    (d,) = v.diagnostics
    assert (d.error, d.file, d.line, d.column, d.field) == (True, "compose.yaml", 4, 13, "services.web.ports[0]")
    assert "invalid port 'http'" in d.message
    assert str(d).startswith("compose.yaml:4:13: error: services.web.ports[0]:")
    with pytest.raises(constellation.NotFoundError):
        constellation.validate_services(str(tmp_path / "missing"))
    single = constellation.validate_compose("services:\n  a:\n    image: x\n    restart: nope\n", "one.yaml")
    assert not single.ok and single.diagnostics[0].line == 4


def node(n, version, health=H.PASSING, service="web"):
    x = constellation.CatalogNode()
    x.id = "1" + "0" * 30 + str(n)
    x.name = f"node-{n}"
    x.addresses = {"backend": f"10.0.0.{n}"}
    x.entry_version = version
    i = constellation.CatalogInstance()
    i.id, i.service, i.runtime, i.health = f"{service}-1", service, "process", health
    i.labels = {"traefik.enable": "true"}
    i.ports = [constellation.CatalogPort(8080, 8080)]
    x.instances = [i]
    return x


def test_catalog_merge_snapshots_and_queries():
    c = constellation.Catalog()
    seen = []
    c.subscribe(lambda s: seen.append(s.generation))
    assert c.merge(node(1, 2)) == constellation.MergeResult.APPLIED
    assert c.merge(node(1, 1)) == constellation.MergeResult.STALE
    assert c.merge(node(1, 2)) == constellation.MergeResult.DUPLICATE
    assert c.merge(node(2, 1, H.WARNING)) == constellation.MergeResult.APPLIED
    bad = node(3, 1)
    bad.id = "nope"
    assert c.merge(bad) == constellation.MergeResult.REJECTED
    s = c.publish()
    assert s.generation == 1 and seen == [1]
    assert [e.node_name for e in s.healthy("web")] == ["node-1"]
    assert [e.address for e in s.healthy("web", include_warning=True)] == ["10.0.0.1", "10.0.0.2"]
    assert s.healthy("web", network="tailscale") == []
    assert s.services() == ["web"]
    assert c.set_state(node(1, 2).id, constellation.NodeState.FAILED)
    s2 = c.publish()
    assert s2.healthy("web") == [] and s.healthy("web") != []  # old snapshots are immutable
    assert s2.nodes[0].state == constellation.NodeState.FAILED


def test_catalog_wire_codec():
    data = constellation.Catalog.encode(node(1, 5))
    back = constellation.Catalog.decode(data)
    assert back.name == "node-1" and back.entry_version == 5
    assert back.instances[0].labels == {"traefik.enable": "true"}
    c = constellation.Catalog()
    assert c.merge_encoded(data) == constellation.MergeResult.APPLIED
    with pytest.raises(constellation.InvalidArgumentError):
        c.merge_encoded(data[:-3])
    with pytest.raises(constellation.CorruptError):
        constellation.Catalog.decode(b"\x07" + data[1:])


def test_run_health_check():
    k = constellation.HealthCheck()
    k.kind = constellation.HealthCheckKind.EXEC
    k.command = ["sh", "-c", "echo hi; exit 1"]
    r = constellation.run_health_check(k)
    assert r.status == H.WARNING and r.output == "exit 1: hi"
    k.kind = constellation.HealthCheckKind.TCP
    k.target = "127.0.0.1:1"
    k.timeout = datetime.timedelta(seconds=1)
    assert constellation.run_health_check(k).status == H.CRITICAL


def test_health_monitor_is_deterministic():
    def run(seed):
        m = constellation.HealthMonitor(seed)
        k = constellation.HealthCheck()
        k.name, k.interval, k.timeout, k.fall = "http", datetime.timedelta(seconds=1), datetime.timedelta(seconds=1), 2
        r = constellation.RestartSettings()
        r.on_unhealthy = True
        m.add("web-1", [k], r, now=0)
        trace, now = [], 0
        while now < 10_000_000_000:
            now = m.next_deadline()
            for e in m.poll(now):
                if e.kind == constellation.HealthEvent.Kind.RUN_CHECK:
                    m.report(e.run_id, H.PASSING if now < 4e9 else H.CRITICAL, "x", now)
                elif e.kind == constellation.HealthEvent.Kind.RESTART:
                    m.started("web-1", now)
                trace.append((now, e.kind.name))
            trace += [(now, e.kind.name) for e in m.take_events()]
        return trace, m
    trace, m = run(3)
    kinds = [k for _, k in trace]
    assert "RESTART_SCHEDULED" in kinds and "RESTART" in kinds
    assert m.restart_attempts("web-1") >= 1
    assert run(3)[0] == trace


def test_service_host_runs_a_process(tmp_path):
    svc = tmp_path / "svc"
    svc.mkdir()
    (svc / "compose.yaml").write_text(textwrap.dedent("""
        services:
          sleeper:
            command: sh -c 'exec sleep 60'
            labels:
              traefik.enable: "true"
    """))
    events = []
    host = constellation.ServiceHost(services_dir=str(svc), data_dir=str(tmp_path / "data"), node_name="py")
    host.on_event(lambda e: events.append((e.kind, e.instance)))
    with host:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            inst = host.instances()
            if inst and inst[0].state == "running" and inst[0].health == H.PASSING:
                break
            time.sleep(0.05)
        (i,) = host.instances()
        assert (i.id, i.runtime, i.state) == ("sleeper-1", "process", "running")
        pid = int(i.runtime_id)
        os.kill(pid, 0)
        snap = host.snapshot()
        (ep,) = snap.healthy("sleeper")
        assert ep.instance.labels == {"traefik.enable": "true"} and ep.node_name == "py"
    assert ("started", "sleeper-1") in events
    with pytest.raises(ProcessLookupError):
        for _ in range(200):
            os.kill(pid, 0)
            time.sleep(0.01)
