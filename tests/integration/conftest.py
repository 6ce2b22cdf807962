# SPDX-License-Identifier: Apache-2.0
import os
import shutil

import pytest


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
