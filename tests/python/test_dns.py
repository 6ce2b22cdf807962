# SPDX-License-Identifier: Apache-2.0
"""The DNS writer from Python: plan, apply, fencing callback, grace state, errors."""
import json

import pytest

import constellation

CONFIG = json.dumps({
    "owner": "py",
    "zones": [{"name": "example.com", "provider": "mem", "ttl": 60}],
    "providers": {"mem": {"type": "memory", "records": [
        {"zone": "example.com", "name": "old.example.com", "type": "A", "content": "192.0.2.1",
         "comment": "managed-by=constellation owner=py"}]}},
    "safety": {"deletion_grace_seconds": 3600},
})


def snapshot(*hosts, complete=True):
    return json.dumps({"complete": complete, "nodes": [{
        "id": "000000000000000000000000000000b1", "roles": ["ingress"],
        "addresses": {"publicnet": "198.51.100.7"},
        "instances": [{"id": f"s{i}", "labels": {f"traefik.http.routers.s{i}.rule": f"Host(`{h}`)"}}
                      for i, h in enumerate(hosts)]}]})


def test_plan_then_apply_then_converged():
    engine = constellation.DnsEngine(CONFIG)
    dry = engine.run(snapshot("a.example.com", "b.example.com"))
    assert dry["creates"] == 2 and dry["applied"] == 0 and not dry["aborted"]
    assert dry["held"] == 1  # old.example.com waits for its grace period
    plan = json.loads(dry["plan_json"])
    assert plan["zones"][0]["held"][0]["held"] == "grace period"
    done = engine.run(snapshot("a.example.com", "b.example.com"), apply=True, fencing_token=4)
    assert done["applied"] == 2
    again = engine.run(snapshot("a.example.com", "b.example.com"), apply=True, state_json=done["state_json"])
    assert again["creates"] == again["updates"] == again["deletes"] == 0
    pending = json.loads(done["state_json"])["pending"]
    assert [p["name"] for p in pending] == ["old.example.com"]


def test_fence_callback_stops_the_run():
    engine = constellation.DnsEngine(CONFIG)
    calls = []

    def fence():
        calls.append(1)
        return 5 if len(calls) < 2 else 0  # lease lost right after the listing

    out = engine.run(snapshot("a.example.com"), apply=True, fence=fence)
    assert out["aborted"] and out["applied"] == 0
    assert "lease" in out["abort_reason"]


def test_partial_view_holds_deletions():
    engine = constellation.DnsEngine(CONFIG.replace("3600", "0"))
    out = engine.run(snapshot("a.example.com", complete=False), apply=True)
    assert out["deletes"] == 0 and out["held"] == 1
    out = engine.run(snapshot("a.example.com"), apply=True)
    assert out["deletes"] == 1


def test_helpers_and_errors():
    assert constellation.normalize_hostname("BÜCHER.example.") == "xn--bcher-kva.example"
    assert constellation.hostnames_from_rule("Host(`a.x`) || Host(`b.x`)") == ["a.x", "b.x"]
    with pytest.raises(constellation.InvalidArgumentError, match="empty label"):
        constellation.normalize_hostname("a..b")
    with pytest.raises(constellation.InvalidArgumentError, match="dns.zones"):
        constellation.DnsEngine('{"owner": "x"}')
    with pytest.raises(ValueError, match="snapshot"):
        constellation.DnsEngine(CONFIG).run("[]")


def test_fence_exceptions_stop_the_run_and_propagate():
    engine = constellation.DnsEngine(CONFIG)

    def broken():
        raise RuntimeError("lease service down")

    with pytest.raises(RuntimeError, match="lease service down"):
        engine.run(snapshot("a.example.com"), apply=True, fence=broken)
    with pytest.raises(TypeError, match="fence must return an int"):
        engine.run(snapshot("a.example.com"), apply=True, fence=lambda: "seven")
    # Nothing was written: a later dry run still plans the creation.
    assert engine.run(snapshot("a.example.com"))["creates"] == 1
