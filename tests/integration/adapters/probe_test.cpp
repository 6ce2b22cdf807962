// SPDX-License-Identifier: Apache-2.0
// Real probes: HTTP status and body matching against a local server, TCP connects, commands
// with exit codes and timeouts, and the parallel runner.
#include "io/http/server.hpp"
#include "io/probe/host.hpp"
#include "io/probe/probe.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace constellation;
using namespace constellation::io;
using namespace std::chrono_literals;
using health::Outcome;

namespace {

struct TestServer {
  http::Server server{http::ServerOptions{}};
  int port = 0;
  TestServer() {
    server.route("GET", "/health", [](const http::Request&) {
      http::Response r;
      r.content_type = "text/plain";
      r.body = "ok\n";
      return r;
    });
    server.route("GET", "/fail", [](const http::Request&) { return http::Response::error(500, "internal", "broken"); });
    server.route("GET", "/busy", [](const http::Request&) { return http::Response::error(429, "busy", "slow down"); });
    server.route("GET", "/slow", [](const http::Request&) {
      std::this_thread::sleep_for(1500ms);
      return http::Response{};
    });
    port = *server.start();
  }
  ~TestServer() { server.stop(); }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
};

probe::Probe http_probe(std::string url) {
  probe::Probe p;
  p.kind = probe::Kind::Http;
  p.target = std::move(url);
  p.timeout = 1s;
  return p;
}

}  // namespace

TEST_CASE("HTTP: 2xx passes, 429 warns, 5xx fails, bodies and exact statuses are matched") {
  TestServer s;
  auto r = probe::run(http_probe(s.url("/health")));
  CHECK(r.outcome == Outcome::Pass);
  CHECK(r.output == "HTTP 200");
  CHECK(probe::run(http_probe(s.url("/busy"))).outcome == Outcome::Warn);
  r = probe::run(http_probe(s.url("/fail")));
  CHECK(r.outcome == Outcome::Fail);
  CHECK(r.output.find("HTTP 500") == 0);
  auto p = http_probe(s.url("/health"));
  p.expect_body = "ok";
  CHECK(probe::run(p).outcome == Outcome::Pass);
  p.expect_body = "ready";
  r = probe::run(p);
  CHECK(r.outcome == Outcome::Fail);
  CHECK(r.output.find("body lacks 'ready'") != std::string::npos);
  p = http_probe(s.url("/fail"));
  p.expect_status = 500;
  CHECK(probe::run(p).outcome == Outcome::Pass);
  CHECK(probe::run(http_probe(s.url("/nope"))).outcome == Outcome::Fail);
}

TEST_CASE("HTTP: timeouts and refused connections fail") {
  TestServer s;
  auto p = http_probe(s.url("/slow"));
  p.timeout = 200ms;
  auto r = probe::run(p);
  CHECK(r.outcome == Outcome::Fail);
  CHECK(r.elapsed < 1400ms);
  r = probe::run(http_probe("http://127.0.0.1:1/health"));
  CHECK(r.outcome == Outcome::Fail);
  CHECK(probe::run(http_probe("not a url")).outcome == Outcome::Fail);
}

TEST_CASE("TCP: open port passes, closed port fails") {
  TestServer s;
  probe::Probe p;
  p.kind = probe::Kind::Tcp;
  p.target = "127.0.0.1:" + std::to_string(s.port);
  p.timeout = 1s;
  CHECK(probe::run(p).outcome == Outcome::Pass);
  p.target = "127.0.0.1:1";
  auto r = probe::run(p);
  CHECK(r.outcome == Outcome::Fail);
  CHECK(r.output.find("refused") != std::string::npos);
  p.target = "[::1]:1";
  CHECK(probe::run(p).outcome == Outcome::Fail);
  p.target = "nonsense";
  CHECK(probe::run(p).outcome == Outcome::Fail);
}

TEST_CASE("exec: exit 0 passes, 1 warns, others fail; timeouts kill the process group") {
  probe::Probe p;
  p.kind = probe::Kind::Exec;
  p.timeout = 2s;
  p.command = {"sh", "-c", "echo fine"};
  auto r = probe::run(p);
  CHECK(r.outcome == Outcome::Pass);
  CHECK(r.output == "exit 0: fine");
  p.command = {"sh", "-c", "echo degraded >&2; exit 1"};
  r = probe::run(p);
  CHECK(r.outcome == Outcome::Warn);
  CHECK(r.output == "exit 1: degraded");
  p.command = {"sh", "-c", "exit 2"};
  CHECK(probe::run(p).outcome == Outcome::Fail);
  p.command = {"definitely-not-a-command-here"};
  r = probe::run(p);
  CHECK(r.outcome == Outcome::Fail);
  p.command = {"sh", "-c", "echo $PROBE_VAR; pwd"};
  p.env["PROBE_VAR"] = "set";
  p.working_dir = "/tmp";
  CHECK(probe::run(p).output == "exit 0: set\n/tmp");
  p.env.clear();
  p.working_dir.clear();
  p.command = {"sh", "-c", "sleep 30 & sleep 30"};
  p.timeout = 200ms;
  auto t0 = std::chrono::steady_clock::now();
  r = probe::run(p);
  CHECK(r.outcome == Outcome::Fail);
  CHECK(r.output.find("timed out") == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}

TEST_CASE("the runner runs probes in parallel") {
  probe::Runner runner(8);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  int passed = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 16; ++i) {
    probe::Probe p;
    p.kind = probe::Kind::Exec;
    p.command = {"sleep", "0.3"};
    p.timeout = 5s;
    runner.submit(p, [&](probe::ProbeResult r) {
      std::lock_guard lock(mu);
      ++done;
      passed += r.outcome == Outcome::Pass;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  REQUIRE(cv.wait_for(lock, 20s, [&] { return done == 16; }));
  CHECK(passed == 16);
  // 16 × 0.3 s sequentially would be 4.8 s; 8 threads need two rounds.
  CHECK(std::chrono::steady_clock::now() - t0 < 4s);
  lock.unlock();
  runner.stop();
  runner.submit(probe::Probe{}, [](probe::ProbeResult) { FAIL("ran after stop"); });
}

TEST_CASE("container probes go through the hook") {
  probe::Probe p;
  p.kind = probe::Kind::Container;
  p.target = "abc";
  CHECK(probe::run(p).outcome == Outcome::Fail);
  auto r = probe::run(p, [](const std::string& id, core::Duration) {
    return probe::ProbeResult{Outcome::Pass, "container " + id + " healthy", {}};
  });
  CHECK(r.outcome == Outcome::Pass);
  CHECK(r.output == "container abc healthy");
}

TEST_CASE("host facts: interfaces include loopback, and addresses resolve for every node") {
  auto ifs = probe::interface_addresses();
  bool loopback = false;
  for (const auto& a : ifs) loopback |= a.loopback && a.address == "127.0.0.1";
  CHECK(loopback);
  auto addrs = probe::node_addresses({{"storage", "192.0.2.7"}});
  REQUIRE(addrs);
  CHECK(addrs->at("storage") == "192.0.2.7");
  CHECK(addrs->count("backend") == 1);
  CHECK_FALSE(probe::node_addresses({{"backend", "iface:no-such-interface0"}}));
}
