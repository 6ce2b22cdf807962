# SPDX-License-Identifier: Apache-2.0
import os
import pytest

# Agents started by these tests (in-process or as programs) listen on free ports only, so tests can
# run side by side; the API port comes from each test.
os.environ["CONSTELLATION_RAFT_BIND"] = "127.0.0.1:0"
os.environ["CONSTELLATION_GOSSIP_BIND"] = "127.0.0.1:0"


@pytest.fixture
def data_dir(tmp_path):
    return str(tmp_path / "data")
