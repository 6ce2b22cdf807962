# SPDX-License-Identifier: Apache-2.0
"""(Run by its own ctest, integration/agent-netns, which holds the "netns" resource lock; the file
name keeps the general pytest run from collecting it.)

Five agents, each in a network namespace this test creates, joined by a bridge in a sixth ("hub")
namespace; addresses exist only inside those namespaces. agent_cluster.py runs the scenarios from
the hub. Every namespace (and so every process and nft rule in it) is deleted even on failure."""
import json
import os
import random
import shutil
import subprocess
import uuid

import pytest


def sh(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def kill_namespace_processes(ns):
    r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
    for pid in r.stdout.split():
        subprocess.run(["kill", "-9", pid], capture_output=True)


def test_five_agents_in_network_namespaces(tmp_path):
    agent = os.environ.get("CST_AGENT")
    if not agent:
        pytest.fail("CST_AGENT is not set: run through ctest")
    if os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        pytest.skip("needs root, ip and nft (.ci/bootstrap installs iproute2 and nftables)")
    tag = uuid.uuid4().hex[:6]
    hub = f"cst-ag{tag}-hub"
    nodes = [f"cst-ag{tag}-n{i}" for i in range(1, 6)]
    subnet = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}"
    created = []
    try:
        for ns in [hub] + nodes:
            sh("ip", "netns", "add", ns)
            created.append(ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("ip", "link", "add", "br0", "type", "bridge", ns=hub)
        sh("ip", "addr", "add", f"{subnet}.254/24", "dev", "br0", ns=hub)
        sh("ip", "link", "set", "br0", "up", ns=hub)
        for i, ns in enumerate(nodes, start=1):
            # Both ends are created in the hub namespace, then one moves into the node's.
            sh("ip", "link", "add", f"v{i}", "type", "veth", "peer", "name", "eth0", "netns", ns, ns=hub)
            sh("ip", "link", "set", f"v{i}", "master", "br0", "up", ns=hub)
            sh("ip", "addr", "add", f"{subnet}.{i}/24", "dev", "eth0", ns=ns)
            sh("ip", "link", "set", "eth0", "up", ns=ns)
        script = os.path.join(os.path.dirname(__file__), "agent_cluster.py")
        r = subprocess.run(["ip", "netns", "exec", hub, "python3", script, agent, str(tmp_path), subnet] + nodes,
                           capture_output=True, text=True, timeout=600)
        print(r.stderr[-6000:])
        if r.returncode != 0:
            for n in range(1, 6):
                p = tmp_path / f"n{n}" / "agent.log"
                if p.exists():
                    print(f"--- n{n} agent.log (tail) ---")
                    print(p.read_text(errors="replace")[-3000:])
        assert r.returncode == 0, r.stderr[-4000:]
        result = json.loads(r.stdout.strip().splitlines()[-1])
        assert result.get("ok"), result
        print("figures:", json.dumps(result))
    finally:
        for ns in created:
            kill_namespace_processes(ns)
        for ns in created:
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
