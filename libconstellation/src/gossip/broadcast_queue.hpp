// SPDX-License-Identifier: Apache-2.0
//
// The transmit-limited broadcast queue (SWIM §4 infection-style dissemination; memberlist
// queue.go). Each item is an encoded packet part, sent on piggyback or gossip packets until it
// has gone out `limit` times (retransmit_mult * ceil(log10(n + 1))). Fewest-sent first, newest
// first among equals. A newer item with the same key (e.g. "about member X") replaces the older
// one, so a node never spreads stale news about a member. User broadcasts live in their own
// bounded lane and get at most a quarter of a packet before membership messages had their turn,
// so they can neither starve membership traffic nor be starved entirely.
#pragma once

#include "core/bytes.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace constellation::gossip {

class BroadcastQueue {
 public:
  enum class Lane : std::uint8_t { Membership, User };

  /// Bounds: the oldest items are dropped beyond these (counted in dropped()).
  explicit BroadcastQueue(std::size_t max_membership = 1u << 16, std::size_t max_user = 1024)
      : max_{max_membership, max_user} {}

  /// Queues `part`; an empty key never replaces anything.
  void push(Lane lane, std::string key, core::Bytes part);
  /// Appends parts that fit in `budget` bytes to `out` (each counted as one transmission; items
  /// reaching `limit` leave the queue). Returns the bytes used.
  std::size_t fill(std::size_t budget, std::uint32_t limit, std::vector<core::Bytes>& out);
  /// Transmissions so far of the item with this key; nullopt when none is queued (never was, or
  /// it was replaced or finished).
  std::optional<std::uint32_t> transmits(const std::string& key) const;
  /// Whether an item with this key is queued.
  bool contains(const std::string& key) const;

  std::size_t size() const { return lanes_[0].items.size() + lanes_[1].items.size(); }
  std::size_t size(Lane lane) const { return lanes_[static_cast<int>(lane)].items.size(); }
  std::uint64_t dropped() const { return dropped_; }
  void clear();

 private:
  struct Item {
    std::uint32_t transmits = 0;
    std::uint64_t id = 0;  // larger = newer
    std::uint64_t packet = 0;  // the last fill() that took it (never twice in one packet)
    std::string key;
    core::Bytes part;
  };
  struct Order {
    bool operator()(const Item* a, const Item* b) const {
      return a->transmits != b->transmits ? a->transmits < b->transmits : a->id > b->id;
    }
  };
  struct LaneQueue {
    std::map<std::uint64_t, Item> items;  // by id
    std::set<Item*, Order> order;
    std::unordered_map<std::string, std::uint64_t> by_key;
  };
  void erase(LaneQueue& q, std::uint64_t id);
  std::size_t fill_lane(LaneQueue& q, std::size_t budget, std::uint32_t limit, std::vector<core::Bytes>& out);

  std::size_t max_[2];
  LaneQueue lanes_[2];
  std::uint64_t next_id_ = 0;
  std::uint64_t packet_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace constellation::gossip
