// SPDX-License-Identifier: Apache-2.0
//
// Interned immutable strings. A StringTable stores each distinct value once and names it by a
// small id, dense from 0, so that code holding many copies of a few strings (every member of a
// cluster knows every other member's name and address; every broadcast queue holds the same news)
// keeps 4-byte ids instead, and can index its own per-value data by id. Values are reference
// counted: acquire() and retain() take a reference, release() gives one back, and a value whose
// last reference is gone is forgotten and its id reused.
//
// Not thread-safe. Gossip cores share tables only when one thread drives them all: the simulator
// does, so its N cores hold each of N names once instead of N times (docs/adr/0060-gossip-core.md).
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace constellation::gossip {

class StringTable {
 public:
  using Id = std::uint32_t;
  /// "No value": never handed out.
  static constexpr Id kNone = std::numeric_limits<Id>::max();

  StringTable() = default;
  StringTable(const StringTable&) = delete;
  StringTable& operator=(const StringTable&) = delete;

  /// The id of `value`, added when new, with one more reference (give it back with release()).
  Id acquire(std::string_view value);
  /// Takes one more reference to a live id.
  void retain(Id id);
  /// Gives back one reference to a live id; the value is forgotten with the last one.
  void release(Id id);
  /// The id of `value`, or kNone when it is not in the table. Takes no reference.
  Id find(std::string_view value) const;
  /// The value of a live id; valid until its last reference is released.
  std::string_view view(Id id) const;
  /// References held on a live id.
  std::uint32_t references(Id id) const;

  /// Live values.
  std::size_t size() const { return index_.size(); }
  /// Every id handed out so far is below this (the size of a vector indexed by id).
  Id id_bound() const { return static_cast<Id>(entries_.size()); }

 private:
  struct Entry {
    std::string value;
    std::uint32_t refs = 0;  // 0: free (its id is in free_)
  };
  std::deque<Entry> entries_;                       // by id; a deque, so the views in index_ survive its growth
  std::vector<Id> free_;                            // ids of forgotten values, reused last in, first out
  std::unordered_map<std::string_view, Id> index_;  // views into entries_[id].value
};

/// The tables a gossip core interns into. By default each core has its own; cores driven by one
/// thread may share one set (gossip::Core's constructor).
struct StringTables {
  /// Member names: a core indexes its member records by these ids.
  StringTable names;
  /// Broadcast queue keys: a queue indexes its items by these ids.
  StringTable keys;
  /// Everything else held in bulk: member addresses and encoded broadcasts.
  StringTable values;
};

}  // namespace constellation::gossip
