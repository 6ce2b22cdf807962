# SPDX-License-Identifier: Apache-2.0
import pytest


@pytest.fixture
def data_dir(tmp_path):
    return str(tmp_path / "data")
