# SPDX-License-Identifier: Apache-2.0
"""constellation.RaftNode from Python: a single voter (the embedded default) and a three-voter
group in one process, KV with compare-and-set, watch, leases with fencing tokens, errors."""
import socket
import threading
import time

import pytest

import constellation


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_single_voter_kv_and_leases(tmp_path):
    with constellation.RaftNode(id=1, data_dir=str(tmp_path / "r"), voters={1: "127.0.0.1:0"}, log_level="off") as n:
        assert n.wait_for_leader(timeout=5) == 1
        rev = n.put("app/a", b"one")
        e = n.get("app/a")
        assert e.value == b"one" and e.mod_revision == rev
        with pytest.raises(constellation.ConflictError):
            n.compare_and_set("app/a", b"two", rev + 1)
        rev2 = n.compare_and_set("app/a", b"two", rev)
        assert rev2 > rev
        assert [x.key for x in n.list("app/")] == ["app/a"]
        with pytest.raises(constellation.NotFoundError):
            n.get("missing")

        # A watch started before a write sees it.
        seen = []
        t = threading.Thread(target=lambda: seen.extend(n.watch("app/", rev2, 5.0)))
        t.start()
        n.put("app/b", b"x")
        t.join()
        assert seen and seen[0][0] == "put" and seen[0][2] == "app/b"

        g = n.acquire("dns", "node-1", ttl=10)
        assert g.token > 0 and 0 < g.valid_for <= 10
        with pytest.raises(constellation.ConflictError):
            n.acquire("dns", "node-2", ttl=10)
        assert n.lease("dns").holder == "node-1"
        n.release("dns", "node-1", g.token)
        g2 = n.acquire("dns", "node-2", ttl=10)
        assert g2.token > g.token
        assert n.status.role == "leader"


def test_async_requests_answer_through_pending_objects(tmp_path):
    with constellation.RaftNode(id=1, data_dir=str(tmp_path / "r"), voters={1: "127.0.0.1:0"}, log_level="off") as n:
        assert n.wait_for_leader(timeout=5) == 1
        writes = [n.put_async(f"k/{i}", b"v%d" % i) for i in range(20)]
        revs = [w.result(timeout=5) for w in writes]
        assert all(w.done() for w in writes)
        assert len(set(revs)) == 20
        assert n.get("k/7").value == b"v7"
        g = n.acquire_async("job", "a", ttl=10).result(timeout=5)
        assert isinstance(g, constellation.LeaseGrant) and g.token > 0
        assert n.renew_async("job", "a", g.token).result(timeout=5).token == g.token
        rival = n.acquire_async("job", "b", ttl=10)
        with pytest.raises(constellation.ConflictError):
            rival.result(timeout=5)
        with pytest.raises(constellation.InvalidArgumentError):
            n.put_async("", b"x").result(timeout=5)


def test_three_voters_in_one_process(tmp_path):
    ports = {i: free_port() for i in (1, 2, 3)}
    voters = {i: f"127.0.0.1:{p}" for i, p in ports.items()}
    key = "python-test-cluster-key"
    nodes = [constellation.RaftNode(id=i, data_dir=str(tmp_path / f"n{i}"), voters=voters, cluster_key=key,
                                    tick_ms=10, log_level="off") for i in (1, 2, 3)]
    try:
        leader = nodes[0].wait_for_leader(timeout=10)
        follower = next(n for n in nodes if n.status.id != leader)
        rev = follower.put("k", b"v")  # forwarded to the leader
        for n in nodes:
            assert n.get("k").mod_revision == rev
        nodes[leader - 1].transfer_leadership(follower.status.id, timeout=5)
        assert follower.status.role == "leader"
    finally:
        for n in nodes:
            n.stop()


def test_bad_options_raise():
    with pytest.raises(constellation.InvalidArgumentError):
        constellation.RaftNode(id=1, voters={2: "127.0.0.1:1"}, log_level="off")
    with pytest.raises(constellation.InvalidArgumentError):
        constellation.RaftNode(id=1, voters={1: "127.0.0.1:0", 2: "127.0.0.1:1"}, cluster_key="short", log_level="off")


def test_a_learner_found_by_address_replicates(tmp_path):
    """A node started with join=True learns the leader's address from set_peer_address (the agent
    feeds what gossip tells it) and replicates once the leader adds it as a learner."""
    key = "python-test-cluster-key-0123"
    pa, pb = free_port(), free_port()
    with constellation.RaftNode(id=1, data_dir=str(tmp_path / "a"), voters={1: f"127.0.0.1:{pa}"},
                                cluster_key=key, log_level="off") as a, \
         constellation.RaftNode(id=2, data_dir=str(tmp_path / "b"), join=True, listen_address=f"127.0.0.1:{pb}",
                                cluster_key=key, log_level="off") as b:
        assert a.wait_for_leader(timeout=5) == 1
        b.set_peer_address(1, f"127.0.0.1:{pa}")
        b.set_peer_address(2, "ignored: its own id")
        a.put("k", b"v")
        a.add_learner(2, f"127.0.0.1:{pb}", timeout=5)
        assert 2 in a.status.learners
        deadline = time.monotonic() + 10
        while b.revision < a.revision and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b.revision >= a.revision
        assert b.wait_for_leader(timeout=5) == 1
