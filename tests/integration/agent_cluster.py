# SPDX-License-Identifier: Apache-2.0
"""Five agents, each in its own network namespace (created by agent_netns_check.py), three of them
Raft voters, each running one example service. Run inside the hub namespace, which owns the bridge:

    agent_cluster.py AGENT WORKDIR SUBNET NS1 ... NS5

Scenarios, in order (each prints a line; the last stdout line is a JSON summary):
  (a) every node's /v1/traefik converges to the same bytes;
  (b) the service made unhealthy on one node disappears from every node's config (propagation
      time measured from the moment its own node drops it);
  (c) kill -9 of the Raft leader: a new leader, leases keep a single holder, the killed node
      rejoins on restart;
  (d) nft isolates two nodes (one voter, one learner): the majority keeps serving, the minority
      grants no lease, and after healing everything converges again.
"""
import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

TOKEN = "netns-test-admin-token-0123456789"
RAFT_KEY = "netns-test-raft-key-0123456789"
GOSSIP_KEY = base64.b64encode(bytes(range(32))).decode()
PORT_API, PORT_GOSSIP, PORT_RAFT, PORT_WEB = 7400, 7946, 7947, 18090
VOTERS = ["n1", "n2", "n3"]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Node:
    def __init__(self, index, ns, subnet, agent, workdir):
        self.index, self.ns, self.agent = index, ns, agent
        self.name = f"n{index}"
        self.ip = f"{subnet}.{index}"
        self.dir = os.path.join(workdir, self.name)
        self.proc = None
        self.www = os.path.join(self.dir, "www")
        os.makedirs(os.path.join(self.dir, "services"), exist_ok=True)
        os.makedirs(self.www, exist_ok=True)
        with open(os.path.join(self.www, "health"), "w") as f:
            f.write("ok\n")
        with open(os.path.join(self.dir, "services", "web.yaml"), "w") as f:
            f.write(f"""name: web
x-constellation:
  runtime: process
  networks: [backend]
services:
  web:
    command: ["python3", "-m", "http.server", "{PORT_WEB}", "--bind", "{self.ip}", "--directory", "{self.www}"]
    ports:
      - "{self.ip}:{PORT_WEB}:{PORT_WEB}"
    labels:
      traefik.enable: "true"
      traefik.http.routers.web.rule: Host(`web.cluster.test`)
      traefik.http.services.web.loadbalancer.server.port: "{PORT_WEB}"
    restart: always
    deploy:
      mode: global
    x-constellation:
      checks:
        - name: http
          http: http://{self.ip}:{PORT_WEB}/health
          expect_status: 200
          interval: 1s
          timeout: 1s
          rise: 1
          fall: 2
""")
        with open(os.path.join(self.dir, "agent.yaml"), "w") as f:
            f.write(f"""node:
  name: {self.name}
  data_dir: {self.dir}/data
  addresses:
    backend: {self.ip}
gossip:
  bind: {self.ip}:{PORT_GOSSIP}
  join: ["{subnet}.1:{PORT_GOSSIP}", "{subnet}.2:{PORT_GOSSIP}"]
  keys: ["{GOSSIP_KEY}"]
  label: netns-test
  profile: fast
raft:
  voters: [{", ".join(VOTERS)}]
  bind: {self.ip}:{PORT_RAFT}
  key: {RAFT_KEY}
  profile: fast
api:
  listen: {self.ip}:{PORT_API}
  rate_limit: 10000
  rate_burst: 10000
  tokens:
    - name: test
      secret: {TOKEN}
      role: admin
services:
  dir: {self.dir}/services
log:
  level: info
""")

    def start(self):
        out = open(os.path.join(self.dir, "agent.log"), "ab")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, self.agent, "run", "--config",
                                      os.path.join(self.dir, "agent.yaml")],
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                     # The configuration file alone (conftest.py sets overrides for other tests).
                                     env={k: v for k, v in os.environ.items() if not k.startswith("CONSTELLATION_")})

    def kill9(self):
        # `ip netns exec` execs the agent, so the Popen pid is the agent itself.
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None

    def request(self, method, path, body=None, timeout=3):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://{self.ip}:{PORT_API}{path}", data=data, method=method,
                                     headers={"Authorization": f"Bearer {TOKEN}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            return 0, str(e).encode()

    def get_json(self, path, timeout=3):
        code, body = self.request("GET", path, timeout=timeout)
        if code != 200:
            return None
        return json.loads(body)


def wait_until(what, fn, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def traefik_bytes(nodes):
    out = {}
    for n in nodes:
        code, body = n.request("GET", "/v1/traefik?format=json")
        out[n.name] = body if code == 200 else None
    return out


def converged(nodes, expect_servers):
    """The same non-empty Traefik config on every node, with exactly `expect_servers` web servers."""
    configs = traefik_bytes(nodes)
    values = set(configs.values())
    if None in values or len(values) != 1:
        return None
    doc = json.loads(next(iter(values)))
    try:
        servers = doc["http"]["services"]["web"]["loadBalancer"]["servers"]
    except (KeyError, TypeError):
        return None
    urls = sorted(s["url"] for s in servers)
    return urls if len(urls) == expect_servers else None


def raft_status(nodes):
    for n in nodes:
        st = n.get_json("/v1/raft")
        if st and st.get("leader"):
            return st
    return None


def leader_node(nodes):
    """The node that says it is the Raft leader."""
    for n in nodes:
        st = n.get_json("/v1/raft")
        if st and st.get("role") == "leader":
            return n
    return None


def acquire(node, name, holder, ttl_ms=3000):
    code, body = node.request("POST", f"/v1/leases/{name}/acquire", {"holder": holder, "ttl_ms": ttl_ms}, timeout=5)
    return code, (json.loads(body) if code == 200 else body.decode(errors="replace"))


def main():
    agent, workdir, subnet = sys.argv[1], sys.argv[2], sys.argv[3]
    namespaces = sys.argv[4:]
    nodes = [Node(i + 1, ns, subnet, agent, workdir) for i, ns in enumerate(namespaces)]
    result = {}
    try:
        t0 = time.monotonic()
        for n in nodes:
            n.start()
        # (a) convergence to the same bytes everywhere.
        try:
            urls = wait_until("identical Traefik configs with 5 servers on every node",
                              lambda: converged(nodes, 5), timeout=60)
        except AssertionError:
            for n in nodes:
                log(n.name, "members:", n.request("GET", "/v1/members"))
                log(n.name, "traefik:", n.request("GET", "/v1/traefik?format=json")[1][:300])
            raise
        result["converge_seconds"] = round(time.monotonic() - t0, 2)
        result["servers"] = urls
        log(f"(a) converged after {result['converge_seconds']} s: {urls}")
        # The two non-voters become Raft learners (the leader adds what gossip shows it).
        wait_until("two Raft learners", lambda: (lambda st: st and len(st.get("learners", [])) == 2)(
            (leader_node(nodes) or nodes[0]).get_json("/v1/raft")), timeout=30)
        members = nodes[0].get_json("/v1/members")
        assert members and len(members) == 5 and all(m["state"] == "alive" for m in members), members

        # (b) one service unhealthy → gone from every node's config.
        victim = nodes[4]
        victim_url = f"http://{victim.ip}:{PORT_WEB}"
        os.unlink(os.path.join(victim.www, "health"))
        t_local = wait_until("the victim's own config to drop its instance",
                             lambda: (lambda c: c and victim_url.encode() not in c)(traefik_bytes([victim])[victim.name]) and time.monotonic(),
                             timeout=30, interval=0.01)
        t_all = wait_until("every node's config to drop the victim's instance",
                           lambda: all(c is not None and victim_url.encode() not in c for c in traefik_bytes(nodes).values()) and time.monotonic(),
                           timeout=30, interval=0.01)
        result["unhealthy_propagation_ms"] = round((t_all - t_local) * 1000, 1)
        log(f"(b) unhealthy instance dropped everywhere {result['unhealthy_propagation_ms']} ms after its own node dropped it")
        wait_until("identical configs with 4 servers", lambda: converged(nodes, 4), timeout=30)
        with open(os.path.join(victim.www, "health"), "w") as f:
            f.write("ok\n")
        wait_until("the victim's instance back everywhere", lambda: converged(nodes, 5), timeout=30)

        # (c) kill -9 of the Raft leader.
        wait_until("a Raft leader", lambda: leader_node(nodes), timeout=30)
        old = leader_node(nodes)
        holder_side = next(n for n in nodes if n is not old)
        code, grant = acquire(holder_side, "job", "holder-a", ttl_ms=2000)
        assert code == 200, grant
        token_a = grant["token"]
        t_kill = time.monotonic()
        old.kill9()
        others = [n for n in nodes if n is not old]
        new = wait_until("a new Raft leader", lambda: (lambda l: l if l and l is not old else None)(leader_node(others)),
                         timeout=30, interval=0.05)
        result["leader_failover_ms"] = round((time.monotonic() - t_kill) * 1000, 1)
        result["old_leader"], result["new_leader"] = old.name, new.name
        log(f"(c) leader {old.name} killed; {new.name} leads after {result['leader_failover_ms']} ms")
        # Single holder: while holder-a's lease is live nobody else gets it; afterwards holder-b
        # does, with a larger fencing token.
        contender = next(n for n in others if n is not holder_side)
        code, body = acquire(contender, "job", "holder-b", ttl_ms=2000)
        granted_b = None
        if code == 200:
            # Only possible once holder-a's lease expired (2 s TTL; the election may have taken that long).
            assert time.monotonic() - t_kill > 1.5, f"holder-b got the lease while holder-a held it: {body}"
            granted_b = body
        else:
            assert code == 409, (code, body)
            granted_b = wait_until("holder-b to get the lease after holder-a's expiry",
                                   lambda: (lambda r: r[1] if r[0] == 200 else None)(acquire(contender, "job", "holder-b", 2000)),
                                   timeout=20, interval=0.2)
        assert granted_b["token"] > token_a, (granted_b, token_a)
        code, body = acquire(holder_side, "job", "holder-a", ttl_ms=2000)
        assert code == 409, f"two holders: holder-a re-acquired while holder-b holds it ({code} {body})"
        result["fencing_tokens"] = [token_a, granted_b["token"]]
        old.start()
        wait_until("the killed node back as a Raft member with everyone's config",
                   lambda: (lambda st: st and st.get("role") in ("follower", "leader"))(old.get_json("/v1/raft"))
                   and converged(nodes, 5), timeout=60)
        log(f"(c) {old.name} rejoined")

        # (d) partition {voter n3, learner n4} from the rest.
        minority = [nodes[2], nodes[3]]
        majority = [n for n in nodes if n not in minority]
        rules = "; ".join(f"ip saddr {n.ip} drop" for n in majority)
        for m in minority:
            other = ", ".join(n.ip for n in majority)
            nft = (f"table inet cstpart {{\n"
                   f"  chain in {{ type filter hook input priority 0; ip saddr {{ {other} }} drop; }}\n"
                   f"  chain out {{ type filter hook output priority 0; ip daddr {{ {other} }} drop; }}\n"
                   f"}}\n")
            subprocess.run(["ip", "netns", "exec", m.ns, "nft", "-f", "-"], input=nft, text=True, check=True)
        t_cut = time.monotonic()
        log(f"(d) partitioned {[m.name for m in minority]} ({rules})")
        # The majority keeps serving: a leader among n1/n2 and leases granted there.
        wait_until("a leader on the majority side",
                   lambda: (lambda l: l if l in majority else None)(leader_node(majority)), timeout=30)
        code, body = acquire(majority[0], "partition-job", "majority", ttl_ms=60000)
        assert code == 200, (code, body)
        # The minority grants no lease: its requests fail, and the majority holds no such grant.
        # (A request that timed out may still apply once the partition heals, as any write whose
        # outcome the client never learned; the lease names below are not reused.)
        for m in minority:
            code, body = acquire(m, f"minority-job-{m.name}", f"minority-{m.name}", ttl_ms=60000)
            assert code != 200, f"{m.name} granted a lease on the minority side: {body}"
        for m in minority:
            code, body = majority[0].request("GET", f"/v1/leases/minority-job-{m.name}")
            assert code == 404 or not json.loads(body).get("held"), f"minority grant visible: {code} {body}"
        # Majority side drops the minority's instances once gossip declares them dead.
        wait_until("the majority's configs to drop the minority's instances",
                   lambda: converged(majority, 3), timeout=60)
        result["partition_detect_seconds"] = round(time.monotonic() - t_cut, 2)
        for m in minority:
            subprocess.run(["ip", "netns", "exec", m.ns, "nft", "delete", "table", "inet", "cstpart"], check=True)
        t_heal = time.monotonic()
        wait_until("all five nodes converged after healing", lambda: converged(nodes, 5), timeout=90)
        members = wait_until("five alive members everywhere",
                             lambda: all((lambda ms: ms and len(ms) == 5 and all(x["state"] == "alive" for x in ms))(n.get_json("/v1/members")) for n in nodes),
                             timeout=60)
        result["heal_converge_seconds"] = round(time.monotonic() - t_heal, 2)
        code, body = acquire(nodes[2], "after-heal-job", "after-heal", ttl_ms=5000)
        assert code == 200, (code, body)
        log(f"(d) healed; converged after {result['heal_converge_seconds']} s")
        result["ok"] = True
    finally:
        for n in nodes:
            try:
                n.stop()
            except Exception as e:  # keep stopping the others
                log(f"stopping {n.name}: {e}")
        for n in nodes:
            subprocess.run(["ip", "netns", "exec", n.ns, "nft", "delete", "table", "inet", "cstpart"],
                           capture_output=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
