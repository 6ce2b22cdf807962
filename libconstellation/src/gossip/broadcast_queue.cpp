// SPDX-License-Identifier: Apache-2.0
#include "gossip/broadcast_queue.hpp"

namespace constellation::gossip {

void BroadcastQueue::erase(LaneQueue& q, std::uint64_t id) {
  auto it = q.items.find(id);
  if (it == q.items.end()) return;
  q.order.erase(&it->second);
  if (!it->second.key.empty()) {
    auto k = q.by_key.find(it->second.key);
    if (k != q.by_key.end() && k->second == id) q.by_key.erase(k);
  }
  q.items.erase(it);
}

void BroadcastQueue::push(Lane lane, std::string key, core::Bytes part) {
  auto& q = lanes_[static_cast<int>(lane)];
  if (!key.empty()) {
    auto k = q.by_key.find(key);
    if (k != q.by_key.end()) erase(q, k->second);
  }
  const std::uint64_t id = ++next_id_;
  auto [it, inserted] = q.items.emplace(id, Item{0, id, 0, key, std::move(part)});
  q.order.insert(&it->second);
  if (!key.empty()) q.by_key[key] = id;
  // Over the bound: drop the oldest (lowest id) — it has had the most time to spread.
  while (q.items.size() > max_[static_cast<int>(lane)]) {
    erase(q, q.items.begin()->first);
    ++dropped_;
  }
}

std::size_t BroadcastQueue::fill_lane(LaneQueue& q, std::size_t budget, std::uint32_t limit,
                                      std::vector<core::Bytes>& out) {
  std::size_t used = 0;
  std::vector<Item*> sent;
  std::size_t skipped = 0;
  for (auto it = q.order.begin(); it != q.order.end() && budget - used > 2; ++it) {
    Item* item = *it;
    if (item->packet == packet_) continue;
    if (item->part.size() > budget - used) {
      if (++skipped > 32) break;  // bounded scan: the rest waits for the next packet
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

std::size_t BroadcastQueue::fill(std::size_t budget, std::uint32_t limit, std::vector<core::Bytes>& out) {
  auto& members = lanes_[0];
  auto& users = lanes_[1];
  std::size_t used = 0;
  ++packet_;
  if (!users.items.empty()) used += fill_lane(users, budget / 4, limit, out);
  used += fill_lane(members, budget - used, limit, out);
  if (!users.items.empty() && budget > used) used += fill_lane(users, budget - used, limit, out);
  return used;
}

std::optional<std::uint32_t> BroadcastQueue::transmits(const std::string& key) const {
  for (const auto& q : lanes_) {
    auto k = q.by_key.find(key);
    if (k != q.by_key.end()) return q.items.at(k->second).transmits;
  }
  return std::nullopt;
}

bool BroadcastQueue::contains(const std::string& key) const {
  return lanes_[0].by_key.count(key) > 0 || lanes_[1].by_key.count(key) > 0;
}

void BroadcastQueue::clear() {
  for (auto& q : lanes_) {
    q.order.clear();
    q.by_key.clear();
    q.items.clear();
  }
}

}  // namespace constellation::gossip
