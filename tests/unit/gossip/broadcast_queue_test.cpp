// SPDX-License-Identifier: Apache-2.0
// The broadcast queue against a plain model of its contract (ordered sets, one allocation per
// item: the implementation before the queue was made compact), over long random sequences of
// pushes and fills: same parts in the same order, same sizes, transmissions and drops.
#include "gossip/broadcast_queue.hpp"
#include "core/rng.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <unordered_map>

using namespace constellation;
using namespace constellation::gossip;

namespace {

class ModelQueue {
 public:
  ModelQueue(std::size_t max_membership, std::size_t max_user) : max_{max_membership, max_user} {}

  void push(BroadcastQueue::Lane lane, const std::string& key, core::Bytes part) {
    auto& q = lanes_[static_cast<int>(lane)];
    if (!key.empty()) {
      if (auto k = q.by_key.find(key); k != q.by_key.end()) erase(q, k->second);
    }
    const std::uint64_t id = ++next_id_;
    auto [it, inserted] = q.items.emplace(id, Item{0, id, 0, key, std::move(part)});
    q.order.insert(&it->second);
    if (!key.empty()) q.by_key[key] = id;
    while (q.items.size() > max_[static_cast<int>(lane)]) {
      erase(q, q.items.begin()->first);
      ++dropped_;
    }
  }

  std::size_t fill(std::size_t budget, std::uint32_t limit, std::vector<core::Bytes>& out) {
    auto& members = lanes_[0];
    auto& users = lanes_[1];
    std::size_t used = 0;
    ++packet_;
    if (!users.items.empty()) used += fill_lane(users, budget / 4, limit, out);
    used += fill_lane(members, budget - used, limit, out);
    if (!users.items.empty() && budget > used) used += fill_lane(users, budget - used, limit, out);
    return used;
  }

  std::optional<std::uint32_t> transmits(const std::string& key) const {
    for (const auto& q : lanes_) {
      if (auto k = q.by_key.find(key); k != q.by_key.end()) return q.items.at(k->second).transmits;
    }
    return std::nullopt;
  }
  std::size_t size(BroadcastQueue::Lane lane) const { return lanes_[static_cast<int>(lane)].items.size(); }
  std::uint64_t dropped() const { return dropped_; }

 private:
  struct Item {
    std::uint32_t transmits = 0;
    std::uint64_t id = 0;
    std::uint64_t packet = 0;
    std::string key;
    core::Bytes part;
  };
  struct Order {
    bool operator()(const Item* a, const Item* b) const {
      return a->transmits != b->transmits ? a->transmits < b->transmits : a->id > b->id;
    }
  };
  struct Lane {
    std::map<std::uint64_t, Item> items;
    std::set<Item*, Order> order;
    std::unordered_map<std::string, std::uint64_t> by_key;
  };

  void erase(Lane& q, std::uint64_t id) {
    auto it = q.items.find(id);
    q.order.erase(&it->second);
    if (!it->second.key.empty()) q.by_key.erase(it->second.key);
    q.items.erase(it);
  }

  std::size_t fill_lane(Lane& q, std::size_t budget, std::uint32_t limit, std::vector<core::Bytes>& out) {
    std::size_t used = 0, skipped = 0;
    std::vector<Item*> sent;
    for (auto it = q.order.begin(); it != q.order.end() && budget - used > 2; ++it) {
      Item* item = *it;
      if (item->packet == packet_) continue;
      if (item->part.size() > budget - used) {
        if (++skipped > 32) break;
        continue;
      }
      used += item->part.size();
      item->packet = packet_;
      out.push_back(item->part);
      sent.push_back(item);
    }
    for (Item* item : sent) {
      q.order.erase(item);
      item->transmits += 1;
      if (item->transmits >= limit) {
        erase(q, item->id);
      } else {
        q.order.insert(item);
      }
    }
    return used;
  }

