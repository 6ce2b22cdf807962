# SPDX-License-Identifier: Apache-2.0
"""(Run by its own ctest, integration/gossip-netns, which holds the "netns" resource lock; the file
name keeps the general pytest run from collecting it.)

Gossip across network namespaces this test creates: a hub namespace with a bridge and one
namespace per node, each linked to the bridge by a veth pair; addresses (10.231.77.0/24) exist
only inside those namespaces. Five encrypted nodes join; nft inside one node's namespace cuts it
off, the others declare it dead; the rule is removed and everyone converges again by itself. A
node with the wrong key and one with the wrong cluster label never join. Namespaces and processes
are removed even when the test fails."""
import base64
import os
import shutil
import subprocess
import uuid

import pytest

from gossip_cluster import Node, all_see, wait_until

KEY = base64.b64encode(bytes(range(32))).decode()
WRONG_KEY = base64.b64encode(bytes(range(50, 82))).decode()
SUBNET = "10.231.77"
CUT_RULES = """table inet cst_gossip_cut {
  chain input { type filter hook input priority 0; policy drop; iif "lo" accept; }
  chain output { type filter hook output priority 0; policy drop; oif "lo" accept; }
}
"""


def sh(*args, check=True, input=None):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, input=input)


class Topology:
    """A hub namespace with a bridge, and one namespace per node on it."""

    def __init__(self):
        self.tag = uuid.uuid4().hex[:6]
        self.hub = f"cstg-{self.tag}-hub"
        self.namespaces = []

    def __enter__(self):
        self._add_ns(self.hub)
        sh("ip", "-n", self.hub, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.hub, "link", "set", "br0", "up")
        return self

    def _add_ns(self, ns):
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")

    def add_node(self, index):
        ns = f"cstg-{self.tag}-{index}"
        self._add_ns(ns)
        hub_end, node_end = f"cg{self.tag}{index}h", f"cg{self.tag}{index}n"
        sh("ip", "-n", self.hub, "link", "add", hub_end, "type", "veth", "peer", "name", node_end, "netns", ns)
        sh("ip", "-n", self.hub, "link", "set", hub_end, "master", "br0", "up")
        address = f"{SUBNET}.{index + 1}"
        sh("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", node_end)
        sh("ip", "-n", ns, "link", "set", node_end, "up")
        return ns, address

    def __exit__(self, *exc):
        for ns in reversed(self.namespaces):
            sh("ip", "netns", "delete", ns, check=False)


def test_partition_with_nft_heals_and_intruders_never_join(tmp_path):
    binary = os.environ.get("CST_GOSSIP_NODE")
    if not binary:
        pytest.fail("CST_GOSSIP_NODE is not set: run through ctest")
    if os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        pytest.skip("needs root, ip (iproute2) with netns support and nft (nftables)")
    if sh("ip", "netns", "list", check=False).returncode != 0:
        pytest.skip("`ip netns` is not usable here")
    nodes = []
    try:
        with Topology() as topo:
            placed = [topo.add_node(i) for i in range(7)]
            seed_addr = f"{placed[0][1]}:7946"

            def start(i, name, extra):
                ns, address = placed[i]
                args = ["--bind", f"{address}:7946", "--profile", "fast", *extra]
                if i != 0:
                    args += ["--join", seed_addr]
                n = Node(binary, name, args, prefix=["ip", "netns", "exec", ns], log_dir=str(tmp_path))
                nodes.append(n)
                return n.wait_ready()

            good = [start(i, f"g{i}", ["--key", KEY, "--label", "netns"]) for i in range(5)]
            wrong_key = start(5, "x-key", ["--key", WRONG_KEY, "--label", "netns"])
            wrong_label = start(6, "x-label", ["--key", KEY, "--label", "other"])
            names = {n.name for n in good}
            all_see(good, {n: "alive" for n in names}, timeout=30, what="5 nodes in namespaces to converge")

            victim = good[4]
            victim_ns = placed[4][0]
            sh("ip", "netns", "exec", victim_ns, "nft", "-f", "-", input=CUT_RULES)
            others = good[:4]
            all_see(others, {"g4": "dead"}, timeout=30, what="the cut-off node to be declared dead")
            for n in others:
                assert set(n.fail_events()) == {"g4"}, f"{n.name} declared a reachable node dead: {n.fail_events()}"

            sh("ip", "netns", "exec", victim_ns, "nft", "delete", "table", "inet", "cst_gossip_cut")
            all_see(good, {n: "alive" for n in names}, timeout=90, what="convergence after the cut is healed")

            for n in good:
                assert set(n.members()) == names, f"{n.name} sees {sorted(n.members())}"
            assert set(wrong_key.members()) == {"x-key"}
            assert set(wrong_label.members()) == {"x-label"}
    finally:
        for n in nodes:
            n.close()
