// SPDX-License-Identifier: Apache-2.0
#include "catalog/catalog.hpp"

#include "catalog/codec.hpp"

#include <algorithm>
#include <set>

namespace constellation::catalog {

const NodeEntry& winner(const NodeEntry& a, const NodeEntry& b) {
  if (a.version != b.version) return a.version > b.version ? a : b;
  if (a == b) return a;
  // Equal versions, different contents: a total order on the encodings decides, so every node
  // picks the same one whatever the arrival order.
  auto ea = encode(a);
  auto eb = encode(b);
  return std::lexicographical_compare(ea.begin(), ea.end(), eb.begin(), eb.end()) ? b : a;
}

Catalog::Catalog() : current_(std::make_shared<const Snapshot>()) {}

void Catalog::touch(const core::NodeId& id) {
  updated_.push_back(id);
  dirty_ = true;
}

template <class E>
MergeOutcome Catalog::merge_impl(E&& entry) {
  if (!validate(entry)) return MergeOutcome::Rejected;
  auto it = nodes_.find(entry.node.id);
  if (it == nodes_.end()) {
    auto id = entry.node.id;
    nodes_.emplace(id, NodeView{std::forward<E>(entry), NodeStatus::Alive});
    touch(id);
    return MergeOutcome::Applied;
  }
  auto& held = it->second.entry;
  if (held.version > entry.version) return MergeOutcome::Stale;
  if (held == entry) return MergeOutcome::Duplicate;
  if (&winner(held, entry) == &held) return MergeOutcome::Stale;
  held = std::forward<E>(entry);
  touch(it->first);
  return MergeOutcome::Applied;
}

MergeOutcome Catalog::merge(NodeEntry&& entry) { return merge_impl(std::move(entry)); }
MergeOutcome Catalog::merge(const NodeEntry& entry) { return merge_impl(entry); }

bool Catalog::set_status(const core::NodeId& id, NodeStatus status) {
  auto it = nodes_.find(id);
  if (it == nodes_.end() || it->second.status == status) return false;
  it->second.status = status;
  touch(id);
  return true;
}

bool Catalog::remove(const core::NodeId& id) {
  if (nodes_.erase(id) == 0) return false;
  removed_.push_back(id);
  dirty_ = true;
  return true;
}

void Catalog::set_complete(bool complete) {
  if (complete_ == complete) return;
  complete_ = complete;
  dirty_ = true;
}

const NodeView* Catalog::find(const core::NodeId& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<DigestItem> Catalog::digest() const {
  std::vector<DigestItem> out;
  out.reserve(nodes_.size());
  for (const auto& [id, view] : nodes_) out.push_back({id, view.entry.version});
  return out;
}

std::vector<const NodeEntry*> Catalog::newer_than(const std::vector<DigestItem>& theirs) const {
  std::map<core::NodeId, std::uint64_t> known;
  for (const auto& d : theirs) {
    auto [it, inserted] = known.emplace(d.id, d.version);
    if (!inserted) it->second = std::max(it->second, d.version);
  }
  std::vector<const NodeEntry*> out;
  for (const auto& [id, view] : nodes_) {
    auto it = known.find(id);
    if (it == known.end() || it->second < view.entry.version) out.push_back(&view.entry);
  }
  return out;
}

SnapshotPtr Catalog::publish() {
  if (!dirty_) return current_;
  auto next = std::make_shared<Snapshot>();
  next->generation = current_->generation + 1;
  next->complete = complete_;
  next->nodes = nodes_;
  current_ = std::move(next);

  Change change;
  change.generation = current_->generation;
  std::set<core::NodeId> removed(removed_.begin(), removed_.end());
  std::set<core::NodeId> updated;
  for (const auto& id : updated_) {
    if (nodes_.count(id)) updated.insert(id);
  }
  // A node removed and re-added in one batch is an update, not a removal.
  for (const auto& id : updated) removed.erase(id);
  change.updated.assign(updated.begin(), updated.end());
  change.removed.assign(removed.begin(), removed.end());
  updated_.clear();
  removed_.clear();
  dirty_ = false;
  for (const auto& [handle, fn] : subscribers_) fn(current_, change);
  return current_;
}

std::uint64_t Catalog::subscribe(Subscriber fn) {
  auto handle = next_subscriber_++;
  subscribers_.emplace_back(handle, std::move(fn));
  return handle;
}

void Catalog::unsubscribe(std::uint64_t handle) {
  std::erase_if(subscribers_, [&](const auto& s) { return s.first == handle; });
}

// --- queries -------------------------------------------------------------------------------------

bool routable(NodeStatus status, Health health, const QueryOptions& options) {
  if (status != NodeStatus::Alive && status != NodeStatus::Suspect) return false;
  return health == Health::Passing || (options.include_warning && health == Health::Warning);
}

namespace {

// The address an endpoint on `node` is reached at for `network`; false when unreachable.
bool pick_address(const Node& node, const Instance& in, std::string_view network, std::string& address,
                  std::string& chosen) {
  if (!network.empty()) {
    if (!in.networks.empty() && std::find(in.networks.begin(), in.networks.end(), network) == in.networks.end()) {
      return false;
    }
    auto it = node.addresses.find(std::string(network));
    if (it == node.addresses.end()) return false;
    address = it->second;
    chosen = it->first;
    return true;
  }
  auto it = node.addresses.find(std::string(kNetworkBackend));
  if (it == node.addresses.end() && !in.networks.empty()) {
    for (const auto& n : in.networks) {
      if ((it = node.addresses.find(n)) != node.addresses.end()) break;
    }
  }
  if (it == node.addresses.end() && !node.addresses.empty()) it = node.addresses.begin();
  if (it != node.addresses.end()) {
    address = it->second;
    chosen = it->first;
  }
  return true;
}

template <class Pred>
std::vector<Endpoint> collect(const Snapshot& snapshot, std::string_view service, std::string_view network,
                              Pred pred) {
  std::vector<Endpoint> out;
  for (const auto& [id, view] : snapshot.nodes) {
    for (const auto& in : view.entry.instances) {
      if (in.service != service || !pred(view, in)) continue;
      Endpoint e;
      if (!pick_address(view.entry.node, in, network, e.address, e.network)) continue;
      e.node_id = id;
      e.node_name = &view.entry.node.name;
      e.instance = &in;
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace

std::vector<Endpoint> healthy_instances(const Snapshot& snapshot, std::string_view service,
                                        const QueryOptions& options) {
  return collect(snapshot, service, options.network, [&](const NodeView& v, const Instance& in) {
    return routable(v.status, in.health, options);
  });
}

std::vector<Endpoint> all_instances(const Snapshot& snapshot, std::string_view service) {
  return collect(snapshot, service, {}, [](const NodeView&, const Instance&) { return true; });
}

std::vector<std::string> service_names(const Snapshot& snapshot) {
  std::set<std::string> names;
  for (const auto& [id, view] : snapshot.nodes) {
    for (const auto& in : view.entry.instances) names.insert(in.service);
  }
  return {names.begin(), names.end()};
}

}  // namespace constellation::catalog