  std::size_t max_[2];
  Lane lanes_[2];
  std::uint64_t next_id_ = 0, packet_ = 0, dropped_ = 0;
};

// A part whose bytes tell which push made it, so equal outputs mean equal items.
core::Bytes make_part(std::uint64_t serial, std::size_t size) {
  core::Bytes b(std::max<std::size_t>(size, 8), 0);
  for (int i = 0; i < 8; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(serial >> (8 * i));
  return b;
}

void run_against_model(std::uint64_t seed, std::size_t max_membership, std::size_t max_user, std::size_t keys,
                       const std::shared_ptr<StringTables>& strings) {
  core::Rng rng(seed);
  BroadcastQueue q(max_membership, max_user, strings);
  ModelQueue m(max_membership, max_user);
  std::uint64_t serial = 0;
  for (int step = 0; step < 20000; ++step) {
    CAPTURE(step);
    if (rng.below(3) != 0) {
      const auto lane = rng.below(8) == 0 ? BroadcastQueue::Lane::User : BroadcastQueue::Lane::Membership;
      const std::string key = rng.below(10) == 0 ? "" : "k" + std::to_string(rng.below(keys));
      // Mostly small parts, some that fit no packet's remainder, a few larger than any budget.
      const std::size_t size = rng.below(20) == 0 ? 200 + rng.below(2000) : 8 + rng.below(120);
      const auto part = make_part(++serial, size);
      q.push(lane, key, part);
      m.push(lane, key, part);
    } else {
      const std::size_t budget = rng.below(1500);
      const auto limit = static_cast<std::uint32_t>(1 + rng.below(6));
      std::vector<core::Bytes> got, want;
      const auto used = q.fill(budget, limit, got);
      REQUIRE(used == m.fill(budget, limit, want));
      REQUIRE(got == want);
    }
    REQUIRE(q.size(BroadcastQueue::Lane::Membership) == m.size(BroadcastQueue::Lane::Membership));
    REQUIRE(q.size(BroadcastQueue::Lane::User) == m.size(BroadcastQueue::Lane::User));
    REQUIRE(q.dropped() == m.dropped());
    const std::string probe = "k" + std::to_string(rng.below(keys));
    REQUIRE(q.transmits(probe) == m.transmits(probe));
    REQUIRE(q.contains(probe) == m.transmits(probe).has_value());
  }
}

}  // namespace

TEST_CASE("broadcast queue: sends, replaces and drops exactly as the model, over random sequences") {
  SUBCASE("few keys: constant replacement") { run_against_model(1, 1u << 16, 1024, 20, nullptr); }
  SUBCASE("many keys: long queues, compaction") { run_against_model(2, 1u << 16, 1024, 5000, nullptr); }
  SUBCASE("tight bounds: the oldest are dropped") { run_against_model(3, 40, 4, 200, nullptr); }
  SUBCASE("shared tables") {
    auto strings = std::make_shared<StringTables>();
    run_against_model(4, 300, 16, 500, strings);
    run_against_model(5, 300, 16, 500, strings);
    // Each queue gave back every reference when it went away.
    CHECK(strings->keys.size() == 0);
    CHECK(strings->values.size() == 0);
  }
}

TEST_CASE("broadcast queues sharing tables hold one copy of equal keys and parts") {
  auto strings = std::make_shared<StringTables>();
  const core::Bytes part(40, 7);
  {
    BroadcastQueue a(100, 10, strings), b(100, 10, strings);
    a.push(BroadcastQueue::Lane::Membership, "m:x", part);
    b.push(BroadcastQueue::Lane::Membership, "m:x", part);
    b.push(BroadcastQueue::Lane::User, "u:x:1", part);
    CHECK(strings->keys.size() == 2);
    CHECK(strings->values.size() == 1);
    CHECK(strings->values.references(strings->values.find(core::as_chars(part))) == 3);
    std::vector<core::Bytes> out;
    a.fill(100, 1, out);  // a's item reaches its limit and leaves
    CHECK(out == std::vector<core::Bytes>{part});
    CHECK(strings->values.references(strings->values.find(core::as_chars(part))) == 2);
    CHECK(b.contains("m:x"));
    CHECK_FALSE(a.contains("m:x"));
  }
  CHECK(strings->keys.size() == 0);
  CHECK(strings->values.size() == 0);
}
