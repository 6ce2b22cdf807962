# SPDX-License-Identifier: Apache-2.0
"""The Docker Engine API client and the docker runtime against a real engine: podman's
Docker-compatible API service, with a private store in a temporary directory and a busybox image
imported offline. Skipped (not failed) only where podman cannot run at all. Everything the tests
create — the API service, containers, mounts, the store — is removed even when a test fails."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
import uuid

import pytest

from conftest import require_env
from test_services import Host

CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""
IMAGE = "localhost/cst-busybox:latest"
LOOP = "trap 'exit 0' TERM; while :; do sleep 0.2; done"


class Podman:
    def __init__(self, root):
        self.root = root
        self.exe = shutil.which("podman")
        self.env = dict(os.environ, CONTAINERS_CONF=os.path.join(root, "containers.conf"))
        self.socket = os.path.join(root, "api.sock")
        self.service = None

    def run(self, *args, check=True, timeout=120):
        r = subprocess.run([self.exe, "--root", os.path.join(self.root, "store"), "--runroot",
                            os.path.join(self.root, "run"), *args],
                           env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args)}: {r.stderr.strip()}")
        return r

    def unmount_all(self):
        # Deepest first: overlay layers and container roots podman left under the store.
        mounts = []
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = line.split()[4]
                if point.startswith(self.root):
                    mounts.append(point)
        for point in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True)


def skip_unless_runnable():
    missing = [b for b in ("podman", "runc", "busybox") if not shutil.which(b)]
    if missing:
        pytest.skip(f"podman's Docker API cannot run here: {', '.join(missing)} not installed "
                    "(.ci/bootstrap installs podman runc busybox-static catatonit)")


@pytest.fixture(scope="module")
def podman():
    skip_unless_runnable()
    root = tempfile.mkdtemp(prefix="cst-podman-", dir="/tmp")  # short: the socket path is bounded
    p = Podman(root)
    try:
        with open(os.path.join(root, "containers.conf"), "w") as f:
            f.write(CONTAINERS_CONF)
        # An image built offline: busybox and its applets, imported as a tarball.
        rootfs = os.path.join(root, "rootfs")
        os.makedirs(os.path.join(rootfs, "bin"))
        os.makedirs(os.path.join(rootfs, "tmp"))
        shutil.copy(shutil.which("busybox"), os.path.join(rootfs, "bin", "busybox"))
        applets = subprocess.run([shutil.which("busybox"), "--list"], capture_output=True, text=True).stdout.split()
        for a in applets:
            if a != "busybox":
                os.symlink("busybox", os.path.join(rootfs, "bin", a))
        tarball = os.path.join(root, "image.tar")
        subprocess.run(["tar", "-C", rootfs, "-cf", tarball, "."], check=True)
        try:
            p.run("import", "--change", 'CMD ["/bin/sh"]', "--change", "ENV PATH=/bin", tarball, IMAGE)
            smoke = p.run("run", "--rm", "--network", "none", IMAGE, "true", check=False)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            pytest.skip(f"podman cannot run containers here: {e}")
        if smoke.returncode != 0:
            pytest.skip(f"podman cannot run containers here: {smoke.stderr.strip()[-400:]}")
        p.service = subprocess.Popen(
            [p.exe, "--root", os.path.join(root, "store"), "--runroot", os.path.join(root, "run"),
             "system", "service", "--time=0", f"unix://{p.socket}"],
            env=p.env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(root, "service.log"), "w"))
        tool = require_env("CST_DOCKER_TOOL")
        deadline = time.monotonic() + 30
        while True:
            r = subprocess.run([tool, p.socket, "version"], capture_output=True, text=True, timeout=30)
            if r.returncode == 0:
                break
            if time.monotonic() > deadline or p.service.poll() is not None:
                raise AssertionError("podman's API service did not come up: " + r.stdout +
                                     open(os.path.join(root, "service.log")).read())
            time.sleep(0.2)
        yield p
    finally:
        if p.service is not None and p.service.poll() is None:
            p.service.send_signal(signal.SIGTERM)
            try:
                p.service.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.service.kill()
                p.service.wait()
        try:
            p.run("rm", "--all", "--force", "--time", "0", check=False, timeout=120)
        except (subprocess.TimeoutExpired, OSError):
            pass
        p.unmount_all()
        shutil.rmtree(root, ignore_errors=True)


def tool(podman, *args, check=True):
    r = subprocess.run([require_env("CST_DOCKER_TOOL"), podman.socket, *args], capture_output=True, text=True,
                       timeout=120)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.strip()


def inspect(podman, cid):
    return json.loads(tool(podman, "inspect", cid))


def test_api_version(podman):
    assert tool(podman, "version") == "1.41"


def test_create_start_inspect_stop_remove(podman):
    label = f"constellation.test={uuid.uuid4().hex}"
    cid = tool(podman, "create", f"cst-life-{uuid.uuid4().hex[:8]}", IMAGE, "", label, "--", "sh", "-c", LOOP)
    info = inspect(podman, cid)
    assert info["status"] == "created" and not info["running"]
    assert info["labels"]["constellation.test"] == label.split("=")[1]
    assert info["image"].startswith("localhost/cst-busybox")
    tool(podman, "start", cid)
    info = inspect(podman, cid)
    assert info["running"] and info["status"] == "running" and info["pid"] > 0
    assert cid in tool(podman, "list", label)
    assert tool(podman, "list", "constellation.test=nobody") == ""
    tool(podman, "stop", cid, "5")
    info = inspect(podman, cid)
    assert not info["running"] and info["status"] == "exited" and info["exit_code"] == 0
    tool(podman, "start", cid)  # a stopped container starts again
    assert inspect(podman, cid)["running"]
    tool(podman, "remove", cid)
    assert tool(podman, "inspect", cid, check=False).startswith("error not_found")
    assert tool(podman, "create", "x", "localhost/no-such-image:1", "", label, check=False).startswith("error not_found")


def test_container_health_status(podman):
    label = f"constellation.test={uuid.uuid4().hex}"
    good = tool(podman, "create", f"cst-good-{uuid.uuid4().hex[:8]}", IMAGE, "test -e /tmp/ready", label, "--",
                "sh", "-c", "touch /tmp/ready; " + LOOP)
    bad = tool(podman, "create", f"cst-bad-{uuid.uuid4().hex[:8]}", IMAGE, "test -e /tmp/never", label, "--",
               "sh", "-c", LOOP)
    try:
        tool(podman, "start", good)
        tool(podman, "start", bad)
        assert inspect(podman, good)["health"] == "starting"
        # Without systemd podman does not schedule healthchecks itself: run them once each.
        deadline = time.monotonic() + 20
        while podman.run("healthcheck", "run", good, check=False).returncode != 0:
            assert time.monotonic() < deadline, "the healthy container never passed its healthcheck"
            time.sleep(0.2)
        podman.run("healthcheck", "run", bad, check=False)
        assert inspect(podman, good)["health"] == "healthy"
        assert inspect(podman, bad)["health"] == "unhealthy"
    finally:
        tool(podman, "remove", good, check=False)
        tool(podman, "remove", bad, check=False)


def test_events_stream(podman):
    value = uuid.uuid4().hex
    label = f"constellation.test={value}"
    events = subprocess.Popen([require_env("CST_DOCKER_TOOL"), podman.socket, "events", label, "6"],
                              stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        cid = tool(podman, "create", f"cst-ev-{value[:8]}", IMAGE, "", label, "--", "sh", "-c", "exit 7")
        tool(podman, "start", cid)
        deadline = time.monotonic() + 20
        while inspect(podman, cid)["running"] and time.monotonic() < deadline:
            time.sleep(0.1)
        tool(podman, "remove", cid)
        out, _ = events.communicate(timeout=60)
    finally:
        if events.poll() is None:
            events.kill()
            events.wait()
    seen = [line.split() for line in out.splitlines() if line.strip()]
    actions = [a for a, i in seen if i == cid]
    assert "start" in actions and "die" in actions, out


def test_service_host_runs_and_adopts_containers(podman, tmp_path):
    services = tmp_path / "svc"
    services.mkdir()
    (services / "compose.yaml").write_text(textwrap.dedent(f"""
        services:
          box:
            image: {IMAGE}
            command: ["sh", "-c", "{LOOP}"]
            network_mode: none
            stop_grace_period: 2s
            labels:
              traefik.enable: "true"
    """))
    binary = require_env("CST_SERVICE_HOST")
    hosts = []
    try:
        first = Host(binary, services, tmp_path / "data", "--docker-socket", podman.socket, "--keep-running")
        hosts.append(first)
        started = first.wait_for(lambda e: e.get("event") == "started" and e["instance"] == "box-1", 60, "box started")
        assert started["fields"]["runtime"] == "docker"
        cid = started["fields"]["runtime_id"]
        first.wait_for(first.health_is("box-1", "passing"), 30, "box passing")
        info = inspect(podman, cid)
        assert info["running"]
        assert info["labels"]["constellation.instance"] == "box-1"
        assert info["labels"]["traefik.enable"] == "true"
        first.stop(signal.SIGKILL)

        second = Host(binary, services, tmp_path / "data", "--docker-socket", podman.socket)
        hosts.append(second)
        adopted = second.wait_for(lambda e: e.get("event") == "adopted" and e["instance"] == "box-1", 60, "adopted")
        assert adopted["fields"]["runtime_id"] == cid
        second.wait_for(second.health_is("box-1", "passing"), 30, "box passing after adoption")
        assert second.of("started") == []
        assert len(tool(podman, "list", "constellation.instance=box-1").splitlines()) == 1
        assert second.stop() == 0  # stop_on_exit: the container is stopped and removed
        assert tool(podman, "list", "constellation.instance=box-1") == ""
    finally:
        for h in hosts:
            h.stop(signal.SIGKILL)
        for line in tool(podman, "list", "constellation.instance=box-1", check=False).splitlines():
            tool(podman, "remove", line.split()[0], check=False)
