# SPDX-License-Identifier: Apache-2.0
"""constellation.Gossip from Python: three in-process nodes on loopback converge, state
propagates, events arrive, the keyring rotates without losing anyone, errors are typed."""
import base64
import threading
import time

import pytest

import constellation

KEY1 = base64.b64encode(bytes(range(32))).decode()
KEY2 = base64.b64encode(bytes(range(100, 132))).decode()


def wait_until(pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    raise AssertionError("timed out")


def states(node):
    return {m.name: m.state for m in node.members()}


@pytest.fixture
def three():
    nodes = []
    try:
        a = constellation.Gossip(name="a", bind="127.0.0.1:0", keys=[KEY1], label="py", profile="fast")
        nodes.append(a)
        for n in ("b", "c"):
            nodes.append(constellation.Gossip(name=n, bind="127.0.0.1:0", join=[a.advertise_address], keys=[KEY1],
                                              label="py", profile="fast"))
        yield nodes
    finally:
        for n in nodes:
            n.stop()


def test_three_nodes_converge_and_state_propagates(three):
    a, b, c = three
    events = []
    lock = threading.Lock()

    def on_event(kind, member):
        with lock:
            events.append((kind, member.name, dict(member.state_map)))

    sub = a.subscribe(on_event)
    wait_until(lambda: all(states(n) == {"a": "alive", "b": "alive", "c": "alive"} for n in three))
    c.set_state("service", "web")
    wait_until(lambda: all(next(m for m in n.members() if m.name == "c").state_map.get("service") == "web" for n in three))
    wait_until(lambda: any(k == "update" and name == "c" and sm.get("service") == "web" for k, name, sm in events))
    a.unsubscribe(sub)
    c.erase_state("service")
    wait_until(lambda: "service" not in next(m for m in b.members() if m.name == "c").state_map)
    assert "gossip_packets_sent_total" in a.metrics_text()


def test_keyring_rotation_keeps_the_cluster_together(three):
    wait_until(lambda: all(len(states(n)) == 3 for n in three))
    for n in three:
        n.install_key(KEY2)
    for n in three:
        n.use_key(KEY2)
    with pytest.raises(constellation.ConflictError):
        three[0].remove_key(KEY2)
    for n in three:
        n.remove_key(KEY1)
        assert n.list_keys() == [KEY2]
    three[1].set_state("rotated", "1")
    wait_until(lambda: all(next(m for m in n.members() if m.name == "b").state_map.get("rotated") == "1" for n in three))
    assert all(set(states(n).values()) == {"alive"} for n in three)


def test_leave_and_errors():
    with pytest.raises(constellation.InvalidArgumentError, match="32"):
        constellation.Gossip(name="x", bind="127.0.0.1:0", keys=[base64.b64encode(b"short").decode()])
    with pytest.raises(constellation.InvalidArgumentError):
        constellation.Gossip(name="", bind="127.0.0.1:0")
    with pytest.raises(constellation.InvalidArgumentError, match="profile"):
        constellation.Gossip(name="x", bind="127.0.0.1:0", profile="slow")
    with constellation.Gossip(name="p", bind="127.0.0.1:0", profile="fast") as p:
        with constellation.Gossip(name="q", bind="127.0.0.1:0", profile="fast", join=[p.advertise_address]) as q:
            wait_until(lambda: len(states(p)) == 2)
            with pytest.raises(constellation.NotFoundError):
                q.use_key(KEY1)
            q.leave(timeout=3)
        wait_until(lambda: states(p).get("q") == "left")
