// SPDX-License-Identifier: Apache-2.0
#include "spec/placement.hpp"

#include <algorithm>
#include <cstdint>

namespace constellation::spec {

namespace {

std::uint64_t fnv1a(std::string_view a, std::string_view b, std::uint64_t salt) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ (salt * 0x9e3779b97f4a7c15ULL);
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    h ^= 0xff;
    h *= 0x100000001b3ULL;
  };
  mix(a);
  mix(b);
  // Final avalanche (splitmix64) so close inputs rank independently.
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

bool eligible(const Placement& p, const NodeCandidate& node) {
  if (!p.nodes.empty() && std::find(p.nodes.begin(), p.nodes.end(), node.name) == p.nodes.end()) return false;
  for (const auto& t : p.tags) {
    if (std::find(node.tags.begin(), node.tags.end(), t) == node.tags.end()) return false;
  }
  return true;
}

std::vector<int> replicas_for(const ServiceSpec& s, const std::vector<NodeCandidate>& nodes, const std::string& self) {
  std::vector<const NodeCandidate*> ok;
  for (const auto& n : nodes) {
    if (eligible(s.placement, n)) ok.push_back(&n);
  }
  auto is_self = [&](const NodeCandidate* n) { return n->name == self; };
  if (std::none_of(ok.begin(), ok.end(), is_self)) return {};
  if (s.placement.global) return {1};
  const std::string key = s.project + "/" + s.name;
  auto rank = [&](std::uint64_t salt) {
    auto order = ok;
    std::sort(order.begin(), order.end(), [&](const NodeCandidate* a, const NodeCandidate* b) {
      auto ha = fnv1a(key, a->id, salt), hb = fnv1a(key, b->id, salt);
      return ha != hb ? ha > hb : a->id < b->id;
    });
    return order;
  };
  std::vector<int> mine;
  int replicas = s.placement.singleton ? std::min(1, s.replicas) : s.replicas;
  if (s.placement.spread || s.placement.singleton) {
    auto order = rank(0);
    for (int r = 0; r < replicas; ++r) {
      if (is_self(order[static_cast<std::size_t>(r) % order.size()])) mine.push_back(r + 1);
    }
  } else {
    for (int r = 0; r < replicas; ++r) {
      if (is_self(rank(static_cast<std::uint64_t>(r) + 1).front())) mine.push_back(r + 1);
    }
  }
  return mine;
}

std::string singleton_lease(const ServiceSpec& s) { return "service/" + s.project + "/" + s.name; }

std::string instance_id(const ServiceSpec& s, int replica) { return s.name + "-" + std::to_string(replica); }

}  // namespace constellation::spec
