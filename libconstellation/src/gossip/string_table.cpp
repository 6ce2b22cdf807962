// SPDX-License-Identifier: Apache-2.0
#include "gossip/string_table.hpp"

#include "core/assert.hpp"

namespace constellation::gossip {

StringTable::Id StringTable::acquire(std::string_view value) {
  if (auto it = index_.find(value); it != index_.end()) {
    retain(it->second);
    return it->second;
  }
  Id id;
  if (free_.empty()) {
    CST_ASSERT(entries_.size() < kNone);
    id = static_cast<Id>(entries_.size());
    entries_.emplace_back();
  } else {
    id = free_.back();
    free_.pop_back();
  }
  Entry& e = entries_[id];
  e.value.assign(value);
  e.refs = 1;
  index_.emplace(e.value, id);
  return id;
}

void StringTable::retain(Id id) {
  CST_ASSERT(id < entries_.size() && entries_[id].refs > 0);
  CST_ASSERT(entries_[id].refs < std::numeric_limits<std::uint32_t>::max());
  entries_[id].refs += 1;
}

void StringTable::release(Id id) {
  CST_ASSERT(id < entries_.size() && entries_[id].refs > 0);
  Entry& e = entries_[id];
  if (--e.refs > 0) return;
  index_.erase(e.value);
  // Give the memory back too: a forgotten value may have been large (an encoded broadcast).
  std::string().swap(e.value);
  free_.push_back(id);
}

StringTable::Id StringTable::find(std::string_view value) const {
  auto it = index_.find(value);
  return it == index_.end() ? kNone : it->second;
}

std::string_view StringTable::view(Id id) const {
  CST_ASSERT(id < entries_.size() && entries_[id].refs > 0);
  return entries_[id].value;
}

std::uint32_t StringTable::references(Id id) const {
  CST_ASSERT(id < entries_.size());
  return entries_[id].refs;
}

}  // namespace constellation::gossip
