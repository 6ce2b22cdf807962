# SPDX-License-Identifier: Apache-2.0
"""The DNS writer against a stateful fake of Cloudflare's API v4 whose every request and response
is validated against Cloudflare's OpenAPI schema (../shared/schemas/cloudflare/)."""
import json
import time

import pytest

import constellation
from dnsfixtures import Dnsbot, dnsbot_bin, node, routed, snapshot  # noqa: F401 (fixture)

try:
    from fake_cloudflare import FakeCloudflare
except ImportError as e:  # jsonschema missing
    FakeCloudflare = None
    IMPORT_ERROR = str(e)

ZONE = "example.com"


def fixture_body(name):
    """A body from ../shared/schemas/cloudflare/fixtures (as Cloudflare sends it)."""
    from fake_cloudflare import SCHEMA_PATH
    import os
    with open(os.path.join(os.path.dirname(SCHEMA_PATH), "fixtures", name)) as f:
        return json.load(f)
MARK = "managed-by=constellation owner=cftest"


@pytest.fixture
def cf():
    if FakeCloudflare is None:
        pytest.skip(f"fake Cloudflare unavailable: {IMPORT_ERROR}")
    try:
        fake = FakeCloudflare()
    except FileNotFoundError as e:
        pytest.skip(f"Cloudflare schemas not found ({e}): the fake validates against them, so these tests need "
                    "../shared/schemas/cloudflare beside the repository")
    try:
        yield fake
    finally:
        fake.stop()
    assert fake.violations == [], "\n".join(fake.violations[:20])


def config(cf, **provider):
    return {"owner": "cftest", "zones": [{"name": ZONE, "provider": "cf", "ttl": 300}],
            "providers": {"cf": {"type": "cloudflare", "url": cf.url, "api_token": cf.TOKEN, **provider}},
            "safety": {"deletion_grace_seconds": 0, "holder_settle_seconds": 0}}


def edges(*instances, failed=()):
    return snapshot(node(1, "198.51.100.1", status="failed" if 1 in failed else "alive"),
                    node(2, "198.51.100.2", status="failed" if 2 in failed else "alive"),
                    node(3, "198.51.100.3", roles=(), instances=list(instances)))


def contents(cf, name, rtype="A"):
    return [r["content"] for r in cf.find(name, rtype)]


def test_batch_create_ownership_and_no_update_loop(cf, dnsbot_bin, tmp_path):
    foreign = cf.add(ZONE, f"app.{ZONE}", "A", "203.0.113.9")                 # someone else's
    other = cf.add(ZONE, f"mail.{ZONE}", "A", "203.0.113.10", comment="hand")  # someone else's
    bot = Dnsbot(dnsbot_bin, str(tmp_path), config(cf))
    snap = edges(routed("web", f"www.{ZONE}", f"app.{ZONE}"),
                 routed("cdn", f"cdn.{ZONE}", **{"constellation.dns.proxied": "true", "constellation.dns.ttl": "600"}))
    plan = bot.plan(snap)
    assert plan["zones"][0]["conflicts"] == [f"app.{ZONE}"]
    out = bot.run("apply", snap)
    assert "applied 4 changes" in out.stdout
    assert contents(cf, f"www.{ZONE}") == ["198.51.100.1", "198.51.100.2"]
    assert all(r["comment"] == MARK for r in cf.find(f"www.{ZONE}"))
    assert [r["ttl"] for r in cf.find(f"cdn.{ZONE}")] == [1, 1]  # proxied: Cloudflare stores TTL 1
    assert cf.find(f"app.{ZONE}") == [foreign] and cf.find(f"mail.{ZONE}") == [other]
    writes = cf.writes()
    assert len(writes) == 1 and writes[0][1].endswith("/dns_records/batch")
    # Converged: the proxied TTL, name case and comment do not cause updates.
    cf.requests.clear()
    plan = bot.plan(snap)
    assert plan["summary"] == {"create": 0, "update": 0, "delete": 0, "held": 0}
    assert cf.writes() == []


def test_pagination_and_cached_listing(cf):
    for i in range(230):
        cf.add(ZONE, f"t{i}.{ZONE}", "TXT", f"v{i}")
    engine = constellation.DnsEngine(json.dumps(config(cf, per_page=100)))
    snap = json.dumps(edges(routed("web", f"www.{ZONE}")))
    first = engine.run(snap, apply=True)
    assert first["applied"] == 2
    pages = [q.get("page", ["?"])[0] for m, p, q in cf.requests if m == "GET" and p.endswith("/dns_records")]
    assert pages == ["1", "2", "3"]
    # The same engine reuses its listing (updated by its own batch answer): no list request.
    cf.requests.clear()
    again = engine.run(snap, apply=True)
    assert again["applied"] == 0 and again["requests"] == 0 and cf.requests == []


def test_node_failure_and_grace_deletion(cf, dnsbot_bin, tmp_path):
    cfg = config(cf)
    cfg["safety"].update(deletion_grace_seconds=1, delete_floor=1)
    bot = Dnsbot(dnsbot_bin, str(tmp_path), cfg)
    bot.run("apply", edges(routed("a", f"a.{ZONE}"), routed("b", f"b.{ZONE}"), routed("c", f"c.{ZONE}")))
    bot.run("apply", edges(routed("a", f"a.{ZONE}"), routed("b", f"b.{ZONE}"), routed("c", f"c.{ZONE}"), failed=(2,)))
    assert contents(cf, f"a.{ZONE}") == ["198.51.100.1"]
    # c goes away: held first, deleted after the grace period.
    out = bot.run("apply", edges(routed("a", f"a.{ZONE}"), routed("b", f"b.{ZONE}")))
    assert "held: grace period" in out.stdout and contents(cf, f"c.{ZONE}") == ["198.51.100.1"]
    time.sleep(1.2)
    bot.run("apply", edges(routed("a", f"a.{ZONE}"), routed("b", f"b.{ZONE}")))
    assert contents(cf, f"c.{ZONE}") == []
    # Everything gone at once: refused.
    out = bot.run("apply", edges())
    assert "refusing" in out.stdout
    assert contents(cf, f"a.{ZONE}") and contents(cf, f"b.{ZONE}")


