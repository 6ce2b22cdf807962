# SPDX-License-Identifier: Apache-2.0
"""The metrics exposition passes promtool's parser and linter."""
import subprocess

from conftest import require_env


def promtool_check(promtool, text):
    return subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)


def test_registry_output_passes_promtool(promtool):
    text = subprocess.run([require_env("CST_METRICS_EXPOSITION")], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    assert 'constellation_probe_rtt_seconds_bucket{peer="node-1",le="+Inf"} 6' in text
    assert 'kind="quote\\"and\\\\slash\\nnewline"' in text
    r = promtool_check(promtool, text)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "" and r.stderr.strip() == "", "promtool lint findings: " + r.stdout + r.stderr


def test_promtool_rejects_a_broken_exposition(promtool):
    # The check above can fail: the same text with one label quote removed is rejected.
    text = subprocess.run([require_env("CST_METRICS_EXPOSITION")], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    broken = text.replace('{state="alive"}', '{state=alive"}', 1)
    assert broken != text
    assert promtool_check(promtool, broken).returncode != 0
