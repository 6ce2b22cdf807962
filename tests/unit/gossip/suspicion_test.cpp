// SPDX-License-Identifier: Apache-2.0
#include "gossip/broadcast_queue.hpp"
#include "gossip/suspicion.hpp"

#include <doctest/doctest.h>

using namespace constellation;
using namespace constellation::gossip;
using namespace std::chrono_literals;

TEST_CASE("suspicion timeout shrinks from max to min with log(C+1)/log(K+1)") {
  const core::Duration min = 4s, max = 24s;
  CHECK(Suspicion::timeout(0, 2, min, max) == max);
  // C=1, K=2: 24 - 20 * log(2)/log(3) = 24 - 12.619 = 11.381 s
  const auto one = Suspicion::timeout(1, 2, min, max);
  CHECK(one > 11380ms);
  CHECK(one < 11382ms);
  CHECK(Suspicion::timeout(2, 2, min, max) == min);
  CHECK(Suspicion::timeout(5, 2, min, max) == min);
  // No confirmations expected (tiny cluster): straight to min.
  CHECK(Suspicion::timeout(0, 0, min, max) == min);
}

TEST_CASE("only new, independent accusers confirm a suspicion") {
  const core::Instant t0 = core::Instant::from_nanos(1'000'000'000);
  Suspicion s("a", 2, 4s, 24s, t0);
  CHECK(s.deadline() == t0 + 24s);
  CHECK_FALSE(s.confirm("a"));  // the first accuser again
  CHECK(s.confirm("b"));
  CHECK_FALSE(s.confirm("b"));
  CHECK(s.deadline() < t0 + 12s);
  CHECK(s.confirm("c"));
  CHECK(s.deadline() == t0 + 4s);
  CHECK_FALSE(s.confirm("d"));  // K reached: nothing more to gain, nothing re-gossiped
  CHECK(s.confirmations() == 2);
}

TEST_CASE("awareness saturates between 0 and max - 1 and scales durations by score + 1") {
  Awareness a(8);
  CHECK(a.scale(100ms) == 100ms);
  a.apply(-1);
  CHECK(a.score() == 0);
  a.apply(3);
  CHECK(a.score() == 3);
  CHECK(a.scale(100ms) == 400ms);
  a.apply(100);
  CHECK(a.score() == 7);
  a.apply(-2);
  CHECK(a.score() == 5);
}

namespace {
core::Bytes part(std::size_t n, std::uint8_t fill) { return core::Bytes(n, fill); }
}  // namespace

TEST_CASE("broadcast queue: transmit limit, replacement by key, fewest-sent and newest first") {
  BroadcastQueue q;
  q.push(BroadcastQueue::Lane::Membership, "m:a", part(10, 1));
  q.push(BroadcastQueue::Lane::Membership, "m:b", part(10, 2));
  q.push(BroadcastQueue::Lane::Membership, "m:a", part(10, 3));  // replaces the first
  CHECK(q.size() == 2);
  std::vector<core::Bytes> out;
  CHECK(q.fill(15, 3, out) == 10);
  REQUIRE(out.size() == 1);
  CHECK(out[0][0] == 3);  // newest first
  out.clear();
  q.fill(15, 3, out);
  CHECK(out[0][0] == 2);  // then the one never sent
  for (int i = 0; i < 10; ++i) q.fill(100, 3, out);
  CHECK(q.size() == 0);  // both reached the limit
  CHECK_FALSE(q.transmits("m:a").has_value());
}

TEST_CASE("broadcast queue: an item never goes twice into one packet, and the budget holds") {
  BroadcastQueue q;
  for (int i = 0; i < 100; ++i) q.push(BroadcastQueue::Lane::Membership, "m:" + std::to_string(i), part(30, 1));
  q.push(BroadcastQueue::Lane::User, "", part(30, 9));
  std::vector<core::Bytes> out;
  const auto used = q.fill(1349, 10, out);
  CHECK(used <= 1349);
  std::size_t total = 0;
  for (const auto& p : out) total += p.size();
  CHECK(total == used);
  std::size_t users = 0;
  for (const auto& p : out) users += p[0] == 9;
  CHECK(users == 1);
}

TEST_CASE("broadcast queue: user broadcasts cannot starve membership messages and are bounded") {
  BroadcastQueue q(1000, 8);
  for (int i = 0; i < 20; ++i) q.push(BroadcastQueue::Lane::User, "", part(100, 9));
  CHECK(q.size(BroadcastQueue::Lane::User) == 8);
  CHECK(q.dropped() == 12);
  for (int i = 0; i < 10; ++i) q.push(BroadcastQueue::Lane::Membership, "m:" + std::to_string(i), part(100, 1));
  std::vector<core::Bytes> out;
  q.fill(1000, 100, out);
  std::size_t members = 0, users = 0;
  for (const auto& p : out) (p[0] == 1 ? members : users) += 1;
  CHECK(users <= 2);  // at most a quarter of the packet before membership messages
  CHECK(members >= 7);
}
