// SPDX-License-Identifier: Apache-2.0
#include "agent/control_loop.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace constellation;
using namespace constellation::agent;
using namespace std::chrono_literals;

TEST_CASE("posted tasks run on the loop thread, in order") {
  ControlLoop loop;
  loop.start();
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) loop.post([&order, i] { order.push_back(i); });
  auto r = loop.call([&] { return order.size(); }, 10s);
  REQUIRE(r);
  CHECK(*r == 100);
  for (int i = 0; i < 100; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
  auto in_loop = loop.call([&] { return loop.running_in_loop(); }, 10s);
  CHECK(*in_loop);
  CHECK_FALSE(loop.running_in_loop());
}

TEST_CASE("timers fire, repeat and cancel") {
  ControlLoop loop;
  loop.start();
  std::atomic<int> once{0}, repeated{0}, cancelled{0};
  loop.after(1ms, [&] { once++; });
  auto id = loop.every(1ms, [&] { repeated++; });
  auto never = loop.after(1h, [&] { cancelled++; });
  loop.cancel(never);
  for (int i = 0; i < 5000 && (once.load() == 0 || repeated.load() < 3); ++i) std::this_thread::sleep_for(1ms);
  CHECK(once.load() == 1);
  CHECK(repeated.load() >= 3);
  loop.cancel(id);
  auto settle = loop.call([] {}, 10s);  // let an in-flight tick finish
  CHECK(settle.has_value());
  int after_cancel = repeated.load();
  std::this_thread::sleep_for(20ms);
  CHECK(repeated.load() == after_cancel);
  CHECK(cancelled.load() == 0);
}

TEST_CASE("stop drains what was posted and refuses new work") {
  ControlLoop loop;
  loop.start();
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i) loop.post([&] { ran++; });
  loop.stop();
  CHECK(ran.load() == 10);
  loop.post([&] { ran++; });
  CHECK(ran.load() == 10);
  auto r = loop.call([] { return 1; }, 50ms);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Code::Timeout);
  loop.stop();  // idempotent
}
