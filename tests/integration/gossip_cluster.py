# SPDX-License-Identifier: Apache-2.0
"""Drives gossip_node processes (tests/integration/gossip_node.cpp) for the real-process tests:
start, send commands on stdin, collect the JSON lines they print, kill. Not a test file."""
import json
import os
import queue
import signal
import subprocess
import threading
import time


def wait_until(predicate, timeout, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Node:
    """One gossip_node process. `prefix` runs it through e.g. ["ip", "netns", "exec", ns]."""

    def __init__(self, binary, name, args=(), prefix=(), log_dir=None):
        self.name = name
        self.events = []
        self.lock = threading.Lock()
        self.answers = queue.Queue()
        self.ready = queue.Queue()
        self.advertise = None
        err = open(os.path.join(log_dir, f"{name}.stderr"), "w") if log_dir else subprocess.DEVNULL
        self.proc = subprocess.Popen([*prefix, binary, "--name", name, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=err, text=True, bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if "event" in obj:
                with self.lock:
                    self.events.append((time.monotonic(), obj))
            elif "ready" in obj:
                self.ready.put(obj)
            else:
                self.answers.put(obj)
        self.ready.put(None)
        self.answers.put(None)

    def wait_ready(self, timeout=10):
        obj = self.ready.get(timeout=timeout)
        if obj is None:
            raise AssertionError(f"{self.name} exited before it was ready (exit {self.proc.poll()})")
        self.advertise = obj["advertise"]
        return self

    def cmd(self, line, timeout=10):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        obj = self.answers.get(timeout=timeout)
        if obj is None:
            raise AssertionError(f"{self.name} exited (exit {self.proc.poll()})")
        return obj

    def members(self):
        return {m["name"]: m for m in self.cmd("members")["members"]}

    def states(self):
        return {n: m["state"] for n, m in self.members().items()}

    def fail_events(self):
        with self.lock:
            return [e["member"]["name"] for _, e in self.events if e["event"] == "fail"]

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def close(self):
        if self.alive():
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=3)
            except Exception:
                pass
        self.kill()


def all_see(nodes, expected, timeout, what="convergence"):
    """Waits until every node's view maps each name in `expected` to its expected state."""

    def check():
        for n in nodes:
            st = n.states()
            if any(st.get(name) != state for name, state in expected.items()):
                return False
        return True

    return wait_until(check, timeout, what=what)
