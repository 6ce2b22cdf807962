# SPDX-License-Identifier: Apache-2.0
"""cmake/check_layers.py — the build step that keeps module layers honest — fails when it should."""
import os
import pathlib
import subprocess
import sys

SOURCE = pathlib.Path(os.environ.get("CST_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
CHECKER = SOURCE / "cmake" / "check_layers.py"

MODULES = """core core -
catalog pure core
gossip pure core,catalog
io/net adapter core
agent composition core,gossip,io/net
"""


def make_tree(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (tmp_path / "libconstellation" / "include").mkdir(parents=True, exist_ok=True)
    (tmp_path / "apps").mkdir(exist_ok=True)
    (tmp_path / "bindings").mkdir(exist_ok=True)
    manifest = tmp_path / "modules.txt"
    manifest.write_text(MODULES)
    return subprocess.run([sys.executable, str(CHECKER), str(tmp_path), str(manifest)],
                          capture_output=True, text=True)


def test_clean_tree_passes(tmp_path):
    r = make_tree(tmp_path, {
        "libconstellation/src/gossip/state.cpp": '#include "core/bytes.hpp"\n#include "catalog/model.hpp"\n#include <vector>\n',
        "libconstellation/src/io/net/udp.cpp": '#include <asio.hpp>\n#include "core/log.hpp"\n',
        "libconstellation/src/agent/agent.cpp": '#include "gossip/state.hpp"\n#include "io/net/udp.hpp"\n',
    })
    assert r.returncode == 0, r.stderr


def test_pure_module_including_an_adapter_fails(tmp_path):
    r = make_tree(tmp_path, {"libconstellation/src/gossip/state.cpp": '#include "io/net/udp.hpp"\n'})
    assert r.returncode == 1
    assert "gossip/state.cpp:1: module gossip (pure) may not include \"io/net/udp.hpp\"" in r.stderr


def test_pure_module_including_io_headers_or_reading_clocks_fails(tmp_path):
    r = make_tree(tmp_path, {"libconstellation/src/gossip/state.cpp":
                             "#include <asio.hpp>\n#include <thread>\n#include <sys/socket.h>\n"
                             "int f() { auto t = std::chrono::steady_clock::now(); return getenv(\"X\") != 0; }\n"})
    assert r.returncode == 1
    for needle in ("<asio.hpp>", "<thread>", "<sys/socket.h>", "steady_clock::now", "getenv"):
        assert needle in r.stderr


def test_comments_do_not_count(tmp_path):
    r = make_tree(tmp_path, {"libconstellation/src/gossip/state.cpp":
                             "// #include <thread>\n/* steady_clock::now() */\nint x;\n"})
    assert r.returncode == 0, r.stderr


def test_core_may_not_use_other_modules_or_third_party(tmp_path):
    r = make_tree(tmp_path, {"libconstellation/src/core/x.cpp": '#include "gossip/state.hpp"\n#include <httplib.h>\n'})
    assert r.returncode == 1
    assert "module core (core) may not include \"gossip/state.hpp\"" in r.stderr
    assert "<httplib.h>" in r.stderr


def test_public_headers_and_apps(tmp_path):
    r = make_tree(tmp_path, {
        "libconstellation/src/core/x.cpp": "int x;\n",
        "libconstellation/include/constellation/agent.hpp": "#include <asio.hpp>\n#include \"core/x.hpp\"\n",
        "apps/agent/main.cpp": '#include "core/json.hpp"\n',
    })
    assert r.returncode == 1
    assert "include/constellation/agent.hpp:1: public headers include only" in r.stderr
    assert "apps/agent/main.cpp:1: apps include public headers only" in r.stderr
