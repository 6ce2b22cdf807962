# SPDX-License-Identifier: Apache-2.0
import os
import shutil

import pytest

# Agents started by these tests (in-process or as programs) listen on free ports only, so tests can
# run side by side; the API port comes from each test.
os.environ["CONSTELLATION_RAFT_BIND"] = "127.0.0.1:0"
os.environ["CONSTELLATION_GOSSIP_BIND"] = "127.0.0.1:0"


def require_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests through ctest")
    return value


@pytest.fixture(scope="session")
def agent_bin():
    return require_env("CST_AGENT")


@pytest.fixture(scope="session")
def promtool():
    path = shutil.which("promtool")
    if not path:
        pytest.fail("promtool is missing: .ci/bootstrap installs it (Debian package prometheus)")
    return path
