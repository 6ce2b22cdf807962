# SPDX-License-Identifier: Apache-2.0
"""constellation-dnsbot against real DNS servers started here on loopback: PowerDNS (HTTP API,
rrset PATCH) and BIND 9 (RFC 2136 UPDATE + TSIG). Every record change is checked with a DNS query."""
import json
import os
import time

import pytest

import constellation
from dnsfixtures import Dnsbot, bind, dig, dnsbot_bin, node, pdns, routed, snapshot  # noqa: F401 (fixtures)

ZONE = "example.test"


def config(provider, **safety):
    return {"owner": "itest", "zones": [{"name": ZONE, "provider": "p", "ttl": 120}],
            "providers": {"p": provider},
            "safety": {"deletion_grace_seconds": 0, "holder_settle_seconds": 0, **safety}}


@pytest.fixture(params=["powerdns", "bind"])
def server(request):
    """(dns_port, provider config, server object) for each real server."""
    s = request.getfixturevalue("pdns" if request.param == "powerdns" else "bind")
    port = s.dns_port if request.param == "powerdns" else s.port
    if request.param == "powerdns":
        # A record nobody marked as ours, like the BIND zone file's.
        s.api("PATCH", f"/api/v1/servers/localhost/zones/{ZONE}.", {"rrsets": [
            {"name": f"manual.{ZONE}.", "type": "A", "ttl": 60, "changetype": "REPLACE",
             "records": [{"content": "192.0.2.99", "disabled": False}]}]})
    return port, s.provider(), s


def two_edges(*hosts, failed=()):
    return snapshot(
        node(1, "198.51.100.1", status="failed" if 1 in failed else "alive"),
        node(2, "198.51.100.2", status="failed" if 2 in failed else "alive"),
        node(3, "198.51.100.3", roles=(), instances=[routed("web", *hosts)]))


def test_records_follow_healthy_nodes(server, dnsbot_bin, tmp_path):
    port, provider, _ = server
    bot = Dnsbot(dnsbot_bin, str(tmp_path), config(provider))
    # Create: every routed host at both ingress nodes, with its registry record.
    out = bot.run("apply", two_edges(f"app.{ZONE}", f"API.{ZONE}."))
    assert "applied 4 changes" in out.stdout
    assert dig(port, f"app.{ZONE}") == ["198.51.100.1", "198.51.100.2"]
    assert dig(port, f"api.{ZONE}") == ["198.51.100.1", "198.51.100.2"]
    assert dig(port, f"app.{ZONE}", full=True)[0][0] == 120
    assert dig(port, f"_constellation.app.{ZONE}", "TXT") == ['"heritage=constellation,owner=itest,type=A"']
    assert dig(port, f"manual.{ZONE}") == ["192.0.2.99"]  # not ours: untouched
    # Converged: a second run changes nothing (no update loop).
    plan = bot.plan(two_edges(f"app.{ZONE}", f"api.{ZONE}"))
    assert plan["summary"] == {"create": 0, "update": 0, "delete": 0, "held": 0}
    # Node 2 fails: its address leaves both names.
    bot.run("apply", two_edges(f"app.{ZONE}", f"api.{ZONE}", failed=(2,)))
    assert dig(port, f"app.{ZONE}") == ["198.51.100.1"]
    assert dig(port, f"api.{ZONE}") == ["198.51.100.1"]
    # It comes back, and the TTL changes: updated in place.
    cfg = config(provider)
    cfg["zones"][0]["ttl"] = 300
    bot = Dnsbot(dnsbot_bin, str(tmp_path), cfg)
    bot.run("apply", two_edges(f"app.{ZONE}", f"api.{ZONE}"))
    assert dig(port, f"app.{ZONE}", full=True) == [(300, "198.51.100.1"), (300, "198.51.100.2")]
    # A CNAME replaces the A records of one name.
    snap = two_edges(f"app.{ZONE}")
    snap["nodes"][2]["instances"].append(routed("api", f"api.{ZONE}", **{"constellation.dns.target": "cname:app.example.test"}))
    bot.run("apply", snap)
    assert dig(port, f"api.{ZONE}", "CNAME") == [f"app.{ZONE}."]
    assert dig(port, f"_constellation.api.{ZONE}", "TXT") == ['"heritage=constellation,owner=itest,type=CNAME"']
    assert dig(port, f"manual.{ZONE}") == ["192.0.2.99"]


