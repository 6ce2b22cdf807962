// SPDX-License-Identifier: Apache-2.0
#include "sim/disk.hpp"
#include "sim/faults.hpp"
#include "sim/network.hpp"
#include "sim/scheduler.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace constellation;
using namespace constellation::sim;
using namespace std::chrono_literals;

namespace {
core::Bytes bytes_of(const std::string& s) { return core::Bytes(s.begin(), s.end()); }
std::string str_of(const core::Bytes& b) { return std::string(b.begin(), b.end()); }
}  // namespace

TEST_CASE("scheduler runs events in time order, ties in scheduling order") {
  Scheduler s;
  std::vector<int> order;
  Instant t0 = s.now();
  s.after(2ms, [&] { order.push_back(3); });
  s.after(1ms, [&] { order.push_back(1); });
  s.after(1ms, [&] { order.push_back(2); });
  auto id = s.after(1500us, [&] { order.push_back(99); });
  CHECK(s.cancel(id));
  CHECK_FALSE(s.cancel(id));
  s.run_for(10ms);
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(s.now() == t0 + 10ms);
  CHECK(s.pending() == 0);
  CHECK(s.events_run() == 3);
}

TEST_CASE("scheduler run_until with a predicate stops early or at the deadline") {
  Scheduler s;
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    s.after(1ms, tick);
  };
  s.after(1ms, tick);
  CHECK(s.run_until([&] { return ticks == 5; }, s.now() + 1s));
  CHECK(ticks == 5);
  Instant deadline = s.now() + 3500us;
  CHECK_FALSE(s.run_until([&] { return ticks == 100; }, deadline));
  CHECK(s.now() == deadline);
  CHECK(ticks == 8);
}

TEST_CASE("node clocks drift and map local deadlines back to global time") {
  Scheduler s;
  NodeClock fast(s, 1.001);
  NodeClock exact(s);
  Instant f0 = fast.now(), e0 = exact.now();
  s.run_for(1s);
  CHECK(fast.now() - f0 == 1001ms);
  CHECK(exact.now() - e0 == 1s);
  Instant local_deadline = fast.now() + 1001ms;
  CHECK(fast.to_global(local_deadline) == s.now() + 1s);
  fast.set_rate(1.0);
  Instant before = fast.now();
  s.run_for(1s);
  CHECK(fast.now() - before == 1s);
}

TEST_CASE("network delivers with latency and counts traffic") {
  Scheduler s;
  core::Rng rng(1);
  LinkModel m;
  m.latency = 1ms;
  m.jitter = Duration(0);
  Network net(s, rng, m);
  std::vector<std::string> got;
  net.attach(1, [](NodeIndex, Channel, core::Bytes) {});
  net.attach(2, [&](NodeIndex from, Channel, core::Bytes b) { got.push_back(std::to_string(from) + ":" + str_of(b)); });
  net.send(1, 2, bytes_of("hi"));
  s.run_for(999us);
  CHECK(got.empty());
  s.run_for(1us);
  CHECK(got == std::vector<std::string>{"1:hi"});
  CHECK(net.stats().delivered == 1);
  CHECK(net.node_stats(1).bytes_out == 2);
  CHECK(net.node_stats(2).packets_in == 1);
}

TEST_CASE("loss and duplication follow their probabilities") {
  Scheduler s;
  core::Rng rng(2);
  LinkModel m;
  m.loss = 0.1;
  m.duplicate = 0.05;
  Network net(s, rng, m);
  int received = 0;
  net.attach(1, [](NodeIndex, Channel, core::Bytes) {});
  net.attach(2, [&](NodeIndex, Channel, core::Bytes) { ++received; });
  const int n = 20000;
  for (int i = 0; i < n; ++i) net.send(1, 2, bytes_of("x"));
  s.run_for(1s);
  CHECK(net.stats().lost > n * 8 / 100);
  CHECK(net.stats().lost < n * 12 / 100);
  CHECK(received == static_cast<int>(n - net.stats().lost + net.stats().duplicated));
}

TEST_CASE("partitions: symmetric, asymmetric, in-flight drops, heal") {
  Scheduler s;
  core::Rng rng(3);
  Network net(s, rng);
  std::vector<int> got(4, 0);
  for (NodeIndex i = 1; i <= 3; ++i) net.attach(i, [&, i](NodeIndex, Channel, core::Bytes) { got[i]++; });
  net.partition({{1}, {2, 3}});
  net.send(1, 2, bytes_of("a"));
  net.send(2, 1, bytes_of("b"));
  net.send(2, 3, bytes_of("c"));
  CHECK_FALSE(net.send(1, 3, bytes_of("s"), Channel::Stream));  // a connection cannot be made
  s.run_for(1s);
  CHECK(got == std::vector<int>{0, 0, 0, 1});
  net.heal();
  net.block(3, 1);  // 1 hears nothing from 3, 3 still hears 1
  net.send(3, 1, bytes_of("d"));
  net.send(1, 3, bytes_of("e"));
  s.run_for(1s);
  CHECK(got == std::vector<int>{0, 0, 0, 2});
  // A partition raised while a message is in flight drops it.
  net.heal();
  net.send(1, 2, bytes_of("f"));
  net.partition({{1}, {2}});
  s.run_for(1s);
  CHECK(got[2] == 0);
}

