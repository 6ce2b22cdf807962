# SPDX-License-Identifier: Apache-2.0
"""(Run by its own ctest, integration/raft-netns, which holds the "netns" resource lock; the file
name keeps the general pytest run from collecting it.)

Three Raft processes in a network namespace this test creates; nft isolates the leader's Raft
port in both directions, then heals. No acknowledged write is lost, no two lease holders, and the
history is linearizable. The namespace is deleted even when the test fails."""
import json
import os
import shutil
import subprocess
import uuid

import pytest


def test_nft_partition_of_the_leader(tmp_path):
    node, checker = os.environ.get("CST_RAFT_NODE"), os.environ.get("CST_LINCHECK")
    if not node or not checker:
        pytest.fail("CST_RAFT_NODE / CST_LINCHECK are not set: run through ctest")
    if os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        pytest.skip("needs root, ip and nft (.ci/bootstrap installs iproute2 and nftables)")
    ns = f"cst-raft-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        script = os.path.join(os.path.dirname(__file__), "raft_cluster.py")
        r = subprocess.run(["ip", "netns", "exec", ns, "python3", script, "partition", node, checker, str(tmp_path)],
                           capture_output=True, text=True, timeout=240)
        assert r.returncode == 0, r.stderr[-3000:]
        result = json.loads(r.stdout.strip().splitlines()[-1])
        assert result["new_leader"] != result["old_leader"]
        assert result["acked"] > 0
        assert result["lost"] == [], result["lost"]
        assert result["overlaps"] == [], result["overlaps"]
        assert result["lincheck"] == 0, result["lincheck_output"]
    finally:
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
