# SPDX-License-Identifier: Apache-2.0
"""Gossip with real processes on loopback: 6 nodes join, state propagates, one is killed with
SIGKILL and every other node marks it dead (and never a healthy one), a graceful leave is seen
as "left", and a node with another cluster label or key never joins."""
import base64
import os

import pytest

from gossip_cluster import Node, all_see, wait_until

KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.b64encode(bytes(range(1, 33))).decode()


@pytest.fixture
def gossip_bin():
    path = os.environ.get("CST_GOSSIP_NODE")
    if not path:
        pytest.fail("CST_GOSSIP_NODE is not set: run these tests through ctest")
    return path


@pytest.fixture
def cluster(gossip_bin, tmp_path):
    nodes = []

    def start(name, args=()):
        n = Node(gossip_bin, name, ["--bind", "127.0.0.1:0", "--profile", "fast", *args], log_dir=str(tmp_path))
        nodes.append(n)
        return n.wait_ready()

    yield start
    for n in nodes:
        n.close()


def test_six_processes_join_and_a_killed_one_is_declared_dead(cluster):
    common = ["--key", KEY, "--label", "loopback-test"]
    seed = cluster("n0", common)
    nodes = [seed] + [cluster(f"n{i}", ["--join", seed.advertise, *common]) for i in range(1, 6)]
    all_see(nodes, {n.name: "alive" for n in nodes}, timeout=20, what="6 nodes to converge")

    assert nodes[3].cmd("set service web")["ok"]
    wait_until(lambda: all(n.members()["n3"]["state_map"].get("service") == "web" for n in nodes), 10,
               what="state to propagate")

    victim = nodes[5]
    victim.kill()
    survivors = nodes[:5]
    all_see(survivors, {"n5": "dead"}, timeout=30, what="every survivor to mark n5 dead")
    all_see(survivors, {n.name: "alive" for n in survivors}, timeout=1, what="survivors alive")
    for n in survivors:
        assert set(n.fail_events()) <= {"n5"}, f"{n.name} declared a healthy node dead: {n.fail_events()}"

    assert nodes[4].cmd("leave 3000")["ok"]
    all_see(nodes[:4], {"n4": "left"}, timeout=15, what="the graceful leave of n4")


def test_other_label_or_key_never_joins(cluster):
    seed = cluster("a0", ["--key", KEY, "--label", "blue"])
    a1 = cluster("a1", ["--join", seed.advertise, "--key", KEY, "--label", "blue"])
    wrong_label = cluster("x-label", ["--join", seed.advertise, "--key", KEY, "--label", "green"])
    wrong_key = cluster("x-key", ["--join", seed.advertise, "--key", OTHER_KEY, "--label", "blue"])
    no_key = cluster("x-plain", ["--join", seed.advertise, "--label", "blue"])
    all_see([seed, a1], {"a0": "alive", "a1": "alive"}, timeout=15)
    # Give the intruders time to try (joins retry in the background).
    import time
    time.sleep(3)
    for n in (seed, a1):
        assert set(n.members()) == {"a0", "a1"}, n.members()
    for n in (wrong_label, wrong_key, no_key):
        assert set(n.members()) == {n.name}, n.members()
    # Metrics count the refused traffic.
    text = seed.cmd("metrics")["metrics"]
    rejected = [l for l in text.splitlines() if l.startswith("gossip_rejected_total")]
    assert rejected and float(rejected[0].split()[-1]) > 0, text


def test_key_rotation_without_downtime(cluster):
    new_key = OTHER_KEY
    seed = cluster("k0", ["--key", KEY])
    nodes = [seed] + [cluster(f"k{i}", ["--join", seed.advertise, "--key", KEY]) for i in range(1, 3)]
    all_see(nodes, {n.name: "alive" for n in nodes}, timeout=15)
    for n in nodes:
        assert n.cmd(f"install {new_key}")["ok"]
    for n in nodes:
        assert n.cmd(f"use {new_key}")["ok"]
    for n in nodes:
        assert n.cmd(f"remove {KEY}")["ok"]
        assert n.cmd("keys")["keys"] == [new_key]
    assert "primary" in nodes[0].cmd(f"remove {new_key}")["error"]
    assert nodes[1].cmd("set rotated yes")["ok"]
    wait_until(lambda: all(n.members()["k1"]["state_map"].get("rotated") == "yes" for n in nodes), 10,
               what="state after rotation")
    for n in nodes:
        assert n.fail_events() == []


def test_ipv6_loopback(cluster):
    if not os.path.exists("/proc/net/if_inet6"):
        pytest.skip("no IPv6 in this environment")
    seed = cluster("v0", ["--bind", "[::1]:0"])
    assert seed.advertise.startswith("[::1]:")
    nodes = [seed] + [cluster(f"v{i}", ["--bind", "[::1]:0", "--join", seed.advertise]) for i in range(1, 3)]
    all_see(nodes, {n.name: "alive" for n in nodes}, timeout=15, what="IPv6 nodes to converge")
    assert all(m["address"].startswith("[::1]:") for m in nodes[1].members().values())


def test_restart_with_data_dir_keeps_identity_and_outranks_its_past(cluster, tmp_path):
    seed = cluster("r0")
    data = str(tmp_path / "r1-data")
    r1 = cluster("r1", ["--join", seed.advertise, "--data-dir", data])
    all_see([seed, r1], {"r0": "alive", "r1": "alive"}, timeout=15)
    before = seed.members()["r1"]["incarnation"]
    r1.kill()
    all_see([seed], {"r1": "dead"}, timeout=30, what="r1 to be declared dead")
    again = cluster("r1", ["--join", seed.advertise, "--data-dir", data])
    all_see([seed, again], {"r0": "alive", "r1": "alive"}, timeout=30, what="r1 to come back")
    assert seed.members()["r1"]["incarnation"] > before
    with open(os.path.join(data, "gossip-incarnation")) as f:
        assert int(f.read()) >= seed.members()["r1"]["incarnation"]
