// SPDX-License-Identifier: Apache-2.0
// ADR 0065: a small write while nothing else is in flight is written on the control loop, a
// burst goes to the storage thread, and either way every write is durable and in order.
#include "cst_test/files.hpp"
#include "cst_test/raft.hpp"
#include "raftnode/runtime.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <vector>

using namespace constellation;
using namespace std::chrono_literals;

namespace {

using cst_test::TempDir;

std::unique_ptr<raftnode::Runtime> single_voter(const TempDir& dir) {
  RaftOptions o = cst_test::single_voter_options(dir.path);
  auto rt = raftnode::Runtime::open(o);
  REQUIRE(rt.has_value());
  REQUIRE((*rt)->wait_for_leader(raftnode::Clock::now() + 5s).has_value());
  return std::move(*rt);
}

std::optional<lease::KeyValue> get(raftnode::Runtime& rt, const std::string& key) {
  std::optional<lease::KeyValue> out;
  auto r = rt.read([&](const lease::Machine& m) { out = m.get(key); }, raftnode::Clock::now() + 5s);
  REQUIRE(r.has_value());
  return out;
}

}  // namespace

TEST_CASE("one write at a time is written on the loop; a burst on the storage thread; all survive a restart") {
  TempDir dir;
  constexpr int kOneByOne = 40;
  constexpr int kBurst = 400;
  std::uint64_t last_revision = 0;
  {
    auto rt = single_voter(dir);
    const auto before = rt->write_counts();
    for (int i = 0; i < kOneByOne; ++i) {
      auto r = rt->execute(cst_test::put_command("one/" + std::to_string(i), "v" + std::to_string(i)),
                           raftnode::Clock::now() + 5s);
      REQUIRE(r.has_value());
      REQUIRE(r->ok());
      CHECK(r->revision > last_revision);
      last_revision = r->revision;
    }
    const auto sequential = rt->write_counts();
    last_revision += 1;  // the "start" write below
    // Each write found the disk idle: the loop wrote it (plus the occasional Ready the storage
    // thread takes, e.g. a compaction record, which this short run does not reach).
    CHECK(sequential.on_loop - before.on_loop >= kOneByOne);
    CHECK(sequential.on_storage_thread == before.on_storage_thread);

    // A burst of asynchronous writes to the same keys and new ones, submitted from a callback
    // (on the loop), so all of them reach the core in one batch: too big to write on the loop,
    // it goes to the storage thread.
    std::mutex mu;
    std::vector<std::uint64_t> revisions;
    std::atomic<int> failed{0};
    std::promise<void> all;
    auto on_answer = [&](Result<lease::Response> r) {
      std::lock_guard<std::mutex> g(mu);
      if (!r || !r->ok()) failed++;
      revisions.push_back(r && r->ok() ? r->revision : 0);
      if (static_cast<int>(revisions.size()) == kBurst) all.set_value();
    };
    raftnode::Runtime* node = rt.get();
    node->submit(
        cst_test::put_command("start", "x"), raftnode::Clock::now() + 10s, [&, node](Result<lease::Response> r) {
          if (!r || !r->ok()) failed++;
          for (int i = 0; i < kBurst; ++i) {
            const std::string key = (i % 2 ? "one/" : "burst/") + std::to_string(i % kOneByOne);
            node->submit(cst_test::put_command(key, "b" + std::to_string(i)), raftnode::Clock::now() + 10s, on_answer);
          }
        });
    REQUIRE(all.get_future().wait_for(20s) == std::future_status::ready);
    CHECK(failed == 0);
    {
      std::lock_guard<std::mutex> g(mu);
      // Answers come in apply order, which is submission order: revisions strictly increase.
      for (std::size_t i = 0; i < revisions.size(); ++i) {
        CHECK(revisions[i] > last_revision);
        last_revision = revisions[i];
      }
    }
    CHECK(rt->write_counts().on_storage_thread > sequential.on_storage_thread);
    rt->stop();
  }
  // Reopened from disk: the last value of every key, whichever thread wrote it.
  auto rt = single_voter(dir);
  for (int k = 0; k < kOneByOne; ++k) {
    int last_one = -1, last_burst = -1;
    for (int i = 0; i < kBurst; ++i) {
      if (i % kOneByOne != k) continue;
      (i % 2 ? last_one : last_burst) = i;
    }
    auto one = get(*rt, "one/" + std::to_string(k));
    REQUIRE(one.has_value());
    CHECK(one->value == (last_one >= 0 ? "b" + std::to_string(last_one) : "v" + std::to_string(k)));
    auto burst = get(*rt, "burst/" + std::to_string(k));
    if (last_burst >= 0) {
      REQUIRE(burst.has_value());
      CHECK(burst->value == "b" + std::to_string(last_burst));
    }
  }
  CHECK(rt->status().applied_index >= last_revision);
}