def test_deletion_waits_for_grace_and_shrink_is_refused(server, dnsbot_bin, tmp_path):
    port, provider, _ = server
    bot = Dnsbot(dnsbot_bin, str(tmp_path), config(provider, deletion_grace_seconds=2, delete_floor=1))
    hosts = [f"h{i}.{ZONE}" for i in range(4)]
    bot.run("apply", two_edges(*hosts))
    assert all(dig(port, h) == ["198.51.100.1", "198.51.100.2"] for h in hosts)
    # Empty desired state (every instance gone): refused outright.
    empty = snapshot(node(1, "198.51.100.1"), node(2, "198.51.100.2"))
    plan = bot.plan(empty)
    assert plan["refused"] and plan["summary"]["delete"] == 0 and plan["summary"]["held"] == 8
    bot.run("apply", empty)
    assert all(dig(port, h) for h in hosts)
    # Three of four names gone: abnormal shrink, refused.
    assert bot.plan(two_edges(hosts[0]))["refused"]
    # One name gone: held for the grace period, then deleted (registry record too).
    bot.run("apply", two_edges(*hosts[:3]))
    assert dig(port, hosts[3]) == ["198.51.100.1", "198.51.100.2"]
    state = json.load(open(bot.state))
    assert [p["name"] for p in state["pending"]] == [hosts[3]]
    time.sleep(2.2)
    out = bot.run("apply", two_edges(*hosts[:3]))
    assert "applied 2 changes" in out.stdout
    assert dig(port, hosts[3]) == []
    assert dig(port, f"_constellation.{hosts[3]}", "TXT") == []
    # A partial cluster view deletes nothing.
    partial = two_edges(*hosts[:3], failed=(2,))
    partial["complete"] = False
    bot.run("apply", partial)
    assert dig(port, hosts[0]) == ["198.51.100.1", "198.51.100.2"]


def test_records_we_do_not_own_are_never_touched(server, dnsbot_bin, tmp_path):
    port, provider, _ = server
    bot = Dnsbot(dnsbot_bin, str(tmp_path), config(provider))
    plan = bot.plan(two_edges(f"manual.{ZONE}", f"new.{ZONE}"))
    zone = plan["zones"][0]
    assert zone["conflicts"] == [f"manual.{ZONE}"]
    assert {c["name"] for c in zone["changes"]} == {f"new.{ZONE}"}
    bot.run("apply", two_edges(f"manual.{ZONE}", f"new.{ZONE}"))
    assert dig(port, f"manual.{ZONE}") == ["192.0.2.99"]
    assert dig(port, f"new.{ZONE}") == ["198.51.100.1", "198.51.100.2"]


def test_rfc2136_fence_refuses_a_stale_token(bind, dnsbot_bin, tmp_path):
    bot = Dnsbot(dnsbot_bin, str(tmp_path), config(bind.provider()))
    bot.run("apply", two_edges(f"app.{ZONE}"), "--fencing-token", "5")
    assert dig(bind.port, f"_constellation-fence.{ZONE}", "TXT") == ['"constellation-fence owner=itest token=5"']
    # An older token is refused (the writer sees the newer token in the zone).
    out = bot.run("apply", two_edges(f"app.{ZONE}", failed=(2,)), "--fencing-token", "3", check_exit=4)
    assert "older than token 5" in out.stderr
    assert dig(bind.port, f"app.{ZONE}") == ["198.51.100.1", "198.51.100.2"]