TEST_CASE("streams are FIFO and die with a crashed peer") {
  Scheduler s;
  core::Rng rng(4);
  LinkModel m;
  m.jitter = 5ms;
  m.reorder = 1.0;  // datagrams would be scrambled; streams must not be
  Network net(s, rng, m);
  std::string got;
  net.attach(1, [](NodeIndex, Channel, core::Bytes) {});
  net.attach(2, [&](NodeIndex, Channel c, core::Bytes b) {
    if (c == Channel::Stream) got += str_of(b);
  });
  for (char c = 'a'; c <= 'j'; ++c) CHECK(net.send(1, 2, bytes_of(std::string(1, c)), Channel::Stream));
  s.run_for(1s);
  CHECK(got == "abcdefghij");
  net.send(1, 2, bytes_of("k"), Channel::Stream);
  net.detach(1);  // sender crashed: its connection's bytes in flight are gone
  s.run_for(1s);
  CHECK(got == "abcdefghij");
}

TEST_CASE("a stalled receiver gets its messages, in order, when it resumes") {
  Scheduler s;
  core::Rng rng(5);
  LinkModel m;
  m.jitter = Duration(0);
  Network net(s, rng, m);
  std::vector<std::pair<Instant, std::string>> got;
  net.attach(1, [](NodeIndex, Channel, core::Bytes) {});
  net.attach(2, [&](NodeIndex, Channel, core::Bytes b) { got.emplace_back(s.now(), str_of(b)); });
  Instant resume = s.now() + 2s;
  net.stall(2, resume);
  CHECK(net.stalled(2));
  net.send(1, 2, bytes_of("1"));
  net.send(1, 2, bytes_of("2"));
  s.run_for(3s);
  REQUIRE(got.size() == 2);
  CHECK(got[0].first == resume);
  CHECK(got[0].second == "1");
  CHECK(got[1].second == "2");
  CHECK_FALSE(net.stalled(2));
}

TEST_CASE("a detached node loses messages in flight to it, even after it comes back") {
  Scheduler s;
  core::Rng rng(6);
  Network net(s, rng);
  int got = 0;
  net.attach(1, [](NodeIndex, Channel, core::Bytes) {});
  net.attach(2, [&](NodeIndex, Channel, core::Bytes) { ++got; });
  net.send(1, 2, bytes_of("x"));
  net.detach(2);
  net.attach(2, [&](NodeIndex, Channel, core::Bytes) { ++got; });
  s.run_for(1s);
  CHECK(got == 0);
  net.send(1, 2, bytes_of("y"));
  s.run_for(1s);
  CHECK(got == 1);
}

TEST_CASE("disk: unsynced writes are lost on crash, synced ones survive") {
  core::Rng rng(7);
  Disk d(rng);
  d.put("a", bytes_of("1"));
  d.sync();
  d.put("b", bytes_of("2"));
  d.erase("a");
  CHECK(d.get("a").error().code() == Code::NotFound);
  CHECK(str_of(*d.get("b")) == "2");
  d.crash();
  CHECK(str_of(*d.get("a")) == "1");
  CHECK(d.get("b").error().code() == Code::NotFound);
  d.put("log/1", bytes_of("x"));
  d.put("log/2", bytes_of("y"));
  d.put("log/3", bytes_of("z"));
  d.erase_range("log/2", "log/9");
  CHECK(d.keys("log/", "log0") == std::vector<std::string>{"log/1"});
}

TEST_CASE("disk: torn batches keep a strict prefix; read errors are injected") {
  core::Rng rng(8);
  DiskFaults f;
  f.torn_on_crash = 1.0;
  Disk d(rng, f);
  bool saw_partial = false;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 5; ++i) d.put("k" + std::to_string(round) + "-" + std::to_string(i), bytes_of("v"));
    d.crash();
    auto kept = d.keys("k" + std::to_string(round) + "-", "k" + std::to_string(round) + "-~");
    CHECK(kept.size() < 5);
    for (std::size_t i = 0; i < kept.size(); ++i)
      CHECK(kept[i] == "k" + std::to_string(round) + "-" + std::to_string(i));
    saw_partial = saw_partial || !kept.empty();
  }
  CHECK(saw_partial);
  d.set_faults(DiskFaults{0, 1.0, 0});
  d.put("x", bytes_of("1"));
  CHECK(d.get("x").error().code() == Code::Io);
}

TEST_CASE("fault profiles are drawn deterministically from the seed") {
  core::Rng a(42), b(42), c(43);
  FaultProfile pa = FaultProfile::draw(a), pb = FaultProfile::draw(b);
  CHECK(pa.describe() == pb.describe());
  bool differs = false;
  for (int i = 0; i < 10 && !differs; ++i) differs = FaultProfile::draw(c).describe() != pa.describe();
  CHECK(differs);
  FaultBounds bounds;
  core::Rng r(1);
  for (int i = 0; i < 200; ++i) {
    FaultProfile p = FaultProfile::draw(r, bounds);
    CHECK(p.link.loss <= bounds.loss);
    CHECK(p.max_drift <= bounds.max_drift);
  }
}
