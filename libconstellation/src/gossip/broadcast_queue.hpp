// SPDX-License-Identifier: Apache-2.0
//
// The transmit-limited broadcast queue (SWIM §4 infection-style dissemination; memberlist
// queue.go). Each item is an encoded packet part, sent on piggyback or gossip packets until it
// has gone out `limit` times (retransmit_mult * ceil(log10(n + 1))). Fewest-sent first, newest
// first among equals. A newer item with the same key (e.g. "about member X") replaces the older
// one, so a node never spreads stale news about a member. User broadcasts live in their own
// bounded lane and get at most a quarter of a packet before membership messages had their turn,
// so they can neither starve membership traffic nor be starved entirely.
//
// Sized for every node holding news about every member at once (a whole cluster joining): an item
// is 12 bytes plus 8 in the send order, with no allocation of its own; its key and part are
// interned (string_table.hpp), so queues sharing tables hold equal news once.
#pragma once

#include "core/bytes.hpp"
#include "gossip/string_table.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace constellation::gossip {

class BroadcastQueue {
 public:
  enum class Lane : std::uint8_t { Membership, User };

  /// Bounds: the oldest items are dropped beyond these (counted in dropped()). Keys and parts are
  /// interned in `strings` (keys and values), a private set when null.
  explicit BroadcastQueue(std::size_t max_membership = 1u << 16, std::size_t max_user = 1024,
                          std::shared_ptr<StringTables> strings = nullptr);
  ~BroadcastQueue();
  BroadcastQueue(const BroadcastQueue&) = delete;
  BroadcastQueue& operator=(const BroadcastQueue&) = delete;

  /// Queues `part`; an empty key never replaces anything.
  void push(Lane lane, std::string_view key, core::ByteView part);
  /// Appends parts that fit in `budget` bytes to `out` (each counted as one transmission; items
  /// reaching `limit` leave the queue). Returns the bytes used.
  std::size_t fill(std::size_t budget, std::uint32_t limit, std::vector<core::Bytes>& out);
  /// Transmissions so far of the item with this key; nullopt when none is queued (never was, or
  /// it was replaced or finished).
  std::optional<std::uint32_t> transmits(std::string_view key) const;
  /// Whether an item with this key is queued.
  bool contains(std::string_view key) const;

  std::size_t size() const { return lanes_[0].live + lanes_[1].live; }
  std::size_t size(Lane lane) const { return lanes_[static_cast<int>(lane)].live; }
  std::uint64_t dropped() const { return dropped_; }
  void clear();

 private:
  using Id = StringTable::Id;
  struct Item {
    Id key = StringTable::kNone;   // kNone: pushed without a key
    Id part = StringTable::kNone;  // kNone: erased (a hole until the lane is compacted)
    std::uint32_t transmits = 0;
  };
  // Items of a lane in push order: an item's index orders it by age (a larger index is newer).
  // Erased items stay as holes until holes outnumber live items; then compact() renumbers.
  struct LaneQueue {
    std::deque<Item> items;
    std::size_t live = 0;
    std::size_t oldest = 0;  // no live item below this index
    // The send order: a min-heap of order_key(transmits, index). Entries of erased items stay
    // until they surface (then they are skipped) or the lane is compacted.
    std::vector<std::uint64_t> order;
    std::vector<std::uint32_t> by_key;  // key id -> index of its item, or kNone
  };
  struct Taken {
    LaneQueue* lane;
    std::uint32_t index;
  };

  static std::uint64_t order_key(std::uint32_t transmits, std::size_t index);
  static std::uint32_t index_of(std::uint64_t order_key);
  std::uint32_t lookup(const LaneQueue& q, Id key) const;
  void erase(LaneQueue& q, std::uint32_t index);
  void maybe_compact(LaneQueue& q);
  std::size_t fill_lane(LaneQueue& q, std::size_t budget, std::vector<core::Bytes>& out, std::vector<Taken>& taken);

  std::shared_ptr<StringTables> strings_;
  std::size_t max_[2];
  LaneQueue lanes_[2];
  std::uint64_t dropped_ = 0;
};

}  // namespace constellation::gossip