def test_rate_limit_retry_after_and_soft_errors(cf, dnsbot_bin, tmp_path):
    bot = Dnsbot(dnsbot_bin, str(tmp_path), config(cf))
    snap = edges(routed("web", f"www.{ZONE}"))
    # A 503 on the listing is retried (GETs only) and the run succeeds.
    cf.inject.append(("GET", r"/dns_records$", 503, {"success": False, "errors": [{"code": 10000, "message": "busy"}],
                                                     "messages": [], "result": None}, {}))
    # A 429 on the write: soft error, the run stops, nothing written.
    cf.inject.append(("POST", r"/batch$", 429, fixture_body("error-429-rate-limited.json"), {"Retry-After": "1"}))
    out = bot.run("apply", snap, check_exit=4)
    assert "rate limited" in out.stderr
    assert contents(cf, f"www.{ZONE}") == []
    lists = [r for r in cf.requests if r[0] == "GET" and r[1].endswith("/dns_records")]
    assert len(lists) == 2
    time.sleep(1)
    bot.run("apply", snap)
    assert contents(cf, f"www.{ZONE}") == ["198.51.100.1", "198.51.100.2"]


def test_retry_after_pauses_the_account_budget(cf):
    engine = constellation.DnsEngine(json.dumps(config(cf)))
    snap = json.dumps(edges(routed("web", f"www.{ZONE}")))
    cf.inject.append(("POST", r"/batch$", 429, {"success": False, "errors": [{"code": 10429, "message": "Rate limited"}]},
                      {"Retry-After": "2"}))
    out = engine.run(snap, apply=True)
    assert out["aborted"] and "rate limited" in out["abort_reason"]
    # The next run waits out the retry-after before its first request.
    t0 = time.monotonic()
    out = engine.run(snap, apply=True)
    assert out["applied"] == 2
    assert time.monotonic() - t0 >= 1.5


def test_error_envelope_is_reported(cf, dnsbot_bin, tmp_path):
    bot = Dnsbot(dnsbot_bin, str(tmp_path), config(cf))
    cf.inject.append(("POST", r"/batch$", 400, fixture_body("error-81053-record-exists.json"), {}))
    out = bot.run("apply", edges(routed("web", f"www.{ZONE}")), check_exit=4)
    assert "81053" in out.stderr
    bad = Dnsbot(dnsbot_bin, str(tmp_path), {**config(cf), "providers": {"cf": {"type": "cloudflare", "url": cf.url,
                                                                              "api_token": "wrong"}}})
    out = bad.run("apply", edges(routed("web", f"www.{ZONE}")), check_exit=4)
    assert "HTTP 401" in out.stderr and "Authentication error" in out.stderr


def test_lease_loss_mid_plan_stops_between_batches(cf):
    engine = constellation.DnsEngine(json.dumps(config(cf, max_batch=2)))
    hosts = [f"h{i}.{ZONE}" for i in range(3)]
    snap = json.dumps(edges(*(routed(f"s{i}", h) for i, h in enumerate(hosts))))
    holder = {"token": 8}

    def fence():
        # After the first write request reaches the provider, the lease is gone.
        if any(m == "POST" for m, _, _ in cf.requests):
            holder["token"] = 0
        return holder["token"]

    out = engine.run(snap, apply=True, fence=fence)
    assert out["aborted"] and "lease" in out["abort_reason"]
    assert len(cf.writes()) == 1
    assert sum(len(cf.find(h)) for h in hosts) == 2  # one batch of two records, then nothing


def test_per_record_strategy_and_cname_switch(cf, dnsbot_bin, tmp_path):
    bot = Dnsbot(dnsbot_bin, str(tmp_path), config(cf, batch=False))
    bot.run("apply", edges(routed("web", f"www.{ZONE}")))
    assert [m for m, _, _ in cf.writes()] == ["POST", "POST"]
    cf.requests.clear()
    bot.run("apply", edges(routed("web", f"www.{ZONE}", **{"constellation.dns.target": "cname:edge.example.net"})))
    assert [m for m, _, _ in cf.writes()] == ["DELETE", "DELETE", "POST"]
    assert contents(cf, f"www.{ZONE}", "CNAME") == ["edge.example.net"]


def test_the_fake_rejects_what_the_schema_rejects(cf):
    """Control: a request that breaks the schema is caught (so a clean run means something)."""
    import urllib.request
    zid = cf.zone_id(ZONE)
    req = urllib.request.Request(f"{cf.url}/zones/{zid}/dns_records/batch", method="POST",
                                 data=json.dumps({"posts": [{"type": "A", "name": f"x.{ZONE}"}]}).encode(),
                                 headers={"Authorization": f"Bearer {cf.TOKEN}", "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=10).read()
    except Exception:  # noqa: BLE001 - the fake may also refuse it
        pass
    assert any("request POST /zones/{zone_id}/dns_records/batch" in v for v in cf.violations)
    cf.violations.clear()