def test_rfc2136_fence_is_enforced_by_the_server(bind):
    """Another writer takes over between our listing and our UPDATE: the server's prerequisite
    check refuses our write, whatever we believe about the lease."""
    engine = constellation.DnsEngine(json.dumps(config(bind.provider())))
    first = engine.run(json.dumps(two_edges(f"app.{ZONE}")), apply=True, fencing_token=3)
    assert first["applied"] == 2
    calls = []

    def fence():
        calls.append(1)
        if len(calls) == 2:  # after our listing, before our write: the new holder (token 9) writes
            r = bind.nsupdate(f"update delete _constellation-fence.{ZONE} TXT\n"
                              f"update add _constellation-fence.{ZONE} 60 TXT \"constellation-fence owner=itest token=9\"")
            assert r.returncode == 0, r.stderr
        return 3  # the stale writer still believes it holds token 3

    out = engine.run(json.dumps(two_edges(f"app.{ZONE}", failed=(2,))), apply=True, fence=fence)
    assert out["aborted"] and "NXRRSET" in out["abort_reason"], out
    assert out["applied"] == 0
    assert dig(bind.port, f"app.{ZONE}") == ["198.51.100.1", "198.51.100.2"]


def test_rfc2136_wrong_key_is_refused(bind, dnsbot_bin, tmp_path):
    provider = bind.provider(tsig_secret="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    bot = Dnsbot(dnsbot_bin, str(tmp_path), config(provider))
    out = bot.run("apply", two_edges(f"app.{ZONE}"), check_exit=4)
    assert "NOTAUTH" in out.stderr or "tsig" in out.stderr
    assert dig(bind.port, f"app.{ZONE}") == []


def test_rfc2136_multi_message_transfer_is_verified(bind, dnsbot_bin, tmp_path):
    """A zone big enough that the AXFR spans many messages: every TSIG in the chain verifies."""
    adds = "\n".join(f"update add bulk{i}.{ZONE} 60 TXT \"{'x' * 200}-{i}\"" for i in range(800))
    for chunk in (adds.splitlines()[i:i + 125] for i in range(0, 800, 125)):
        r = bind.nsupdate("\n".join(chunk))
        assert r.returncode == 0, r.stderr
    bot = Dnsbot(dnsbot_bin, str(tmp_path), config(bind.provider()))
    out = bot.run("apply", two_edges(f"app.{ZONE}"))
    assert "applied 2 changes" in out.stdout
    assert dig(bind.port, f"app.{ZONE}") == ["198.51.100.1", "198.51.100.2"]
    assert dig(bind.port, f"bulk7.{ZONE}", "TXT") == [f'"{"x" * 200}-7"']


def test_dnsbot_run_follows_snapshot_changes(pdns, dnsbot_bin, tmp_path):
    import signal
    import subprocess
    bot = Dnsbot(dnsbot_bin, str(tmp_path), config(pdns.provider()))
    snap_path = tmp_path / "live.json"
    snap_path.write_text(json.dumps(two_edges(f"app.{ZONE}")))
    proc = subprocess.Popen([dnsbot_bin, "run", "--config", bot.config, "--snapshot", str(snap_path), "--interval", "1",
                             "--settle", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def wait_for(expected):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if dig(pdns.dns_port, f"app.{ZONE}") == expected:
                    return True
                time.sleep(0.2)
            return False
        assert wait_for(["198.51.100.1", "198.51.100.2"])
        snap_path.write_text(json.dumps(two_edges(f"app.{ZONE}", failed=(1,))))
        assert wait_for(["198.51.100.2"])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = None
    assert rc == 0


def test_aaaa_and_idna_names(server, dnsbot_bin, tmp_path):
    port, provider, _ = server
    bot = Dnsbot(dnsbot_bin, str(tmp_path), config(provider))
    snap = snapshot(node(1, "2001:DB8:0:0::5"), node(2, "198.51.100.2"),
                    node(3, "198.51.100.3", roles=(), instances=[routed("web", f"Bücher.{ZONE}")]))
    bot.run("apply", snap)
    assert dig(port, f"xn--bcher-kva.{ZONE}", "AAAA") == ["2001:db8::5"]
    assert dig(port, f"xn--bcher-kva.{ZONE}") == ["198.51.100.2"]
    assert bot.plan(snap)["summary"] == {"create": 0, "update": 0, "delete": 0, "held": 0}
