// SPDX-License-Identifier: Apache-2.0
#include "gossip/broadcast_queue.hpp"

#include "core/assert.hpp"

#include <algorithm>
#include <functional>

namespace constellation::gossip {

namespace {
constexpr std::uint32_t kNoIndex = StringTable::kNone;
// Holes tolerated below this many in a lane before it is compacted (small queues stay as they are).
constexpr std::size_t kMinHoles = 64;
}  // namespace

BroadcastQueue::BroadcastQueue(std::size_t max_membership, std::size_t max_user, std::shared_ptr<StringTables> strings)
    : strings_(strings ? std::move(strings) : std::make_shared<StringTables>()), max_{max_membership, max_user} {}

BroadcastQueue::~BroadcastQueue() { clear(); }

// Fewest transmissions first, then the newest (largest index) first: the smallest key is sent first.
std::uint64_t BroadcastQueue::order_key(std::uint32_t transmits, std::size_t index) {
  return (static_cast<std::uint64_t>(transmits) << 32) | (kNoIndex - 1 - static_cast<std::uint32_t>(index));
}

std::uint32_t BroadcastQueue::index_of(std::uint64_t order_key) {
  return kNoIndex - 1 - static_cast<std::uint32_t>(order_key & 0xffffffffu);
}

std::uint32_t BroadcastQueue::lookup(const LaneQueue& q, Id key) const {
  return key < q.by_key.size() ? q.by_key[key] : kNoIndex;
}

void BroadcastQueue::erase(LaneQueue& q, std::uint32_t index) {
  Item& item = q.items[index];
  CST_ASSERT(item.part != StringTable::kNone);
  if (item.key != StringTable::kNone) {
    q.by_key[item.key] = kNoIndex;
    strings_->keys.release(item.key);
  }
  strings_->values.release(item.part);
  item = Item{};
  q.live -= 1;
}

void BroadcastQueue::maybe_compact(LaneQueue& q) {
  const std::size_t holes = q.items.size() - q.live;
  if (holes < kMinHoles || holes <= q.live) return;
  std::deque<Item> items;
  std::vector<std::uint64_t> order;
  order.reserve(q.live);
  for (const Item& item : q.items) {
    if (item.part == StringTable::kNone) continue;
    const auto index = static_cast<std::uint32_t>(items.size());
    if (item.key != StringTable::kNone) q.by_key[item.key] = index;
    order.push_back(order_key(item.transmits, index));
    items.push_back(item);
  }
  std::make_heap(order.begin(), order.end(), std::greater<>{});
  q.items.swap(items);
  q.order.swap(order);
  q.oldest = 0;
}

void BroadcastQueue::push(Lane lane, std::string_view key, core::ByteView part) {
  auto& q = lanes_[static_cast<int>(lane)];
  Item item;
  if (!key.empty()) {
    item.key = strings_->keys.acquire(key);
    if (const auto old = lookup(q, item.key); old != kNoIndex) erase(q, old);
  }
  item.part = strings_->values.acquire(core::as_chars(part));
  CST_ASSERT(q.items.size() < kNoIndex - 1);
  const auto index = static_cast<std::uint32_t>(q.items.size());
  q.items.push_back(item);
  q.live += 1;
  if (item.key != StringTable::kNone) {
    if (item.key >= q.by_key.size()) q.by_key.resize(item.key + 1, kNoIndex);
    q.by_key[item.key] = index;
  }
  q.order.push_back(order_key(0, index));
  std::push_heap(q.order.begin(), q.order.end(), std::greater<>{});
  // Over the bound: drop the oldest — it has had the most time to spread.
  while (q.live > max_[static_cast<int>(lane)]) {
    while (q.items[q.oldest].part == StringTable::kNone) ++q.oldest;
    erase(q, static_cast<std::uint32_t>(q.oldest));
    ++dropped_;
  }
  maybe_compact(q);
}

// Takes items in send order while they fit, at most 32 skipped for not fitting. Taken items leave
// the send order until fill() counts their transmission, so none goes twice into one packet.
std::size_t BroadcastQueue::fill_lane(LaneQueue& q, std::size_t budget, std::vector<core::Bytes>& out,
                                      std::vector<Taken>& taken) {
  std::size_t used = 0;
  std::size_t skipped = 0;
  std::vector<std::uint64_t> passed;  // looked at, not taken: back into the order afterwards
  while (!q.order.empty() && budget - used > 2) {
    std::pop_heap(q.order.begin(), q.order.end(), std::greater<>{});
    const std::uint64_t entry = q.order.back();
    q.order.pop_back();
    const std::uint32_t index = index_of(entry);
    const Item& item = q.items[index];
    if (item.part == StringTable::kNone) continue;  // erased since it was ordered
    const auto part = core::as_bytes(strings_->values.view(item.part));
    if (part.size() > budget - used) {
      passed.push_back(entry);
      if (++skipped > 32) break;  // bounded scan: the rest waits for the next packet
      continue;
    }
    used += part.size();
    out.emplace_back(part.begin(), part.end());
    taken.push_back(Taken{&q, index});
  }
  for (std::uint64_t entry : passed) {
    q.order.push_back(entry);
    std::push_heap(q.order.begin(), q.order.end(), std::greater<>{});
  }
  return used;
}

std::size_t BroadcastQueue::fill(std::size_t budget, std::uint32_t limit, std::vector<core::Bytes>& out) {
  auto& members = lanes_[0];
  auto& users = lanes_[1];
  std::vector<Taken> taken;
  std::size_t used = 0;
  if (users.live > 0) used += fill_lane(users, budget / 4, out, taken);
  used += fill_lane(members, budget - used, out, taken);
  if (users.live > 0 && budget > used) used += fill_lane(users, budget - used, out, taken);
  for (const Taken& t : taken) {
    Item& item = t.lane->items[t.index];
    item.transmits += 1;
    if (item.transmits >= limit) {
      erase(*t.lane, t.index);
    } else {
      t.lane->order.push_back(order_key(item.transmits, t.index));
      std::push_heap(t.lane->order.begin(), t.lane->order.end(), std::greater<>{});
    }
  }
  for (auto& q : lanes_) maybe_compact(q);
  return used;
}

std::optional<std::uint32_t> BroadcastQueue::transmits(std::string_view key) const {
  const Id id = strings_->keys.find(key);
  if (id == StringTable::kNone) return std::nullopt;
  for (const auto& q : lanes_) {
    if (const auto index = lookup(q, id); index != kNoIndex) return q.items[index].transmits;
  }
  return std::nullopt;
}

bool BroadcastQueue::contains(std::string_view key) const { return transmits(key).has_value(); }

void BroadcastQueue::clear() {
  for (auto& q : lanes_) {
    for (std::size_t i = 0; i < q.items.size(); ++i) {
      if (q.items[i].part != StringTable::kNone) erase(q, static_cast<std::uint32_t>(i));
    }
    q = LaneQueue{};
  }
}

}  // namespace constellation::gossip
