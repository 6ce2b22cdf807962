# SPDX-License-Identifier: Apache-2.0
import builtins
import json
import re
import urllib.request

import pytest

import constellation
from constellation import errors


def test_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", constellation.__version__)
    major, minor, patch = map(int, constellation.version().split("."))
    assert constellation.version_number() == major * 1_000_000 + minor * 1_000 + patch


def test_error_hierarchy():
    for code, cls in errors.BY_CODE.items():
        assert issubclass(cls, constellation.Error)
        assert cls.code == code
    assert issubclass(constellation.InvalidArgumentError, ValueError)
    assert issubclass(constellation.TimeoutError, builtins.TimeoutError)
    assert issubclass(constellation.IoError, OSError)
    assert len(errors.BY_CODE) == 10


def test_canonical_json_sorts_and_escapes():
    assert constellation.canonical_json('{"b":1,"a":[true,null,"\\u00e9"]}') == '{"a":[true,null,"é"],"b":1}'
    assert constellation.canonical_json('{"b":1,"a":2}', sort_keys=False) == '{"b":1,"a":2}'
    assert constellation.canonical_json('"é\\u2028"', ascii_only=True) == '"\\u00e9\\u2028"'
    assert constellation.canonical_json('[1]', indent=2) == '[\n  1\n]'


def test_canonical_json_errors_are_invalid_argument():
    with pytest.raises(constellation.InvalidArgumentError, match="invalid JSON"):
        constellation.canonical_json('{"a":')
    with pytest.raises(ValueError, match="duplicate key 'a'"):
        constellation.canonical_json('{"a":1,"a":2}')
    with pytest.raises(constellation.InvalidArgumentError, match="nesting"):
        constellation.canonical_json("[" * 100 + "]" * 100)


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode()


def test_agent_serves_health_and_version(data_dir):
    with constellation.Agent(data_dir=data_dir, api_port=0, node_name="py", log_level="warn") as agent:
        assert agent.api_port > 0
        assert len(agent.node_id) == 32
        status, body = get(agent.api_url + "/v1/health")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, body = get(agent.api_url + "/v1/version")
        v = json.loads(body)
        assert v["version"] == constellation.__version__ and v["node"] == "py" and v["node_id"] == agent.node_id
        node_id = agent.node_id
    # The identity persists across restarts.
    again = constellation.Agent(data_dir=data_dir, api_port=0, log_level="warn")
    assert again.node_id == node_id


def test_agent_option_errors(data_dir):
    with pytest.raises(constellation.InvalidArgumentError, match="api_port"):
        constellation.Agent(data_dir=data_dir, api_port=70000)
    with pytest.raises(constellation.InvalidArgumentError, match="log.level"):
        constellation.Agent(data_dir=data_dir, log_level="loud")
    first = constellation.Agent(data_dir=data_dir, api_port=0)
    with pytest.raises(constellation.UnavailableError, match="in use"):
        constellation.Agent(data_dir=data_dir, api_port=0)
    del first
