// SPDX-License-Identifier: Apache-2.0
// The public catalog API (catalog.hpp) over catalog::Catalog.
#include <constellation/catalog.hpp>

#include "catalog/catalog.hpp"
#include "catalog/codec.hpp"
#include "services/convert.hpp"

#include <algorithm>

namespace constellation {

namespace services {

HealthStatus to_public(catalog::Health h) { return static_cast<HealthStatus>(static_cast<int>(h)); }
catalog::Health to_internal(HealthStatus h) {
  int v = static_cast<int>(h);
  return static_cast<catalog::Health>(std::clamp(v, 0, 3));
}

CatalogInstance to_public(const catalog::Instance& in) {
  CatalogInstance out;
  out.id = in.id;
  out.service = in.service;
  out.project = in.project;
  out.runtime = in.runtime;
  out.runtime_id = in.runtime_id;
  out.labels = in.labels;
  for (const auto& p : in.ports) out.ports.push_back({p.target, p.published, p.protocol, p.host_ip});
  out.networks = in.networks;
  out.health = to_public(in.health);
  for (const auto& c : in.checks) out.checks.push_back({c.name, to_public(c.status), c.output});
  return out;
}

CatalogNode to_public(const catalog::NodeView& view) {
  const auto& e = view.entry;
  CatalogNode n;
  n.id = e.node.id.to_hex();
  n.name = e.node.name;
  n.roles = e.node.roles;
  n.tags = e.node.tags;
  n.version = e.node.version;
  n.addresses = e.node.addresses;
  n.entry_version = e.version;
  n.state = static_cast<NodeState>(static_cast<int>(view.status));
  for (const auto& in : e.instances) n.instances.push_back(to_public(in));
  return n;
}

CatalogSnapshot to_public(const catalog::Snapshot& s) {
  CatalogSnapshot out;
  out.generation = s.generation;
  out.complete = s.complete;
  for (const auto& [id, view] : s.nodes) out.nodes.push_back(to_public(view));
  return out;
}

Result<catalog::NodeEntry> to_internal(const CatalogNode& n) {
  catalog::NodeEntry e;
  CST_TRY_ASSIGN(e.node.id, core::NodeId::parse(n.id));
  e.node.name = n.name;
  e.node.roles = n.roles;
  e.node.tags = n.tags;
  e.node.version = n.version;
  e.node.addresses = n.addresses;
  e.version = n.entry_version;
  for (const auto& in : n.instances) {
    catalog::Instance x;
    x.id = in.id;
    x.service = in.service;
    x.project = in.project;
    x.runtime = in.runtime;
    x.runtime_id = in.runtime_id;
    x.labels = in.labels;
    for (const auto& p : in.ports) x.ports.push_back({p.target, p.published, p.protocol, p.host_ip});
    x.networks = in.networks;
    x.health = to_internal(in.health);
    for (const auto& c : in.checks) x.checks.push_back({c.name, to_internal(c.status), c.output});
    e.instances.push_back(std::move(x));
  }
  std::sort(e.instances.begin(), e.instances.end(),
            [](const catalog::Instance& a, const catalog::Instance& b) { return a.id < b.id; });
  return e;
}

}  // namespace services

std::string_view health_status_name(HealthStatus status) noexcept {
  int v = static_cast<int>(status);
  if (v < 0 || v > 3) return "unknown";
  return catalog::health_name(static_cast<catalog::Health>(v));
}

std::string_view node_state_name(NodeState state) noexcept {
  int v = static_cast<int>(state);
  if (v < 0 || v > 3) return "unknown";
  return catalog::node_status_name(static_cast<catalog::NodeStatus>(v));
}

std::vector<CatalogEndpoint> CatalogSnapshot::healthy(std::string_view service, std::string_view network,
                                                      bool include_warning) const {
  // Rebuild the internal view of the matching nodes only and reuse the one query implementation.
  catalog::Snapshot s;
  for (const auto& n : nodes) {
    bool has = std::any_of(n.instances.begin(), n.instances.end(),
                           [&](const CatalogInstance& i) { return i.service == service; });
    if (!has) continue;
    auto e = services::to_internal(n);
    if (!e) continue;
    auto id = e->node.id;
    s.nodes.emplace(id, catalog::NodeView{std::move(*e), static_cast<catalog::NodeStatus>(static_cast<int>(n.state))});
  }
  catalog::QueryOptions q;
  q.network = std::string(network);
  q.include_warning = include_warning;
  std::vector<CatalogEndpoint> out;
  for (const auto& ep : catalog::healthy_instances(s, service, q)) {
    out.push_back({ep.node_id.to_hex(), *ep.node_name, ep.address, ep.network, services::to_public(*ep.instance)});
  }
  return out;
}

std::vector<std::string> CatalogSnapshot::services() const {
  std::vector<std::string> out;
  for (const auto& n : nodes) {
    for (const auto& i : n.instances) out.push_back(i.service);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

struct Catalog::Impl {
  catalog::Catalog inner;
  std::shared_ptr<const CatalogSnapshot> current = std::make_shared<const CatalogSnapshot>();
  std::uint64_t next_handle = 1;
  std::vector<std::pair<std::uint64_t, std::function<void(const std::shared_ptr<const CatalogSnapshot>&)>>> subs;
};

Catalog::Catalog() : impl_(std::make_unique<Impl>()) {}
Catalog::~Catalog() = default;
Catalog::Catalog(Catalog&&) noexcept = default;
Catalog& Catalog::operator=(Catalog&&) noexcept = default;

namespace {
MergeResult to_public(catalog::MergeOutcome o) { return static_cast<MergeResult>(static_cast<int>(o)); }
}  // namespace

MergeResult Catalog::merge(const CatalogNode& node) {
  auto e = services::to_internal(node);
  if (!e) return MergeResult::Rejected;
  return to_public(impl_->inner.merge(std::move(*e)));
}

Result<MergeResult> Catalog::merge_encoded(const std::vector<std::uint8_t>& bytes) {
  CST_TRY_ASSIGN(auto e, catalog::decode(core::ByteView(bytes.data(), bytes.size())));
  return to_public(impl_->inner.merge(std::move(e)));
}

bool Catalog::set_state(std::string_view node_id, NodeState state) {
  auto id = core::NodeId::parse(node_id);
  if (!id) return false;
  return impl_->inner.set_status(*id, static_cast<catalog::NodeStatus>(std::clamp(static_cast<int>(state), 0, 3)));
}

bool Catalog::remove(std::string_view node_id) {
  auto id = core::NodeId::parse(node_id);
  return id && impl_->inner.remove(*id);
}

void Catalog::set_complete(bool complete) { impl_->inner.set_complete(complete); }

std::shared_ptr<const CatalogSnapshot> Catalog::publish() {
  if (!impl_->inner.dirty()) return impl_->current;
  auto s = impl_->inner.publish();
  impl_->current = std::make_shared<const CatalogSnapshot>(services::to_public(*s));
  for (const auto& [h, fn] : impl_->subs) fn(impl_->current);
  return impl_->current;
}

std::shared_ptr<const CatalogSnapshot> Catalog::snapshot() const { return impl_->current; }

std::uint64_t Catalog::subscribe(std::function<void(const std::shared_ptr<const CatalogSnapshot>&)> fn) {
  auto h = impl_->next_handle++;
  impl_->subs.emplace_back(h, std::move(fn));
  return h;
}

void Catalog::unsubscribe(std::uint64_t handle) {
  std::erase_if(impl_->subs, [&](const auto& s) { return s.first == handle; });
}

Result<std::vector<std::uint8_t>> Catalog::encode(const CatalogNode& node) {
  CST_TRY_ASSIGN(auto e, services::to_internal(node));
  CST_TRY(catalog::validate(e));
  return catalog::encode(e);
}

Result<CatalogNode> Catalog::decode(const std::vector<std::uint8_t>& bytes) {
  CST_TRY_ASSIGN(auto e, catalog::decode(core::ByteView(bytes.data(), bytes.size())));
  return services::to_public(catalog::NodeView{std::move(e), catalog::NodeStatus::Alive});
}

}  // namespace constellation
