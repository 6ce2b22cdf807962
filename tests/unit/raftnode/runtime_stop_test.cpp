// SPDX-License-Identifier: Apache-2.0
// Stopping a node while other threads keep calling it: every asynchronous request is answered
// exactly once and every blocking one returns — none is dropped with the loop's queue.
#include "cst_test/files.hpp"
#include "cst_test/raft.hpp"
#include "raftnode/runtime.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace constellation;
using namespace std::chrono_literals;

namespace {

using cst_test::TempDir;

}  // namespace

TEST_CASE("stop while other threads submit: each callback runs once, each blocking call returns") {
  TempDir dir;
  RaftOptions o = cst_test::single_voter_options(dir.path);
  auto opened = raftnode::Runtime::open(o);
  REQUIRE(opened.has_value());
  std::shared_ptr<raftnode::Runtime> rt = std::move(*opened);
  REQUIRE(rt->wait_for_leader(raftnode::Clock::now() + 5s).has_value());

  constexpr int kSubmitters = 3;
  std::atomic<bool> go{false}, stopped{false};
  // answers[t][i]: how many times request i of thread t was answered (a deque keeps the
  // counters in place as it grows).
  std::vector<std::deque<std::atomic<int>>> answers(kSubmitters);
  std::atomic<int> blocking_returned{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kSubmitters; ++t) {
    threads.emplace_back([&, t] {
      while (!go) std::this_thread::yield();
      // Until a little after stop() returned: requests race every step of the shutdown.
      for (int i = 0, after = 0; after < 100; ++i) {
        if (stopped) ++after;
        std::atomic<int>& counter = answers[t].emplace_back(0);
        rt->submit(cst_test::put_command("k" + std::to_string(t) + "/" + std::to_string(i % 50), "v"),
                   raftnode::Clock::now() + 10s, [&counter](Result<lease::Response>) { counter.fetch_add(1); });
        if (i % 64 == 0) std::this_thread::yield();
      }
    });
  }
  // A blocking writer and a blocking reader as well: both must return once the node stops.
  threads.emplace_back([&] {
    while (!go) std::this_thread::yield();
    while (!stopped) (void)rt->execute(cst_test::put_command("blocking", "v"), raftnode::Clock::now() + 10s);
    blocking_returned++;
  });
  threads.emplace_back([&] {
    while (!go) std::this_thread::yield();
    while (!stopped) (void)rt->read([](const lease::Machine&) {}, raftnode::Clock::now() + 10s);
    blocking_returned++;
  });
  go = true;
  std::this_thread::sleep_for(50ms);
  rt->stop();
  stopped = true;
  for (auto& th : threads) th.join();

  // Every answer has arrived by the time the submitters return and stop() has: a callback may
  // run on the loop, on the stopping thread (drained), or on the submitter (after the stop).
  int missing = 0, doubled = 0, total = 0;
  for (auto& per_thread : answers) {
    for (auto& counter : per_thread) {
      const int n = counter.load();
      missing += n == 0;
      doubled += n > 1;
      ++total;
    }
  }
  MESSAGE(total << " requests");
  CHECK(missing == 0);
  CHECK(doubled == 0);
  CHECK(blocking_returned == 2);
}
