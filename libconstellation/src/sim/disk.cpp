// SPDX-License-Identifier: Apache-2.0
#include "sim/disk.hpp"

namespace constellation::sim {

void Disk::apply(std::map<std::string, core::Bytes>& m, const Op& op) {
  switch (op.kind) {
    case Op::Put: m[op.key] = op.value; break;
    case Op::Erase: m.erase(op.key); break;
    case Op::EraseRange: m.erase(m.lower_bound(op.key), m.lower_bound(op.key_end)); break;
  }
}

void Disk::put(const std::string& key, core::Bytes value) {
  pending_.push_back(Op{Op::Put, key, {}, std::move(value)});
  apply(view_, pending_.back());
}

void Disk::erase(const std::string& key) {
  pending_.push_back(Op{Op::Erase, key, {}, {}});
  apply(view_, pending_.back());
}

void Disk::erase_range(const std::string& from, const std::string& to) {
  pending_.push_back(Op{Op::EraseRange, from, to, {}});
  apply(view_, pending_.back());
}

void Disk::sync() {
  for (const auto& op : pending_) apply(durable_, op);
  pending_.clear();
  ++syncs_;
}

Result<core::Bytes> Disk::get(const std::string& key) {
  if (faults_.read_error > 0 && rng_.chance(faults_.read_error)) {
    return Error(Code::Io, "simulated read error on " + key);
  }
  auto it = view_.find(key);
  if (it == view_.end()) return Error(Code::NotFound, "no record " + key);
  return it->second;
}

std::vector<std::string> Disk::keys(const std::string& from, const std::string& to) const {
  std::vector<std::string> out;
  for (auto it = view_.lower_bound(from); it != view_.end() && it->first < to; ++it) out.push_back(it->first);
  return out;
}

void Disk::crash() {
  if (!pending_.empty() && faults_.torn_on_crash > 0 && rng_.chance(faults_.torn_on_crash)) {
    std::size_t keep = rng_.below(pending_.size());  // strictly fewer than all of them
    for (std::size_t i = 0; i < keep; ++i) apply(durable_, pending_[i]);
  }
  pending_.clear();
  if (!durable_.empty() && faults_.corrupt_on_crash > 0 && rng_.chance(faults_.corrupt_on_crash)) {
    auto it = durable_.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(rng_.below(durable_.size())));
    if (!it->second.empty())
      it->second[rng_.below(it->second.size())] ^= static_cast<std::uint8_t>(1 + rng_.below(255));
  }
  view_ = durable_;
}

}  // namespace constellation::sim
